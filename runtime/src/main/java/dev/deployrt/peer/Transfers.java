package dev.deployrt.peer;

import dev.deployrt.applier.NodeReporter;
import dev.deployrt.blob.BlobStore;
import dev.deployrt.fanout.PartialBlobs;
import dev.deployrt.fanout.PieceServer;
import dev.deployrt.upload.UploadSettings;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;

/**
 * Payloads between nodes, this node's side: the client of the node-to-node blob protocol ({@link
 * PeerPaths}), the origin's replica push, the fetch of a release's payload from the nodes that hold
 * it, and the cluster-wide reclaim of a deleted payload. Every call carries the cluster secret, and
 * only over TLS when this node runs it.
 */
public final class Transfers {
  private final PeerClient client;
  private final PayloadReplicator replicator;
  private final BlobReclaimer reclaimer;
  private final PeerBlobFetcher fetcher;
  private final String self;
  private final PeerDirectory directory;
  private final Supplier<Set<String>> upNodes;
  private final PieceServer pieces;
  private final RelayingPushReceiver pushReceiver;

  private Transfers(
      PeerClient client,
      PayloadReplicator replicator,
      BlobReclaimer reclaimer,
      PeerBlobFetcher fetcher,
      String self,
      PeerDirectory directory,
      Supplier<Set<String>> upNodes,
      PieceServer pieces,
      RelayingPushReceiver pushReceiver) {
    this.pieces = pieces;
    this.pushReceiver = pushReceiver;
    this.self = self;
    this.directory = directory;
    this.upNodes = upNodes;
    this.client = client;
    this.replicator = replicator;
    this.reclaimer = reclaimer;
    this.fetcher = fetcher;
  }

  /**
   * @param upNodes the members that are up now
   * @param reporter where a fetch reports its progress and problems (the deployment's events)
   * @param blocking where transfers block on the disk
   */
  public static Transfers init(
      ActorSystem<?> system,
      String self,
      BlobStore blobs,
      PeerDirectory directory,
      CompletionStage<String> clusterSecret,
      Optional<SSLContext> tls,
      Supplier<Set<String>> upNodes,
      UploadSettings upload,
      DistributionSettings distribution,
      NodeReporter reporter,
      Executor blocking) {
    PeerClient client = new PeerClient(system, directory, clusterSecret, tls);
    // Close the client's pools before the system stops, or each logs "shut down unexpectedly".
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseServiceStop(),
            "close-peer-connections",
            () ->
                Http.get(system)
                    .shutdownAllConnectionPools()
                    .thenApply(unit -> Done.getInstance()));
    PartialBlobs partials = new PartialBlobs();
    return new Transfers(
        client,
        new PayloadReplicator(self, client, distribution, blocking),
        new BlobReclaimer(self, blobs, directory, client, upNodes, blocking),
        new PeerBlobFetcher(
            self,
            blobs,
            partials,
            directory,
            client,
            upNodes,
            upload,
            distribution,
            reporter,
            blocking),
        self,
        directory,
        upNodes,
        new PieceServer(
            blobs,
            partials,
            distribution.pieceBytes(),
            blocking,
            distribution.corruptServedPieces()),
        new RelayingPushReceiver(blobs, partials, client, blocking));
  }

  /** The other nodes that are up and say they hold the payload {@code sha256}, by name. */
  public List<String> otherHolders(String sha256) {
    return upNodes.get().stream()
        .filter(node -> !node.equals(self) && directory.peer(node).blobs().contains(sha256))
        .sorted()
        .toList();
  }

  /** Calls to other nodes' internal endpoints. */
  public PeerClient client() {
    return client;
  }

  public PayloadReplicator replicator() {
    return replicator;
  }

  public BlobReclaimer reclaimer() {
    return reclaimer;
  }

  /** The pieces of payloads this node holds or is receiving, for other nodes' fetches. */
  public PieceServer pieces() {
    return pieces;
  }

  /** Receives a replica pushed by the origin while relaying its pieces. */
  public RelayingPushReceiver pushReceiver() {
    return pushReceiver;
  }

  public PeerBlobFetcher fetcher() {
    return fetcher;
  }
}
