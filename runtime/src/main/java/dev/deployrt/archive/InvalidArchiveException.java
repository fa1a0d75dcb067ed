package dev.deployrt.archive;

import java.io.IOException;

/**
 * The payload is not a gzip'd tar, or holds an entry that is unsafe or over a limit. The message is
 * a sentence an operator can act on; it never contains a stack trace.
 */
public final class InvalidArchiveException extends IOException {
  public InvalidArchiveException(String message) {
    super(message);
  }

  public InvalidArchiveException(String message, Throwable cause) {
    super(message, cause);
  }
}
