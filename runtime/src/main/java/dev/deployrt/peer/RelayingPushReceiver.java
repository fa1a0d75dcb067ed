package dev.deployrt.peer;

import dev.deployrt.blob.BlobStore;
import dev.deployrt.fanout.PartialBlob;
import dev.deployrt.fanout.PartialBlobs;
import dev.deployrt.fanout.PieceManifest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The replica's side of the origin's push when pieces are relayed: the pushed bytes are cut into
 * the payload's pieces, each checked against the manifest (taken from the origin first) and written
 * into a {@link PartialBlob} that this node's server relays from while the push goes on, so the
 * trees of the piece plan, which start at the replica, do not wait for the whole copy. The blob is
 * committed only when every piece is here and the whole SHA-256 matched; a push that fails leaves
 * nothing.
 */
public final class RelayingPushReceiver {
  private final BlobStore blobs;
  private final PartialBlobs partials;
  private final PeerClient client;
  private final Executor blocking;

  RelayingPushReceiver(
      BlobStore blobs, PartialBlobs partials, PeerClient client, Executor blocking) {
    this.blobs = blobs;
    this.partials = partials;
    this.client = client;
    this.blocking = blocking;
  }

  /** Receives the push of payload {@code sha256} from {@code origin}; the committed blob. */
  public CompletionStage<Path> receive(String sha256, String origin, Source<ByteString, ?> bytes) {
    return CompletableFuture.supplyAsync(() -> manifestFrom(origin, sha256), blocking)
        .thenCompose(manifest -> receive(manifest, bytes));
  }

  private CompletionStage<Path> receive(PieceManifest manifest, Source<ByteString, ?> bytes) {
    PartialBlob partial;
    try {
      partial = PartialBlob.create(blobs, manifest);
    } catch (IOException e) {
      bytes.runWith(Sink.ignore(), client.materializer());
      return CompletableFuture.failedFuture(e);
    }
    partials.add(partial);
    return bytes
        .via(PieceCutter.flow(manifest.pieceBytes()))
        .mapAsync(
            1,
            piece ->
                CompletableFuture.runAsync(
                    () -> {
                      try {
                        partial.write(piece.first(), piece.second());
                      } catch (IOException e) {
                        throw new CompletionException(e);
                      }
                    },
                    blocking))
        .runWith(Sink.ignore(), client.materializer())
        .thenApplyAsync(
            done -> {
              try {
                if (!partial.isComplete()) {
                  throw new IOException(
                      "the push ended after "
                          + partial.heldCount()
                          + " of "
                          + manifest.count()
                          + " pieces");
                }
                return partial.commit();
              } catch (IOException e) {
                throw new CompletionException(e);
              }
            },
            blocking)
        .whenComplete(
            (blob, e) -> {
              if (e != null) {
                partial.abort(e);
              }
              partials.remove(partial);
            });
  }

  private PieceManifest manifestFrom(String origin, String sha256) {
    try {
      return client.manifest(origin, sha256, Duration.ZERO);
    } catch (Exception e) {
      throw new CompletionException(e);
    }
  }

  /** Cuts a byte stream into numbered pieces of {@code pieceBytes} (the last may be shorter). */
  static final class PieceCutter {
    private PieceCutter() {}

    static org.apache.pekko.stream.javadsl.Flow<ByteString, Pair<Integer, ByteBuffer>, ?> flow(
        int pieceBytes) {
      return org.apache.pekko.stream.javadsl.Flow.<ByteString>create()
          .statefulMap(
              () -> new Cut(pieceBytes),
              (cut, chunk) -> Pair.create(cut, cut.add(chunk)),
              cut -> java.util.Optional.of(cut.rest()))
          .mapConcat(pieces -> pieces);
    }

    /** The bytes of the piece being filled, and the number of the next piece. */
    private static final class Cut {
      final int pieceBytes;
      ByteString filling = ByteString.emptyByteString();
      int next;

      Cut(int pieceBytes) {
        this.pieceBytes = pieceBytes;
      }

      List<Pair<Integer, ByteBuffer>> add(ByteString chunk) {
        filling = filling.concat(chunk);
        List<Pair<Integer, ByteBuffer>> full = new java.util.ArrayList<>();
        while (filling.size() >= pieceBytes) {
          full.add(Pair.create(next++, filling.take(pieceBytes).toByteBuffer()));
          filling = filling.drop(pieceBytes);
        }
        return full;
      }

      List<Pair<Integer, ByteBuffer>> rest() {
        return filling.isEmpty() ? List.of() : List.of(Pair.create(next++, filling.toByteBuffer()));
      }
    }
  }
}
