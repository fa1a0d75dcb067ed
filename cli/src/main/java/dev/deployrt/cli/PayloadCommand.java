package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.cli.view.Format;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code deployctl payload get ID -o FILE} and {@code payload delete ID}. */
@Command(
    name = "payload",
    mixinStandardHelpOptions = true,
    description = "Download or reclaim a deployment's stored payload.",
    subcommands = {PayloadCommand.Get.class, PayloadCommand.Delete.class})
final class PayloadCommand {

  /**
   * Streams the payload into a temporary file next to FILE while hashing it, and renames it over
   * FILE only when the SHA-256 matches the node's ETag: FILE is never left half-written.
   */
  @Command(
      name = "get",
      mixinStandardHelpOptions = true,
      description = "Download the payload (.tar.gz), verified against its SHA-256.")
  static final class Get implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Option(
        names = {"-o", "--output"},
        required = true,
        paramLabel = "FILE",
        description = "Where to write it (- for stdout).")
    String output;

    @Override
    public Integer call() throws IOException {
      DeployCtl root = DeployCtl.of(spec);
      HttpResponse<InputStream> r = root.client().download("/deployments/" + id + "/payload");
      String etag = r.headers().firstValue("ETag").orElse("").replace("\"", "");
      String expected = etag.startsWith("sha256:") ? etag.substring("sha256:".length()) : null;
      MessageDigest sha = sha256();
      if (output.equals("-")) {
        long n = copy(r.body(), root.session.out(), sha);
        root.session.out().flush();
        check(expected, sha, null);
        root.session.err().println("deployctl: wrote " + Format.bytes(n) + " to stdout");
        return 0;
      }
      Path target = Path.of(output).toAbsolutePath();
      Path temp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".part");
      try {
        long n;
        try (InputStream in = r.body();
            OutputStream out = Files.newOutputStream(temp)) {
          n = copy(in, out, sha);
        }
        check(expected, sha, temp);
        Files.move(
            temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        root.session
            .out()
            .println("wrote " + Format.bytes(n) + " to " + output + " (sha256 " + expected + ")");
        return 0;
      } finally {
        Files.deleteIfExists(temp);
      }
    }

    private static long copy(InputStream in, OutputStream out, MessageDigest sha)
        throws IOException {
      byte[] buffer = new byte[256 * 1024];
      long total = 0;
      for (int n; (n = in.read(buffer)) >= 0; ) {
        sha.update(buffer, 0, n);
        out.write(buffer, 0, n);
        total += n;
      }
      return total;
    }

    private static void check(String expected, MessageDigest sha, Path temp) {
      String actual = HexFormat.of().formatHex(sha.digest());
      if (expected != null && !expected.equals(actual)) {
        throw new CliException(
            CliException.FAILED,
            "the download's SHA-256 is "
                + actual
                + ", the node says "
                + expected
                + (temp == null ? "" : "; nothing was written"));
      }
    }

    private static MessageDigest sha256() {
      try {
        return MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description =
          "Reclaim the payload's space on every node (admin; not for a running deployment or a project's active release).")
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      DeployCtl root = DeployCtl.of(spec);
      JsonNode answer = root.client().delete("/deployments/" + id + "/payload");
      root.session
          .out()
          .println(
              "payload of "
                  + id
                  + " deleted: "
                  + Format.bytes(answer.path("freed_bytes").asLong())
                  + " freed");
      return 0;
    }
  }
}
