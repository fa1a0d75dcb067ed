package dev.deployrt.peer;

import dev.deployrt.blob.ClaimMark;
import java.time.Duration;

/**
 * The node-to-node blob protocol's paths, spelled once: the operations API serves them (its
 * internal routes, which accept only the cluster secret) and {@link PeerBlobFetcher}, {@link
 * PayloadReplicator}, {@link BlobReclaimer} and a payload download on a node without the blob call
 * them.
 *
 * <ul>
 *   <li>{@code GET /internal/blobs/{sha256}[?wait=S]}: the verified payload, waiting up to S
 *       seconds for it to arrive;
 *   <li>{@code PUT /internal/blobs/{sha256}[?from=ORIGIN]}: a replica pushed by the origin; with
 *       {@code from}, the receiver takes the piece manifest from the origin and relays the pieces
 *       while the push goes on;
 *   <li>{@code GET /internal/blobs/{sha256}/manifest[?wait=S]}: its piece manifest, once the node
 *       holds or receives the payload;
 *   <li>{@code GET /internal/blobs/{sha256}/pieces/{n}[?wait=S]}: piece {@code n}, once the node
 *       holds it (relayed from a fetch still under way);
 *   <li>{@code GET /internal/blobs/{sha256}/claim-mark}: the node's blob-store claim mark;
 *   <li>{@code DELETE /internal/blobs/{sha256}[?unclaimed_since=MARK]}: reclaim the copy unless a
 *       fetch or deploy claimed it since the mark.
 * </ul>
 */
public final class PeerPaths {
  public static final String INTERNAL = "internal";
  public static final String BLOBS = "blobs";
  public static final String CLAIM_MARK = "claim-mark";
  public static final String MANIFEST = "manifest";
  public static final String PIECES = "pieces";
  public static final String WAIT = "wait";
  public static final String UNCLAIMED_SINCE = "unclaimed_since";
  public static final String FROM = "from";

  private PeerPaths() {}

  /** The blob {@code sha256}: GET to read it, PUT to push it. */
  public static String blob(String sha256) {
    return "/" + INTERNAL + "/" + BLOBS + "/" + sha256;
  }

  /** GET: the blob, the holder waiting up to {@code patience} for it to arrive (none if zero). */
  public static String blob(String sha256, Duration patience) {
    return patience.isZero()
        ? blob(sha256)
        : blob(sha256) + "?" + WAIT + "=" + patience.toSeconds();
  }

  /** PUT: a replica pushed by {@code origin}, relayed in pieces while it arrives. */
  public static String push(String sha256, String origin) {
    return blob(sha256) + "?" + FROM + "=" + origin;
  }

  /** GET: the payload's piece manifest, the node waiting up to {@code patience} to have one. */
  public static String manifest(String sha256, Duration patience) {
    return blob(sha256) + "/" + MANIFEST + "?" + WAIT + "=" + patience.toSeconds();
  }

  /** GET: piece {@code piece}, the node waiting up to {@code patience} to hold it. */
  public static String piece(String sha256, int piece, Duration patience) {
    return blob(sha256) + "/" + PIECES + "/" + piece + "?" + WAIT + "=" + patience.toSeconds();
  }

  /** GET: the holder's claim mark for a later {@link #reclaim}. */
  public static String claimMark(String sha256) {
    return blob(sha256) + "/" + CLAIM_MARK;
  }

  /** DELETE: the holder drops its copy unless it was claimed after {@code mark}. */
  public static String reclaim(String sha256, ClaimMark mark) {
    return blob(sha256) + "?" + UNCLAIMED_SINCE + "=" + mark.token();
  }
}
