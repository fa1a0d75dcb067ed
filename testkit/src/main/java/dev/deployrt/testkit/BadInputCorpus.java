package dev.deployrt.testkit;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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

  private final List<Case> cases = new ArrayList<>();
  private int next = 1;

  private BadInputCorpus() {}

  /** Every case. */
  public static List<Case> cases() {
    BadInputCorpus c = new BadInputCorpus();
    c.archives();
    c.bodies();
    c.multipart();
    c.parameters();
    c.credentials();
    return List.copyOf(c.cases);
  }

  private void archives() {
    archive("path traversal ../", Tarball.builder().file("../../evil", "x"));
    archive("path traversal inside a path", Tarball.builder().file("a/../../evil", "x"));
    archive("absolute path", Tarball.builder().file("/tmp/evil", "x"));
    archive("windows traversal", Tarball.builder().file("..\\..\\evil", "x"));
    archive("windows drive letter", Tarball.builder().file("C:\\evil", "x"));
    archive(
        "symlink escaping the root", Tarball.builder().file("a", "x").symlink("up", "../../.."));
    archive("absolute symlink", Tarball.builder().symlink("passwd", "/etc/passwd"));
    archive(
        "write through a symlink", Tarball.builder().dir("d").symlink("s", "d").file("s/f", "x"));
    archive("hard link escaping the root", Tarball.builder().hardlink("h", "../../etc/passwd"));
    archive(
        "hard link to a file not in the archive", Tarball.builder().hardlink("h", "etc/passwd"));
    archive("character device", Tarball.builder().charDevice("null"));
    archive("block device", Tarball.builder().blockDevice("sda"));
    archive("fifo", Tarball.builder().fifo("pipe"));
    archive("duplicate entries", Tarball.builder().file("a", "1").file("a", "2"));
    archive("path over the length limit", Tarball.builder().file("d/".repeat(2100) + "f", "x"));
    archive("a name part over 255 bytes", Tarball.builder().file("n".repeat(256), "x"));
    archive("too many entries", manyFiles(1001));
    // Refused from the header's declared size, before the name is read (the node never buffers it).
    archive("GNU long name over the path limit", Tarball.builder().gnuLongName(64 * 1024, "x"));
    archive("PAX header over its limit", Tarball.builder().paxHeader(200 * 1024, "x"));
    // Declares 40 MiB of zeros: over the expanded-size limit, refused from the header, never
    // inflated.
    archive(
        "gzip bomb (expanded size)",
        Tarball.builder().zeroFile("bomb", MAX_EXPANDED_BYTES + 8L * 1024 * 1024));
    // 20 MiB of zeros is within the expanded-size limit but inflates about 1000:1.
    archive("gzip bomb (compression ratio)", Tarball.builder().zeroFile("bomb", 20L * 1024 * 1024));
    byte[] good = Tarball.builder().randomFile("data.bin", 64 * 1024, 1).toBytes();
    raw(
        "truncated gzip",
        "application/gzip",
        Arrays.copyOf(good, good.length / 2),
        422,
        "INVALID_ARCHIVE");
    byte[] tar = Tarball.builder().file("a", "hello").file("b", "world").tarBytes();
    tar[148] = 'x'; // the first header's checksum field
    tar[100] = 'z'; // and its mode field
    raw("tar with a corrupt header", "application/gzip", Tarball.gzip(tar), 422, "INVALID_ARCHIVE");
    raw(
        "gzip of something that is not a tar",
        "application/gzip",
        Tarball.gzip(
            "just some text, not a tar archive at all".repeat(20).getBytes(StandardCharsets.UTF_8)),
        422,
        "INVALID_ARCHIVE");
    raw(
        "not gzip at all",
        "application/octet-stream",
        "PK\u0003\u0004 a zip file?".getBytes(StandardCharsets.UTF_8),
        422,
        "INVALID_ARCHIVE");
    raw("empty body", "application/gzip", new byte[0], 422, "INVALID_ARCHIVE");
    raw(
        "an archive with no entries",
        "application/gzip",
        Tarball.builder().toBytes(),
        422,
        "INVALID_ARCHIVE");
  }

  private void bodies() {
    byte[] big =
        Tarball.builder().randomFile("big.bin", MAX_UPLOAD_BYTES + 512 * 1024, 2).toBytes();
    raw("oversize body with Content-Length", "application/gzip", big, 413, "PAYLOAD_TOO_LARGE");
    add(
        "oversize body without Content-Length (chunked)",
        Credentials.ADMIN,
        post("/deployments?project=" + project(), "application/gzip")
            + "Transfer-Encoding: chunked\r\n",
        chunked(big),
        Ending.COMPLETE,
        413,
        "PAYLOAD_TOO_LARGE",
        true);
    byte[] ok = Tarball.builder().randomFile("data.bin", 256 * 1024, 3).toBytes();
    add(
        "Content-Length shorter than the body",
        Credentials.ADMIN,
        post("/deployments?project=" + project(), "application/gzip")
            + "Content-Length: "
            + ok.length / 2
            + "\r\n",
        ok,
        Ending.COMPLETE,
        422,
        "INVALID_ARCHIVE",
        true);
    add(
        "Content-Length longer than the body, then the client goes away",
        Credentials.ADMIN,
        post("/deployments?project=" + project(), "application/gzip")
            + "Content-Length: "
            + ok.length * 2
            + "\r\n",
        ok,
        Ending.HALF_CLOSE,
        400,
        "UPLOAD_ABORTED",
        true);
    add(
        "Content-Length that is not a number",
        Credentials.ADMIN,
        post("/deployments?project=" + project(), "application/gzip") + "Content-Length: lots\r\n",
        ok,
        Ending.COMPLETE,
        400,
        "INVALID_REQUEST",
        false);
    raw("unsupported content type", "text/plain", ok, 415, "UNSUPPORTED_MEDIA_TYPE");
  }

  private void multipart() {
    byte[] ok = Tarball.builder().file("index.html", "hi").toBytes();
    multipart(
        "multipart without a boundary",
        "multipart/form-data",
        new Multipart().field("project", project()).file("payload", "c.tar.gz", ok).build());
    multipart(
        "multipart with the file before the fields",
        Multipart.contentType(),
        new Multipart().file("payload", "c.tar.gz", ok).field("project", project()).build());
    multipart(
        "multipart with two file parts",
        Multipart.contentType(),
        new Multipart()
            .field("project", project())
            .file("payload", "a.tar.gz", ok)
            .file("payload", "b.tar.gz", ok)
            .build());
    multipart(
        "multipart without a file part",
        Multipart.contentType(),
        new Multipart().field("project", project()).build());
    multipart(
        "multipart with a reserved field",
        Multipart.contentType(),
        new Multipart()
            .field("project", project())
            .field("status", "succeeded")
            .file("payload", "c.tar.gz", ok)
            .build());
    multipart(
        "multipart with an unknown field",
        Multipart.contentType(),
        new Multipart()
            .field("project", project())
            .field("colour", "red")
            .file("payload", "c.tar.gz", ok)
            .build());
    byte[] whole =
        new Multipart().field("project", project()).file("payload", "c.tar.gz", ok).build();
    String end = "--" + Multipart.BOUNDARY + "--\r\n";
    byte[] brokenEnd =
        Arrays.copyOf(
            whole, whole.length - end.length() + ("--" + Multipart.BOUNDARY).length() - 1);
    multipart("multipart whose closing boundary is broken", Multipart.contentType(), brokenEnd);
    Multipart manyFields = new Multipart().field("project", project());
    for (int i = 0; i < 40; i++) {
      manyFields.field("f" + i, "v");
    }
    multipart(
        "multipart with more fields than the form has",
        Multipart.contentType(),
        manyFields.file("payload", "c.tar.gz", ok).build());
    multipart(
        "multipart description with an escape sequence",
        Multipart.contentType(),
        new Multipart()
            .field("project", project())
            .field("description", "\u001b]0;pwned\u0007\u001b[2J")
            .file("payload", "c.tar.gz", ok)
            .build());
    multipart(
        "multipart that is cut off",
        Multipart.contentType(),
        Arrays.copyOf(
            new Multipart().field("project", project()).file("payload", "c.tar.gz", ok).build(),
            150));
  }

  private void parameters() {
    byte[] ok = Tarball.builder().file("index.html", "hi").toBytes();
    for (String bad : List.of("Web", "-web", "web!", "w".repeat(65), "..", "a/b", "%2e%2e", "")) {
      add(
          "bad project name '" + bad + "'",
          Credentials.ADMIN,
          post("/deployments?project=" + bad, "application/gzip")
              + "Content-Length: "
              + ok.length
              + "\r\n",
          ok,
          Ending.COMPLETE,
          400,
          "INVALID_REQUEST",
          true);
    }
    add(
        "missing project",
        Credentials.ADMIN,
        post("/deployments", "application/gzip") + "Content-Length: " + ok.length + "\r\n",
        ok,
        Ending.COMPLETE,
        400,
        "INVALID_REQUEST",
        true);
    for (String sha : List.of("xyz", "A".repeat(64), "0".repeat(63))) {
      query(
          "bad sha256 '" + sha.substring(0, 3) + "…' (" + sha.length() + ")",
          "sha256=" + sha,
          ok,
          400,
          "INVALID_REQUEST");
    }
    query("sha256 that does not match", "sha256=" + "0".repeat(64), ok, 400, "DIGEST_MISMATCH");
    for (String field :
        List.of(
            "user=mallory",
            "status=succeeded",
            "deployment_id=x",
            "origin_node=n",
            "_x=1",
            "colour=red")) {
      query("query field " + field, field, ok, 400, "INVALID_REQUEST");
    }
    query("a parameter given twice", "project=" + project(), ok, 400, "INVALID_REQUEST");
    query("bad wait", "wait=sometimes", ok, 400, "INVALID_REQUEST");
    query("bad timeout", "timeout=-5", ok, 400, "INVALID_REQUEST");
    query(
        "description over 512 characters",
        "description=" + "d".repeat(513),
        ok,
        400,
        "INVALID_REQUEST");
    query(
        "description with a terminal escape",
        "description=%1B%5B31mred",
        ok,
        400,
        "INVALID_REQUEST");
    query("description with a line break", "description=one%0Atwo", ok, 400, "INVALID_REQUEST");
    query(
        "description with a bidirectional override",
        "description=%E2%80%AEevil",
        ok,
        400,
        "INVALID_REQUEST");
    json(
        "rollback with a reserved field",
        "{\"project\":\""
            + project()
            + "\",\"rollback_of\":\""
            + "00000000-0000-0000-0000-000000000000\",\"user\":\"mallory\"}",
        400,
        "INVALID_REQUEST");
    json(
        "rollback with an underscore field",
        "{\"project\":\"" + project() + "\",\"_origin\":\"x\"}",
        400,
        "INVALID_REQUEST");
    json("rollback body that is not JSON", "{\"project\": ", 400, "INVALID_REQUEST");
    json(
        "rollback with a key given twice",
        "{\"project\":\""
            + project()
            + "\",\"project\":\"other\","
            + "\"rollback_of\":\"00000000-0000-0000-0000-000000000000\"}",
        400,
        "INVALID_REQUEST");
    json(
        "rollback naming the server's internal body key",
        "{\"\\u0000body\":\"forged error text\"}",
        400,
        "INVALID_REQUEST");
  }

  private void credentials() {
    byte[] ok = Tarball.builder().file("index.html", "hi").toBytes();
    String deploy =
        post("/deployments?project=" + project(), "application/gzip")
            + "Content-Length: "
            + ok.length
            + "\r\n";
    add(
        "no credentials",
        Credentials.NONE,
        deploy,
        ok,
        Ending.COMPLETE,
        401,
        "UNAUTHORIZED",
        false);
    add(
        "wrong password",
        Credentials.WRONG_PASSWORD,
        deploy,
        ok,
        Ending.COMPLETE,
        401,
        "UNAUTHORIZED",
        false);
    add(
        "a viewer deploying",
        Credentials.VIEWER,
        deploy,
        ok,
        Ending.COMPLETE,
        403,
        "FORBIDDEN",
        false);
    add(
        "a revoked token",
        Credentials.REVOKED_TOKEN,
        deploy,
        ok,
        Ending.COMPLETE,
        401,
        "UNAUTHORIZED",
        false);
    add(
        "a user token on the internal blob endpoint",
        Credentials.USER_TOKEN,
        "GET /internal/blobs/" + "ab".repeat(32) + " HTTP/1.1\r\n",
        new byte[0],
        Ending.COMPLETE,
        403,
        "FORBIDDEN",
        false);
    add(
        "a user token pushing a blob to the internal endpoint",
        Credentials.USER_TOKEN,
        "PUT /internal/blobs/"
            + "cd".repeat(32)
            + " HTTP/1.1\r\nContent-Type: application/gzip\r\nContent-Length: "
            + ok.length
            + "\r\n",
        ok,
        Ending.COMPLETE,
        403,
        "FORBIDDEN",
        false);
    add(
        "admin credentials on the internal endpoint",
        Credentials.ADMIN,
        "GET /internal/blobs/" + "ef".repeat(32) + " HTTP/1.1\r\n",
        new byte[0],
        Ending.COMPLETE,
        403,
        "FORBIDDEN",
        false);
  }

  // ---- builders ---------------------------------------------------------------------------------

  private String project() {
    return "corpus-" + next++;
  }

  private static String post(String target, String contentType) {
    return "POST " + target + " HTTP/1.1\r\nContent-Type: " + contentType + "\r\n";
  }

  private void add(
      String name,
      Credentials credentials,
      String head,
      byte[] body,
      Ending ending,
      int status,
      String code,
      boolean recorded) {
    cases.add(new Case(name, credentials, head, body, ending, status, code, recorded));
  }

  private void archive(String name, Tarball tarball) {
    raw(name, "application/gzip", tarball.toBytes(), 422, "INVALID_ARCHIVE");
  }

  private void raw(String name, String contentType, byte[] body, int status, String code) {
    add(
        name,
        Credentials.ADMIN,
        post("/deployments?project=" + project(), contentType)
            + "Content-Length: "
            + body.length
            + "\r\n",
        body,
        Ending.COMPLETE,
        status,
        code,
        true);
  }

  private void query(String name, String extra, byte[] body, int status, String code) {
    add(
        name,
        Credentials.ADMIN,
        post("/deployments?project=" + project() + "&" + extra, "application/gzip")
            + "Content-Length: "
            + body.length
            + "\r\n",
        body,
        Ending.COMPLETE,
        status,
        code,
        true);
  }

  private void multipart(String name, String contentType, byte[] body) {
    add(
        name,
        Credentials.ADMIN,
        post("/deployments", contentType) + "Content-Length: " + body.length + "\r\n",
        body,
        Ending.COMPLETE,
        400,
        "INVALID_REQUEST",
        true);
  }

  private void json(String name, String body, int status, String code) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    add(
        name,
        Credentials.ADMIN,
        post("/deployments", "application/json") + "Content-Length: " + bytes.length + "\r\n",
        bytes,
        Ending.COMPLETE,
        status,
        code,
        true);
  }

  private static Tarball manyFiles(int n) {
    Tarball t = Tarball.builder();
    for (int i = 0; i < n; i++) {
      t.file("f" + i, "");
    }
    return t;
  }

  private static byte[] chunked(byte[] body) {
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
