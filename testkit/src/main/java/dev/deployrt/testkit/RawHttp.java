package dev.deployrt.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;

/**
 * Reading HTTP/1.1 answers off a raw socket, for tests that must put arbitrary bytes on the wire.
 */
public final class RawHttp {
  private RawHttp() {}

  /**
   * A status and a body (the request asked for {@code Connection: close}, so the body ends at EOF).
   */
  public record Answer(int status, String head, String body) {}

  /**
   * Reads until the server closes. A reset after some bytes arrived (the server answered early and
   * closed with request bytes unread) keeps what arrived.
   */
  public static Answer read(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
      }
    } catch (SocketException e) {
      if (out.size() == 0) {
        throw e;
      }
    }
    String text = out.toString(StandardCharsets.UTF_8);
    int headEnd = text.indexOf("\r\n\r\n");
    if (!text.startsWith("HTTP/1.1 ") || headEnd < 0) {
      throw new IOException("no HTTP answer: '" + text + "'");
    }
    return new Answer(
        Integer.parseInt(text.substring(9, 12)),
        text.substring(0, headEnd),
        text.substring(headEnd + 4));
  }
}
