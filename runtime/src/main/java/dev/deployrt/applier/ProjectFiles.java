package dev.deployrt.applier;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Small files beside a project's releases ({@code .activations}, the step marks), replaced whole:
 * written under a {@code .current-} temporary name (which {@link ReleaseDirectory#open} sweeps
 * after a crash) and renamed over the old one, so a reader sees the old text or the new one.
 */
final class ProjectFiles {
  private ProjectFiles() {}

  /** Replaces {@code dir/name} with {@code text}, atomically; with {@code durably}, synced too. */
  static void replace(Path dir, String name, CharSequence text, boolean durably)
      throws IOException {
    Path fresh = dir.resolve(ReleaseDirectory.LINK_STAGING_PREFIX + "file-" + UUID.randomUUID());
    try {
      if (durably) {
        Files.writeString(fresh, text, StandardOpenOption.CREATE_NEW, StandardOpenOption.SYNC);
      } else {
        Files.writeString(fresh, text, StandardOpenOption.CREATE_NEW);
      }
      Files.move(fresh, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      Files.deleteIfExists(fresh);
      throw e;
    }
    if (durably) {
      syncDirectory(dir);
    }
  }

  /** Makes the directory's entries (a rename, a new link) durable. */
  static void syncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
