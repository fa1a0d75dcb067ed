package dev.deployrt.peer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.javadsl.FileIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes a freshly stored payload to other nodes before its upload is acknowledged (distribution
 * has already started meanwhile), so that an acknowledged payload survives the loss of the node
 * that took it. The receiving node verifies the digest and commits the copy to its blob store
 * before it answers (see the internal blob routes).
 *
 * <p>Tries the plan's replicas first, then the other up nodes, until {@code copies - 1} of them
 * hold it or all were tried. Never fails: the answer lists the nodes that now hold a copy, and the
 * caller records a warning when there are fewer than asked for.
 */
public final class PayloadReplicator {
  private static final Logger log = LoggerFactory.getLogger(PayloadReplicator.class);

  private final String self;
  private final PeerClient client;
  private final DistributionSettings settings;
  private final Executor blocking;

  public PayloadReplicator(
      String self, PeerClient client, DistributionSettings settings, Executor blocking) {
    this.self = self;
    this.client = client;
    this.settings = settings;
    this.blocking = blocking;
  }

  /** The nodes (besides this one) that hold {@code blob} once the pushes are done. */
  public CompletionStage<List<String>> replicate(
      String sha256, Path blob, FanOutPlan plan, Set<String> upNodes) {
    int wanted = settings.minCopies() - 1;
    List<String> candidates = new ArrayList<>(plan.order().subList(1, plan.order().size()));
    candidates.retainAll(upNodes);
    if (wanted <= 0 || candidates.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    return CompletableFuture.supplyAsync(
        () -> {
          List<String> done = new ArrayList<>();
          for (String node : candidates) {
            if (done.size() >= wanted) {
              break;
            }
            try {
              long size = Files.size(blob);
              HttpRequest put =
                  HttpRequest.PUT(
                          settings.pieceRelay()
                              ? PeerPaths.push(sha256, self)
                              : PeerPaths.blob(sha256))
                      .withEntity(
                          HttpEntities.create(
                              ContentTypes.APPLICATION_OCTET_STREAM,
                              size,
                              FileIO.fromPath(blob, PeerClient.TRANSFER_CHUNK_BYTES)));
              HttpResponse response = client.send(node, put, settings.pushTimeout());
              if (response.status().isSuccess()) {
                response.discardEntityBytes(client.materializer());
                done.add(node);
              } else {
                log.warn(
                    "replica push of {} to {} refused: {}",
                    sha256,
                    node,
                    client.describe(response));
              }
            } catch (Exception e) {
              log.warn("replica push of {} to {} failed: {}", sha256, node, e.toString());
            }
          }
          return List.copyOf(done);
        },
        blocking);
  }
}
