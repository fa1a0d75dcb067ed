package dev.deployrt.fanout;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deployrt.upload.PayloadUpload;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A payload cut into pieces of {@code pieceBytes} (the last one shorter), with each piece's
 * SHA-256: what lets a node check a piece it receives before it writes or relays it, long before
 * the whole payload's digest can be checked. Made by a node from a payload it holds and has
 * verified as a whole.
 *
 * @param sha256 the whole payload's digest
 * @param size the whole payload's length
 * @param digests each piece's SHA-256, in hex, in order
 */
public record PieceManifest(String sha256, long size, int pieceBytes, List<String> digests) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public PieceManifest {
    digests = List.copyOf(digests);
    if (pieceBytes <= 0) {
      throw new IllegalArgumentException("pieceBytes must be positive");
    }
    if (digests.size() != countFor(size, pieceBytes)) {
      throw new IllegalArgumentException(
          digests.size() + " digests for " + size + " bytes in pieces of " + pieceBytes);
    }
  }

  static int countFor(long size, int pieceBytes) {
    return (int) ((size + pieceBytes - 1) / pieceBytes);
  }

  /** Reads {@code blob} ({@code size} bytes, verified as {@code sha256}) and hashes its pieces. */
  public static PieceManifest of(Path blob, String sha256, long size, int pieceBytes)
      throws IOException {
    List<String> digests = new ArrayList<>();
    MessageDigest digest = PayloadUpload.sha256();
    ByteBuffer buffer = ByteBuffer.allocate(Math.min(pieceBytes, 1 << 20));
    try (FileChannel in = FileChannel.open(blob, StandardOpenOption.READ)) {
      if (in.size() != size) {
        throw new IOException(blob + " holds " + in.size() + " bytes, not " + size);
      }
      long inPiece = 0;
      while (in.read(buffer.clear()) > 0) {
        buffer.flip();
        while (buffer.hasRemaining()) {
          int take = (int) Math.min(buffer.remaining(), pieceBytes - inPiece);
          ByteBuffer part = buffer.slice(buffer.position(), take);
          digest.update(part);
          buffer.position(buffer.position() + take);
          inPiece += take;
          if (inPiece == pieceBytes) {
            digests.add(HexFormat.of().formatHex(digest.digest()));
            inPiece = 0;
          }
        }
      }
      if (inPiece > 0) {
        digests.add(HexFormat.of().formatHex(digest.digest()));
      }
    }
    return new PieceManifest(sha256, size, pieceBytes, digests);
  }

  /** As nodes send it to each other. */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A manifest another node sent; throws if it is not one. */
  public static PieceManifest fromJson(String json) throws IOException {
    try {
      return JSON.readValue(json, PieceManifest.class);
    } catch (IllegalArgumentException e) {
      throw new IOException("not a piece manifest: " + e.getMessage(), e);
    }
  }

  public int count() {
    return digests.size();
  }

  public long offsetOf(int piece) {
    return (long) piece * pieceBytes;
  }

  public int lengthOf(int piece) {
    return (int) Math.min(pieceBytes, size - offsetOf(piece));
  }

  /** True if {@code bytes} (all that remain in it) are piece {@code piece}. */
  public boolean matches(int piece, ByteBuffer bytes) {
    if (piece < 0 || piece >= count() || bytes.remaining() != lengthOf(piece)) {
      return false;
    }
    MessageDigest digest = PayloadUpload.sha256();
    digest.update(bytes.duplicate());
    return HexFormat.of().formatHex(digest.digest()).equals(digests.get(piece));
  }
}
