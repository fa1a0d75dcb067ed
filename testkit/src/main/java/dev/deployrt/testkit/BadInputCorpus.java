package dev.deployrt.testkit;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Hostile and malformed requests to the operations API, each with the answer the contract (API.md,
 * "Errors") requires. A case is a raw HTTP/1.1 request, so it can be anything a client could put on
 * the wire: a lying {@code Content-Length}, a body cut off, chunked bodies, broken multipart.
 *
 * <p>The node under test must run with {@link #NODE_SETTINGS} (small limits, so oversize cases stay
 * small). A case names the credentials it sends ({@link Credentials}); the runner supplies them.
 * Each case deploys to a project of its own ({@code corpus-<n>}) unless the project name is the
 * point.
 */
public final class BadInputCorpus {
  /** Upload limit of the node under test. */
  public static final long MAX_UPLOAD_BYTES = 2L * 1024 * 1024;

  /** Expanded-size limit of the node under test. */
  public static final long MAX_EXPANDED_BYTES = 32L * 1024 * 1024;

  /** Settings the node under test must run with. */
  public static final Map<String, Object> NODE_SETTINGS =
      Map.of(
          "deploy.upload.max-bytes",
          MAX_UPLOAD_BYTES,
          "deploy.archive.max-expanded-bytes",
          MAX_EXPANDED_BYTES,
          "deploy.archive.max-entries",
          1000,
          "deploy.upload.stall-timeout",
          "10s");

  /** Whose credentials a case sends. */
  public enum Credentials {
    /** The admin's password. */
    ADMIN,
    /** A user with role viewer. */
    VIEWER,
    /** No Authorization header. */
    NONE,
    /** The admin's name with a wrong password. */
    WRONG_PASSWORD,
    /** A Bearer token that was revoked. */
    REVOKED_TOKEN,
    /**
     * A valid user Bearer token (for the internal endpoints, which take only the cluster secret).
     */
    USER_TOKEN
  }

  /** How the client ends the request. */
  public enum Ending {
    /** Sends everything and waits for the answer. */
    COMPLETE,
    /**
     * Sends what it has, then closes its sending side (a client that goes away or lied about the
     * length).
     */
    HALF_CLOSE
  }

  /**
   * @param name what the case is
   * @param credentials whose credentials to add
   * @param head request line and headers, without {@code Authorization}, {@code Host} and the blank
   *     line
   * @param body bytes sent after the headers (exactly these, whatever the headers claim)
   * @param ending how the client ends
   * @param status the HTTP status the node must answer with
   * @param code the error {@code code} it must carry
   * @param recorded whether the attempt must leave a failed deployment record with that code
   */
  public record Case(
      String name,
      Credentials credentials,
      String head,
      byte[] body,
      Ending ending,
      int status,
      String code,
      boolean recorded) {
    @Override
    public String toString() {
      return name;
    }

    /** The request bytes, with {@code authorization} (a full header value, or null for none). */
    public byte[] request(String authorization) {
      StringBuilder h = new StringBuilder(head);
      h.append("Host: 127.0.0.1\r\nConnection: close\r\n");
      if (authorization != null) {
        h.append("Authorization: ").append(authorization).append("\r\n");
      }
      h.append("\r\n");
      byte[] headBytes = h.toString().getBytes(StandardCharsets.ISO_8859_1);
      byte[] out = Arrays.copyOf(headBytes, headBytes.length + body.length);
      System.arraycopy(body, 0, out, headBytes.length, body.length);
      return out;
    }
  }

  private BadInputCorpus() {}

  /** Every case. */
  public static List<Case> cases() {
    CorpusWriter.Sink sink = new CorpusWriter.Sink();
    new PayloadCases(sink).write();
    new RequestCases(sink).write();
    return List.copyOf(sink.cases);
  }
}
