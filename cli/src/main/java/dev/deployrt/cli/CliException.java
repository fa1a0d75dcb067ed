package dev.deployrt.cli;

/**
 * A failure the user should read: its message goes to stderr as one sentence saying what to do, and
 * the process exits with {@link #exitCode()} (API.md: 1 deployment failed, 2 usage, 3 auth, 4 not
 * found, 5 server unreachable or unavailable).
 */
public final class CliException extends RuntimeException {
  public static final int FAILED = 1;
  public static final int USAGE = 2;
  public static final int AUTH = 3;
  public static final int NOT_FOUND = 4;
  public static final int UNAVAILABLE = 5;

  private final int exitCode;

  public CliException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public CliException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}
