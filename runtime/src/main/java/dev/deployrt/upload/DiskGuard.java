package dev.deployrt.upload;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Keeps {@code deploy.storage.min-free-bytes} free on the volume a payload is written to: an upload
 * whose declared length would leave less is refused before its body is read, and one whose bytes
 * bring the volume below it while streaming (a body of unknown length, or the disk filling from
 * elsewhere) is stopped, both with {@code INSUFFICIENT_STORAGE}.
 *
 * <p>The automatic minimum is the smaller of 2 GiB and 5 % of the volume. Free space is the
 * volume's usable space (what this process may still write), read with one {@code statfs} each
 * time.
 */
public final class DiskGuard {
  /** {@link #minFreeBytes} for the automatic minimum. */
  public static final long AUTO = -1;

  private static final long AUTO_CEILING = 2L << 30;
  private static final int AUTO_PERCENT = 5;

  private final Path volume;
  private final long configured;

  /**
   * @param volume any path on the volume to guard
   * @param minFreeBytes bytes to keep free, or {@link #AUTO}
   */
  public DiskGuard(Path volume, long minFreeBytes) {
    this.volume = volume;
    this.configured = minFreeBytes;
  }

  /** The bytes this volume keeps free. */
  public long minFreeBytes() throws IOException {
    if (configured != AUTO) {
      return configured;
    }
    FileStore store = Files.getFileStore(volume);
    return Math.min(AUTO_CEILING, store.getTotalSpace() / 100 * AUTO_PERCENT);
  }

  /** The bytes this process may still write to the volume. */
  public long usableBytes() throws IOException {
    return Files.getFileStore(volume).getUsableSpace();
  }

  /** The refusal of {@code bytes} more, if storing them would leave less than the minimum free. */
  public Optional<UploadFailure> refuse(long bytes) {
    try {
      long min = minFreeBytes();
      long usable = usableBytes();
      if (usable - bytes < min) {
        return Optional.of(UploadFailure.insufficientStorage(bytes, usable, min));
      }
      return Optional.empty();
    } catch (IOException e) {
      return Optional.of(UploadFailure.storage(e));
    }
  }
}
