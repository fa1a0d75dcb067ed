package dev.deployrt.peer;

import dev.deployrt.fanout.PieceManifest;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Authorization;
import org.apache.pekko.http.javadsl.model.headers.HttpCredentials;
import org.apache.pekko.stream.Materializer;

/**
 * Node-to-node HTTP calls to the internal endpoints ({@code /internal/...}) of another node's
 * operations API, authenticated with the cluster secret (scheme {@value #SCHEME}), which user
 * endpoints refuse and users never hold. With TLS on, the secret is only ever sent over https: a
 * call to a peer that advertises a plain-http endpoint fails before anything is sent.
 */
public final class PeerClient {
  public static final String SCHEME = "Cluster";

  /**
   * Read size for streaming a blob file to a peer. FileIO's default (8 KiB) makes the HTTP layer
   * handle 25,600 elements per 200 MiB and caps a transfer near 300 MB/s on this class of machine.
   */
  public static final int TRANSFER_CHUNK_BYTES = 512 * 1024;

  private final ActorSystem<?> system;
  private final Materializer mat;
  private final PeerDirectory directory;
  private final CompletionStage<String> secret;
  private final HttpsConnectionContext https;

  /**
   * @param tls what to trust when calling a peer over https; empty = the JVM's default trust
   */
  public PeerClient(
      ActorSystem<?> system,
      PeerDirectory directory,
      CompletionStage<String> secret,
      Optional<SSLContext> tls) {
    this.system = system;
    this.mat = Materializer.matFromSystem(system);
    this.directory = directory;
    this.secret = secret;
    this.https = tls.map(ConnectionContext::httpsClient).orElse(null);
  }

  public Materializer materializer() {
    return mat;
  }

  /** The base URL of {@code node}'s operations API, if it has announced one. */
  public Optional<String> endpoint(String node) {
    return Optional.ofNullable(directory.peer(node).endpoint());
  }

  /**
   * Blocking: sends {@code request} (a path under the node's endpoint) and waits for the response
   * headers.
   */
  public HttpResponse send(String node, HttpRequest request, Duration timeout) throws Exception {
    String base =
        endpoint(node)
            .orElseThrow(() -> new IOException("node " + node + " has no known API endpoint"));
    if (https != null && !base.startsWith("https:")) {
      // This node runs TLS, so the secret may only travel encrypted: a peer advertising plain http
      // is misconfigured (or an impostor's directory entry), and gets nothing.
      throw new IOException(
          "not sending the cluster secret to node "
              + node
              + " over plain http ("
              + base
              + "): this node has TLS on; give every node deploy.http.tls");
    }
    String key = secret.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    HttpRequest addressed =
        request
            .withUri(base + request.getUri().toString())
            .addHeader(Authorization.create(HttpCredentials.create(SCHEME, key)));
    Http http = Http.get(system);
    CompletionStage<HttpResponse> response =
        https != null ? http.singleRequest(addressed, https) : http.singleRequest(addressed);
    return response.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Blocking: the piece manifest of payload {@code sha256} from {@code node}, which waits up to
   * {@code wait} to have one. Throws if the node answers anything else.
   */
  public PieceManifest manifest(String node, String sha256, Duration wait) throws Exception {
    HttpResponse response =
        send(node, HttpRequest.GET(PeerPaths.manifest(sha256, wait)), wait.plusSeconds(30));
    if (response.status().intValue() != 200) {
      throw new IOException("no piece manifest from " + node + ": " + describe(response));
    }
    return PieceManifest.fromJson(
        response
            .entity()
            .toStrict(30_000, mat)
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS)
            .getData()
            .utf8String());
  }

  /**
   * Blocking: a non-success response's body, shortened, for an error message; the entity is
   * consumed.
   */
  public String describe(HttpResponse response) {
    try {
      String body =
          response
              .entity()
              .toStrict(2000, mat)
              .toCompletableFuture()
              .get(3, TimeUnit.SECONDS)
              .getData()
              .utf8String();
      return "HTTP "
          + response.status().intValue()
          + " "
          + (body.length() > 300 ? body.substring(0, 300) : body);
    } catch (Exception e) {
      response.discardEntityBytes(mat);
      return "HTTP " + response.status().intValue();
    }
  }
}
