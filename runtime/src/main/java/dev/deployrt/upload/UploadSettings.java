package dev.deployrt.upload;

import com.typesafe.config.Config;
import dev.deployrt.archive.ArchiveLimits;
import java.time.Duration;

/**
 * @param maxBytes largest payload accepted, enforced while bytes stream in
 * @param archiveLimits limits on the archive's contents
 * @param stallTimeout an upload that receives no byte for this long is aborted
 * @param directIo write staging files with direct I/O where the file system allows it ({@link
 *     DirectStagingWriter}); otherwise through the page cache
 * @param minFreeBytes bytes the blob store's volume keeps free ({@link DiskGuard}), or {@link
 *     DiskGuard#AUTO}
 * @param extractWhileUploading the receiving node extracts the archive in the pass that validates
 *     it, into a staging directory that becomes its release once the payload is stored ({@link
 *     dev.deployrt.archive.PreExtraction}); otherwise it extracts from the stored payload
 *     afterwards
 */
public record UploadSettings(
    long maxBytes,
    ArchiveLimits archiveLimits,
    Duration stallTimeout,
    boolean directIo,
    long minFreeBytes,
    boolean extractWhileUploading) {

  /** The same settings with another size limit. */
  public UploadSettings withMaxBytes(long limit) {
    return new UploadSettings(
        limit, archiveLimits, stallTimeout, directIo, minFreeBytes, extractWhileUploading);
  }

  /** Reads {@code deploy.upload}, {@code deploy.archive} and {@code deploy.storage}. */
  public static UploadSettings fromConfig(Config deploy) {
    return new UploadSettings(
        deploy.getBytes("upload.max-bytes"),
        archiveLimits(deploy),
        deploy.getDuration("upload.stall-timeout"),
        deploy.getBoolean("upload.direct-io"),
        "auto".equals(deploy.getValue("storage.min-free-bytes").unwrapped())
            ? DiskGuard.AUTO
            : deploy.getBytes("storage.min-free-bytes"),
        deploy.getBoolean("upload.extract-while-uploading"));
  }

  public static ArchiveLimits archiveLimits(Config deploy) {
    return new ArchiveLimits(
        deploy.getLong("archive.max-entries"),
        deploy.getBytes("archive.max-expanded-bytes"),
        deploy.getInt("archive.max-path-length"),
        deploy.getInt("archive.max-compression-ratio"));
  }
}
