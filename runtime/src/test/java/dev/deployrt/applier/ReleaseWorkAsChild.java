package dev.deployrt.applier;

import dev.deployrt.archive.ArchiveExtractor;
import dev.deployrt.archive.ArchiveLimits;
import java.nio.file.Path;

/**
 * The release directory's file work in a JVM of its own, for {@link ReleaseDirectoryAsUserTest},
 * which runs it as an ordinary user: {@code extract <data-dir> <archive>} extracts into release
 * {@code web/r1} as the applier does, {@code delete <path>} removes a tree, {@code open <data-dir>}
 * runs the start-up sweep. Exits 0 when the work succeeded, 1 (with the stack trace) when it threw.
 */
public final class ReleaseWorkAsChild {
  static final ArchiveLimits LIMITS = new ArchiveLimits(1000, 10 * 1024 * 1024, 4096, 200);

  private ReleaseWorkAsChild() {}

  public static void main(String[] args) {
    try {
      switch (args[0]) {
        case "extract" ->
            ReleaseDirectory.open(Path.of(args[1]))
                .createRelease(
                    "web",
                    "r1",
                    dir -> ArchiveExtractor.extract(Path.of(args[2]), dir, LIMITS, () -> false));
        case "delete" -> TreeRemoval.deleteTree(Path.of(args[1]));
        case "open" -> ReleaseDirectory.open(Path.of(args[1]));
        default -> throw new IllegalArgumentException(args[0]);
      }
      System.exit(0);
    } catch (Throwable e) {
      e.printStackTrace();
      System.exit(1);
    }
  }
}
