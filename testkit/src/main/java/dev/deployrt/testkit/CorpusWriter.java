package dev.deployrt.testkit;

import dev.deployrt.testkit.BadInputCorpus.Case;
import dev.deployrt.testkit.BadInputCorpus.Credentials;
import dev.deployrt.testkit.BadInputCorpus.Ending;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What the corpus's case families share: the list the cases go to, a fresh project per case ({@code
 * corpus-<n>}), and builders for the usual request shapes.
 */
abstract class CorpusWriter {
  /** The cases written so far and the next project number, shared by every family. */
  static final class Sink {
    final List<Case> cases = new ArrayList<>();
    int next = 1;
  }

  private final Sink sink;

  CorpusWriter(Sink sink) {
    this.sink = sink;
  }

  /** Adds this family's cases. */
  abstract void write();

  String project() {
    return "corpus-" + sink.next++;
  }

  static String post(String target, String contentType) {
    return "POST " + target + " HTTP/1.1\r\nContent-Type: " + contentType + "\r\n";
  }

  void add(
      String name,
      Credentials credentials,
      String head,
      byte[] body,
      Ending ending,
      int status,
      String code,
      boolean recorded) {
    sink.cases.add(new Case(name, credentials, head, body, ending, status, code, recorded));
  }

  void archive(String name, Tarball tarball) {
    raw(name, "application/gzip", tarball.toBytes(), 422, "INVALID_ARCHIVE");
  }

  void raw(String name, String contentType, byte[] body, int status, String code) {
    adminPost(name, "/deployments?project=" + project(), contentType, body, status, code);
  }

  void query(String name, String extra, byte[] body, int status, String code) {
    adminPost(
        name,
        "/deployments?project=" + project() + "&" + extra,
        "application/gzip",
        body,
        status,
        code);
  }

  void multipart(String name, String contentType, byte[] body) {
    adminPost(name, "/deployments", contentType, body, 400, "INVALID_REQUEST");
  }

  void json(String name, String body, int status, String code) {
    adminPost(
        name,
        "/deployments",
        "application/json",
        body.getBytes(StandardCharsets.UTF_8),
        status,
        code);
  }

  /**
   * A complete POST as the admin, with its true Content-Length, that must answer {@code status} and
   * {@code code} and leave a failed record.
   */
  void adminPost(
      String name, String target, String contentType, byte[] body, int status, String code) {
    add(
        name,
        Credentials.ADMIN,
        post(target, contentType) + "Content-Length: " + body.length + "\r\n",
        body,
        Ending.COMPLETE,
        status,
        code,
        true);
  }

  static Tarball manyFiles(int n) {
    Tarball t = Tarball.builder();
    for (int i = 0; i < n; i++) {
      t.file("f" + i, "");
    }
    return t;
  }

  static byte[] chunked(byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int chunk = 64 * 1024;
    for (int off = 0; off < body.length; off += chunk) {
      int n = Math.min(chunk, body.length - off);
      out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(body, off, n);
      out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }
}
