package dev.deployrt.peer;

import dev.deployrt.upload.PayloadUpload;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Relays a payload's bytes from another node to a client while checking them against the payload's
 * SHA-256 and size: each chunk is passed on only once the next one has arrived, and the last only
 * once the whole digest matched. Bytes that do not match (too many, too few, other bytes) fail the
 * stream with a {@link MismatchException} before the last chunk, so a client that was promised the
 * payload's length gets a cut connection, never a complete body of other bytes. A source that fails
 * passes its own failure on; a client that hangs up cancels the relay quietly.
 */
public final class VerifiedRelay extends GraphStage<FlowShape<ByteString, ByteString>> {
  private final Inlet<ByteString> in = Inlet.create("VerifiedRelay.in");
  private final Outlet<ByteString> out = Outlet.create("VerifiedRelay.out");
  private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);
  private final String sha256;
  private final long size;

  private VerifiedRelay(String sha256, long size) {
    this.sha256 = sha256;
    this.size = size;
  }

  /** Thrown into the stream when the relayed bytes are not the payload. */
  public static final class MismatchException extends IllegalStateException {
    MismatchException(String message) {
      super(message);
    }
  }

  public static <M> Source<ByteString, M> of(
      Source<ByteString, M> bytes, String sha256, long size) {
    return bytes.via(Flow.fromGraph(new VerifiedRelay(sha256, size)));
  }

  @Override
  public FlowShape<ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new Verifier();
  }

  /** Hashes and counts every chunk, holding back the last one until the end is verified. */
  private final class Verifier extends GraphStageLogic {
    private final MessageDigest digest = PayloadUpload.sha256();
    private long count;

    /** The chunk received last, held until the next one (or the verified end) releases it. */
    private ByteString held;

    Verifier() {
      super(shape);
      setHandler(
          in,
          new AbstractInHandler() {
            @Override
            public void onPush() {
              accept(grab(in));
            }

            @Override
            public void onUpstreamFinish() {
              finish();
            }
          });
      setHandler(
          out,
          new AbstractOutHandler() {
            @Override
            public void onPull() {
              pull(in);
            }
          });
    }

    private void accept(ByteString chunk) {
      count += chunk.size();
      if (count > size) {
        failStage(
            new MismatchException("the peer sent more than the payload's " + size + " bytes"));
        return;
      }
      digest.update(chunk.toArrayUnsafe());
      ByteString previous = held;
      held = chunk;
      if (previous != null) {
        push(out, previous);
      } else {
        pull(in);
      }
    }

    private void finish() {
      String actual = HexFormat.of().formatHex(digest.digest());
      if (count != size || !actual.equals(sha256)) {
        failStage(
            new MismatchException(
                "the peer's bytes are not payload "
                    + sha256
                    + " ("
                    + count
                    + " bytes, sha256 "
                    + actual
                    + ")"));
      } else if (held != null) {
        emit(out, held, () -> completeStage());
      } else {
        completeStage();
      }
    }
  }
}
