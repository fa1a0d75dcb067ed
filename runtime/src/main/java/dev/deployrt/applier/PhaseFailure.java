package dev.deployrt.applier;

import dev.deployrt.archive.InvalidArchiveException;
import dev.deployrt.async.Failures;
import dev.deployrt.deployment.ErrorInfo;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.text.ClientText;
import dev.deployrt.upload.UploadFailure;
import java.nio.file.FileSystemException;
import java.time.Instant;
import java.util.concurrent.CancellationException;

/**
 * A step of applying a release that failed, with the phase it failed in ({@code fetch}, {@code
 * extract}, {@code check}, {@code activate}, {@code health}, {@code revert}), and how such a
 * failure is reported on the deployment ({@link #errorInfo}): a disk error is never reported as a
 * bad archive or a failed fetch.
 */
final class PhaseFailure extends Exception {
  final String phase;

  /** When the node had switched to the release before this failure; null if it had not. */
  final transient Instant switchedAt;

  PhaseFailure(String phase, Throwable cause) {
    this(phase, cause, null);
  }

  PhaseFailure(String phase, Throwable cause, Instant switchedAt) {
    super(phase + " failed", cause);
    this.phase = phase;
    this.switchedAt = switchedAt;
  }

  /**
   * The code a node's failure is reported with (API.md): {@code STORAGE_ERROR} whenever this node's
   * disk refused (whatever the phase), else the phase's own code: {@code FETCH_FAILED}, {@code
   * EXTRACT_FAILED} (also for an archive this node's limits refuse), {@code CHECK_FAILED}, {@code
   * HEALTH_FAILED}, {@code ACTIVATE_FAILED} (also for a failed revert).
   */
  static ErrorInfo errorInfo(Throwable failure, String node) {
    if (failure instanceof PhaseFailure p) {
      Throwable cause = p.getCause();
      // Messages quote paths, which hold the archive's entry names: escaped (ClientText).
      String refused = storageFailure(cause);
      if (refused != null) {
        return ErrorInfo.of(
            p.phase + " failed: this node's disk refused: " + ClientText.printable(refused, 500),
            ErrorCode.STORAGE_ERROR,
            p.phase,
            node);
      }
      ErrorCode code =
          switch (p.phase) {
            case "fetch" -> ErrorCode.FETCH_FAILED;
            case "extract" -> ErrorCode.EXTRACT_FAILED;
            case "check" -> ErrorCode.CHECK_FAILED;
            case "health" -> ErrorCode.HEALTH_FAILED;
            default -> ErrorCode.ACTIVATE_FAILED;
          };
      String message =
          ClientText.printable(
              cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName(),
              500);
      return ErrorInfo.of(
          cause instanceof InvalidArchiveException ? message : p.phase + " failed: " + message,
          code,
          p.phase,
          node);
    }
    return ErrorInfo.of(String.valueOf(failure), ErrorCode.APPLY_FAILED, "distribute", node);
  }

  /**
   * What the disk said, if {@code failure} is the disk's (a file-system error among its causes);
   * else null.
   */
  private static String storageFailure(Throwable failure) {
    FileSystemException fs = Failures.find(FileSystemException.class, failure);
    if (fs != null) {
      return fs.getMessage();
    }
    UploadFailure upload = Failures.find(UploadFailure.class, failure);
    if (upload != null && upload.code() == ErrorCode.INSUFFICIENT_STORAGE) {
      return upload.getMessage();
    }
    if (upload != null && upload.code() == ErrorCode.STORAGE_ERROR && upload.getCause() != null) {
      return String.valueOf(upload.getCause().getMessage());
    }
    return null;
  }

  interface Step<T> {
    T run() throws Exception;
  }

  interface VoidStep {
    void run() throws Exception;
  }

  static void act(String phase, Instant switchedAt, VoidStep step) throws PhaseFailure {
    during(
        phase,
        switchedAt,
        () -> {
          step.run();
          return null;
        });
  }

  /**
   * Runs one blocking step of {@code phase}: its failure (not a cancellation) as a PhaseFailure.
   */
  static <T> T during(String phase, Instant switchedAt, Step<T> step) throws PhaseFailure {
    try {
      return step.run();
    } catch (CancellationException e) {
      throw e;
    } catch (Exception e) {
      throw new PhaseFailure(phase, e, switchedAt);
    }
  }
}
