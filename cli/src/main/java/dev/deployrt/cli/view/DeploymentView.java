package dev.deployrt.cli.view;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.function.LongSupplier;

/**
 * How a deploy or a tail shows itself: the upload's progress, then each event of the deployment as
 * it arrives, then the outcome. {@link TerminalView} draws a progress bar and live status on a
 * terminal; {@link PlainView} writes one line per event for logs and CI; {@link #silent()} writes
 * nothing (for {@code --json}, which prints only the final deployment).
 */
public interface DeploymentView {
  /**
   * The upload starts: {@code total} bytes expected (-1 if unknown), {@code sent} reads progress.
   */
  void uploadStarted(String what, long total, LongSupplier sent);

  /** More of the upload was handed to the HTTP client (called on its thread, often). */
  default void uploadProgressed() {}

  /** The upload's bytes are all sent and the node answered (or the upload ended with an error). */
  void uploadFinished(long bytes, double seconds);

  void event(JsonNode event);

  /** The deployment is terminal; {@code deployment} is its final state. */
  void finished(JsonNode deployment);

  static DeploymentView silent() {
    return new DeploymentView() {
      @Override
      public void uploadStarted(String what, long total, LongSupplier sent) {}

      @Override
      public void uploadFinished(long bytes, double seconds) {}

      @Override
      public void event(JsonNode event) {}

      @Override
      public void finished(JsonNode deployment) {}
    };
  }
}
