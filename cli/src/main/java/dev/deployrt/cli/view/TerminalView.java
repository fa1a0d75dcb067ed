package dev.deployrt.cli.view;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Help.Ansi.Style;

/**
 * For a person at a terminal: the upload as a progress bar (bytes, rate, ETA; the progressbar
 * library redraws it on stderr), then each phase and each node's status change as a coloured line
 * as it happens, and the outcome. Upload progress events are not repeated: the bar showed them.
 */
public final class TerminalView implements DeploymentView {
  // picocli's terminal styles; the text between them is the server's, so it is never parsed as
  // markup.
  private static final String RESET = Style.reset.on();
  private static final String RED = Style.fg_red.on();
  private static final String GREEN = Style.fg_green.on();
  private static final String YELLOW = Style.fg_yellow.on();
  private static final String DIM = Style.faint.on();

  private final PrintStream out;
  private final PrintStream err;
  private volatile ProgressBar bar;
  private volatile LongSupplier sent;

  public TerminalView(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  @Override
  public void uploadStarted(String what, long total, LongSupplier sent) {
    out.println("uploading " + what);
    out.flush();
    bar =
        new ProgressBarBuilder()
            .setTaskName("upload")
            .setInitialMax(Math.max(total, 0))
            .setUnit(" MiB", 1024 * 1024)
            .showSpeed()
            .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BAR)
            .setUpdateIntervalMillis(200)
            .setConsumer(new ConsoleProgressBarConsumer(err))
            .build();
    this.sent = sent;
  }

  /** Moves the bar; the bar redraws itself on its own schedule (progressbar's refresh thread). */
  @Override
  public void uploadProgressed() {
    ProgressBar current = bar;
    if (current != null) {
      current.stepTo(sent.getAsLong());
    }
  }

  @Override
  public void uploadFinished(long bytes, double seconds) {
    if (bar != null) {
      bar.stepTo(Math.max(bytes, bar.getCurrent()));
      bar.close();
      bar = null;
    }
    out.printf(
        Locale.ROOT,
        "%suploaded %s in %.1f s (%s/s)%s%n",
        DIM,
        Format.bytes(bytes),
        seconds,
        Format.bytes((long) (bytes / Math.max(seconds, 0.001))),
        RESET);
    out.flush();
  }

  @Override
  public void event(JsonNode e) {
    String type = Format.text(e, "type");
    if (type.equals("progress") && "upload".equals(Format.text(e, "phase"))) {
      return;
    }
    String colour =
        switch (type) {
          case "error" -> RED;
          case "warning", "truncated" -> YELLOW;
          case "node" -> nodeColour(Format.text(e, "message"));
          default -> "";
        };
    String mark =
        switch (type) {
          case "node" -> "● ";
          case "phase" -> "▸ ";
          case "error" -> "✖ ";
          case "warning" -> "! ";
          default -> "  ";
        };
    out.println(colour + mark + Format.eventLine(e) + (colour.isEmpty() ? "" : RESET));
    out.flush();
  }

  private static String nodeColour(String message) {
    String m = message.toLowerCase(Locale.ROOT);
    if (m.contains("failed")) {
      return RED;
    }
    if (m.contains("superseded") || m.contains("aborted") || m.contains("reverted")) {
      return YELLOW;
    }
    return m.contains("active") ? GREEN : "";
  }

  @Override
  public void finished(JsonNode d) {
    boolean ok = "succeeded".equals(Format.text(d, "status"));
    out.println((ok ? GREEN + "✔ " : RED + "✖ ") + Format.outcome(d) + RESET);
    out.flush();
  }
}
