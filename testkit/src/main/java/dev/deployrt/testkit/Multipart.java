package dev.deployrt.testkit;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds multipart/form-data bodies exactly as given, well-formed or not. */
public final class Multipart {
  public static final String BOUNDARY = "----deploytest7MA4YWxkTrZu0gW";
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  public Multipart field(String name, String value) {
    write(
        "--"
            + BOUNDARY
            + "\r\nContent-Disposition: form-data; name=\""
            + name
            + "\"\r\n\r\n"
            + value
            + "\r\n");
    return this;
  }

  public Multipart file(String name, String filename, byte[] content) {
    write(
        "--"
            + BOUNDARY
            + "\r\nContent-Disposition: form-data; name=\""
            + name
            + "\"; filename=\""
            + filename
            + "\"\r\nContent-Type: application/gzip\r\n\r\n");
    out.writeBytes(content);
    write("\r\n");
    return this;
  }

  public byte[] build() {
    write("--" + BOUNDARY + "--\r\n");
    return out.toByteArray();
  }

  public static String contentType() {
    return "multipart/form-data; boundary=" + BOUNDARY;
  }

  private void write(String s) {
    out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
  }
}
