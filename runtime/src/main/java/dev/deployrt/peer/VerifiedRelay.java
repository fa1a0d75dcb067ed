package dev.deployrt.peer;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Relays a payload's bytes from another node to a client while checking them against the payload's
 * SHA-256 and size: each chunk is passed on only once the next one has arrived, and the last only once
 * the whole digest matched. Bytes that do not match (or are too many or too few) fail the stream before
 * the last chunk, so a client that was promised the payload's length gets a cut connection, never a
 * complete body of other bytes.
 */
public final class VerifiedRelay {
  private VerifiedRelay() {}

  /** Thrown into the stream when the relayed bytes are not the payload. */
  public static final class MismatchException extends IllegalStateException {
    MismatchException(String message) {
      super(message);
    }
  }

  private static final class State {
    final MessageDigest digest = sha256();
    long count;
    ByteString held;
  }

  public static <M> Source<ByteString, M> of(Source<ByteString, M> bytes, String sha256, long size) {
    return bytes.statefulMap(State::new, (State s, ByteString chunk) -> {
      s.count += chunk.size();
      if (s.count > size) {
        throw new MismatchException("the peer sent more than the payload's " + size + " bytes");
      }
      s.digest.update(chunk.toArrayUnsafe());
      ByteString out = s.held;
      s.held = chunk;
      return Pair.create(s, Optional.ofNullable(out));
    }, (State s) -> {
      String actual = HexFormat.of().formatHex(s.digest.digest());
      if (s.count != size || !actual.equals(sha256)) {
        throw new MismatchException("the peer's bytes are not payload " + sha256 + " (" + s.count + " bytes, sha256 "
            + actual + ")");
      }
      return Optional.of(Optional.ofNullable(s.held));
    }).mapConcat(chunk -> chunk.map(List::of).orElse(List.of()));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
