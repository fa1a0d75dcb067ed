package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.cli.pack.ChunkPipe;
import dev.deployrt.cli.pack.DirectoryPacker;
import dev.deployrt.cli.view.DeploymentView;
import dev.deployrt.cli.view.Format;
import dev.deployrt.cli.view.PlainView;
import dev.deployrt.cli.view.TerminalView;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code deployctl deploy <dir|file.tar.gz> --project P}: uploads the component and follows the
 * deployment to its end. A directory is packed as a tar.gz while it is sent (a writer thread packs
 * into a small bounded pipe that the HTTP client reads), so neither memory nor disk holds the whole
 * archive; a file is streamed as it is. The node records the attempt before the first byte, so a
 * failure at any point is on record and is reported with its phase and reason.
 */
@Command(
    name = "deploy",
    mixinStandardHelpOptions = true,
    description =
        "Upload a directory (packed as tar.gz on the fly, honouring .deployignore) or a .tar.gz and follow the deployment.")
final class DeployCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "DIR|FILE",
      description = "A directory to pack, or a .tar.gz file.")
  Path source;

  @Option(
      names = {"-p", "--project"},
      required = true,
      paramLabel = "PROJECT",
      description = "Project name (^[a-z0-9][a-z0-9._-]{0,63}$).")
  String project;

  @Option(
      names = {"-d", "--description"},
      paramLabel = "TEXT",
      description = "What this deploy is (at most 512 characters).")
  String description;

  @Option(
      names = "--no-wait",
      description = "Return once the payload is stored and distribution started.")
  boolean noWait;

  @Option(
      names = "--json",
      description =
          "Print only the final deployment as JSON (with --no-wait: the accepted deployment).")
  boolean json;

  @Option(
      names = "--compression-level",
      paramLabel = "0-9",
      defaultValue = "1",
      description =
          "gzip level when packing a directory (default ${DEFAULT-VALUE}: fast; 9: smallest). Files"
              + " whose first block does not compress are stored whatever the level.")
  int compressionLevel;

  @Override
  public Integer call() throws Exception {
    DeployCtl root = DeployCtl.of(spec);
    Session session = root.session;
    if (!Files.exists(source)) {
      throw new CliException(CliException.USAGE, "no such file or directory: " + source);
    }
    if (compressionLevel < 0 || compressionLevel > 9) {
      throw new CliException(
          CliException.USAGE, "--compression-level must be 0 to 9, not " + compressionLevel);
    }
    ApiClient api = root.client();
    DeploymentView view = views(session, json);

    String query =
        ApiClient.query(
            ApiClient.params("project", project, "description", description, "wait", "false"));
    HttpRequest.Builder request =
        api.request("/deployments" + query).header("Content-Type", "application/gzip");
    Body sending = body(session, request, view);
    CountingInput sent = sending.sent();

    long start = System.nanoTime();
    HttpResponse<String> response;
    try {
      response = api.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (CliException e) {
      Throwable packing = sending.packFailure().get();
      if (packing != null) {
        throw new CliException(
            CliException.FAILED,
            "could not pack "
                + source
                + ": "
                + ApiClient.describe(packing)
                + " (the node records the attempt as aborted)",
            packing);
      }
      throw e;
    } finally {
      if (sending.pipe() != null) {
        sending.pipe().cancel(); // stops the packer if the request ended before it did
      }
      sent.close();
      view.uploadFinished(sent.count(), (System.nanoTime() - start) / 1e9);
    }

    return answer(session, api, view, response);
  }

  /**
   * What is sent and how far it got: a directory is packed by a writer thread into a bounded pipe
   * while it is sent ({@code pipe}, and {@code packFailure} if packing failed); a file is sent as
   * it is.
   */
  private record Body(CountingInput sent, ChunkPipe pipe, AtomicReference<Throwable> packFailure) {}

  /** Puts the source into {@code request} as its body and tells the view the upload started. */
  private Body body(Session session, HttpRequest.Builder request, DeploymentView view)
      throws IOException {
    AtomicReference<Throwable> packFailure = new AtomicReference<>();
    ChunkPipe pipe = null;
    CountingInput sent;
    if (Files.isDirectory(source)) {
      DirectoryPacker packer;
      try {
        packer =
            DirectoryPacker.scan(
                source,
                compressionLevel,
                skipped -> session.err().println("deployctl: skipping " + skipped));
      } catch (IllegalArgumentException e) {
        throw new CliException(CliException.USAGE, e.getMessage());
      } catch (IOException e) {
        throw new CliException(
            CliException.USAGE, "cannot read " + source + ": " + ApiClient.describe(e));
      }
      ChunkPipe p = new ChunkPipe(256 * 1024, 8);
      pipe = p;
      sent = new CountingInput(p.input(), view::uploadProgressed);
      Thread writer =
          new Thread(
              () -> {
                try (var out = p.output()) {
                  packer.writeTo(out);
                } catch (Throwable t) {
                  packFailure.set(t);
                  p.fail(t);
                }
              },
              "deployctl-pack");
      writer.setDaemon(true);
      request.POST(HttpRequest.BodyPublishers.ofInputStream(() -> sent));
      view.uploadStarted(
          source + " (" + packer.entries() + " entries, packed while sending)",
          packer.totalBytes(),
          packer::packedBytes);
      writer.start();
    } else {
      long size = Files.size(source);
      sent = new CountingInput(Files.newInputStream(source), view::uploadProgressed);
      request.POST(
          HttpRequest.BodyPublishers.fromPublisher(
              HttpRequest.BodyPublishers.ofInputStream(() -> sent), size));
      view.uploadStarted(source.toString(), size, (LongSupplier) sent::count);
    }

    return new Body(sent, pipe, packFailure);
  }

  /** Follows the deployment the answer names (or reports the failure it records) to its end. */
  private int answer(
      Session session, ApiClient api, DeploymentView view, HttpResponse<String> response)
      throws Exception {
    JsonNode body =
        response.body().isEmpty() ? ApiClient.object() : ApiClient.parse(response.body());
    if (response.statusCode() / 100 != 2) {
      if (!body.hasNonNull("deployment_id")) {
        throw api.failure(response.statusCode(), response.body());
      }
      // The attempt is on record and ended failed (bad archive, digest, size, ...).
      JsonNode deployment = api.get("/deployments/" + body.get("deployment_id").asText());
      view.finished(deployment);
      return Follower.finish(session, deployment, json);
    }
    String id = body.get("deployment_id").asText();
    if (noWait) {
      session
          .out()
          .println(
              json
                  ? body.toPrettyString()
                  : "deployment "
                      + id
                      + " accepted ("
                      + Format.text(body, "status")
                      + "); follow it with: deployctl tail "
                      + id);
      return 0;
    }
    return Follower.finish(session, Follower.follow(api, id, view), json);
  }

  static DeploymentView views(Session session, boolean json) {
    return json
        ? DeploymentView.silent()
        : session.terminal()
            ? new TerminalView(session.out(), session.err())
            : new PlainView(session.out());
  }

  /**
   * Counts the bytes the HTTP client has read, i.e. sent (compressed, for a directory), and calls
   * {@code onRead} after each read.
   */
  static final class CountingInput extends FilterInputStream {
    private final AtomicLong count = new AtomicLong();
    private final Runnable onRead;

    CountingInput(InputStream in, Runnable onRead) {
      super(in);
      this.onRead = onRead;
    }

    long count() {
      return count.get();
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count.incrementAndGet();
        onRead.run();
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count.addAndGet(n);
        onRead.run();
      }
      return n;
    }
  }
}
