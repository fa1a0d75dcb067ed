package dev.deployrt.blob;

import java.util.Optional;

/**
 * A point in one run of a {@link BlobStore}'s claims ({@link BlobStore#deleteUnclaimedSince}), as
 * text for node-to-node calls: {@code <run>.<count>}.
 */
public record ClaimMark(String run, long count) {
  public String token() {
    return run + "." + count;
  }

  /** The mark a {@link #token()} names; empty if the text is not one. */
  public static Optional<ClaimMark> parse(String token) {
    int dot = token == null ? -1 : token.indexOf('.');
    if (dot <= 0 || dot > 16 || dot == token.length() - 1 || token.length() - dot > 20) {
      return Optional.empty();
    }
    try {
      long count = Long.parseLong(token.substring(dot + 1));
      String run = token.substring(0, dot);
      Long.parseUnsignedLong(run, 16);
      return count < 0 ? Optional.empty() : Optional.of(new ClaimMark(run, count));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
