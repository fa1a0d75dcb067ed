package dev.deployrt.cli.view;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/** One line per event on stdout, nothing redrawn: for logs, pipes and CI. */
public final class PlainView implements DeploymentView {
  private final PrintStream out;

  public PlainView(PrintStream out) {
    this.out = out;
  }

  @Override
  public void uploadStarted(String what, long total, LongSupplier sent) {
    out.println("uploading " + what + (total >= 0 ? ": " + Format.bytes(total) : ""));
    out.flush();
  }

  @Override
  public void uploadFinished(long bytes, double seconds) {
    out.printf(
        Locale.ROOT,
        "uploaded %s in %.1f s (%s/s)%n",
        Format.bytes(bytes),
        seconds,
        Format.bytes((long) (bytes / Math.max(seconds, 0.001))));
    out.flush();
  }

  @Override
  public void event(JsonNode event) {
    out.println(Format.eventLine(event));
    out.flush();
  }

  @Override
  public void finished(JsonNode deployment) {
    out.println(Format.outcome(deployment));
    out.flush();
  }
}
