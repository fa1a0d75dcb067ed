package dev.deployrt.deploy;

import dev.deployrt.applier.ReleaseDirectory;
import dev.deployrt.archive.PreExtraction;
import dev.deployrt.upload.DiskGuard;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.LongPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving node's extraction of an upload while it arrives ({@link PreExtraction}), from its
 * staging directory to its release: made when the first entry arrives, it becomes the release once
 * the payload is committed and before the record names the payload, so that when the register asks
 * this node for the release, the release is already there and the applier neither fetches nor
 * extracts it. On every other path (a failed upload or commit, a record that could not be marked, a
 * write the file system refused) it is removed, and the node extracts from the stored payload as
 * any other node does.
 *
 * <p>Guarantees: nothing under the release's name before the payload is verified and committed; no
 * staging directory left behind by a deploy that ends (a crash's are removed at the next start).
 */
final class ExtractWhileUploading {
  private static final Logger log = LoggerFactory.getLogger(ExtractWhileUploading.class);

  private ExtractWhileUploading() {}

  /**
   * What the upload's validator also writes into: a staging release of {@code project}, made when
   * the first entry arrives.
   */
  static PreExtraction start(
      ReleaseDirectory releases, String project, String deploymentId, long minFreeBytes) {
    // The release may take only what leaves the volume twice its minimum: the upload still needs
    // room, and its own guard stops it below the minimum.
    DiskGuard disk = new DiskGuard(releases.root(), minFreeBytes);
    LongPredicate room =
        bytes -> {
          try {
            return disk.usableBytes() - bytes >= 2 * disk.minFreeBytes();
          } catch (IOException e) {
            return false;
          }
        };
    return new PreExtraction(
        () -> releases.newStaging(project, deploymentId), releases::discard, room);
  }

  /**
   * What {@link #adopt} did.
   *
   * @param kept the extracted tree is now the release
   * @param note a line for the deployment's log, or null
   */
  record Adopted(boolean kept, String note) {}

  /**
   * Blocking; call once the payload is committed. Makes a complete extraction the release, or
   * removes it.
   */
  static Adopted adopt(
      ReleaseDirectory releases,
      String project,
      String deploymentId,
      PreExtraction extraction,
      String node) {
    if (!extraction.complete()) {
      extraction.discard();
      return new Adopted(
          false,
          extraction
              .failure()
              .map(
                  e ->
                      node
                          + " could not extract the payload while it arrived ("
                          + e.getMessage()
                          + "): it extracts the stored payload instead")
              .orElse(null));
    }
    try {
      Path staging = extraction.root();
      extraction.handOver(); // adopt renames it into place or removes it
      if (releases.adopt(project, deploymentId, staging)) {
        return new Adopted(true, node + " extracted the release while the payload arrived");
      }
    } catch (IOException | RuntimeException e) {
      log.warn("could not keep deployment {}'s release extracted while uploading", deploymentId, e);
    }
    return new Adopted(false, null);
  }

  /**
   * Blocking; the deploy failed before its record named the payload: removes the release {@link
   * #adopt} made, which nothing will run. Never throws.
   */
  static void removeAdopted(ReleaseDirectory releases, String project, String deploymentId) {
    if (releases.hasRelease(project, deploymentId)) {
      releases.discard(releases.releasePath(project, deploymentId));
    }
  }
}
