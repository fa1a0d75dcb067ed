package dev.deployrt.testkit;

import dev.deployrt.testkit.BadInputCorpus.Credentials;
import dev.deployrt.testkit.BadInputCorpus.Ending;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Bad payloads: hostile archives, bodies that lie about their length or are too large, broken
 * multipart.
 */
final class PayloadCases extends CorpusWriter {
  PayloadCases(Sink sink) {
    super(sink);
  }

  @Override
  void write() {
    archives();
    limits();
    bodies();
    multipart();
    brokenMultipart();
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
  }

  /** Archives over the node's limits. */
  private void limits() {
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
        Tarball.builder().zeroFile("bomb", BadInputCorpus.MAX_EXPANDED_BYTES + 8L * 1024 * 1024));
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
        Tarball.builder()
            .randomFile("big.bin", BadInputCorpus.MAX_UPLOAD_BYTES + 512 * 1024, 2)
            .toBytes();
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
  }

  private void brokenMultipart() {
    byte[] ok = Tarball.builder().file("index.html", "hi").toBytes();
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
}
