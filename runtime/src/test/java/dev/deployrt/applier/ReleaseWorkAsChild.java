package dev.deployrt.applier;

import dev.deployrt.archive.ArchiveExtractor;
import dev.deployrt.archive.ArchiveLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The release directory's file work in a JVM of its own, for {@link ReleaseDirectoryAsUserTest},
 * which runs it as an ordinary user: {@code extract <data-dir> <archive>} extracts into release
 * {@code web/r1} as the applier does, {@code delete <path>} removes a tree, {@code open <data-dir>}
 * runs the start-up sweep, {@code switch <data-dir>} switches between two releases with the marks
 * of the steps after each switch. Exits 0 when the work succeeded, 1 (with the stack trace) when it
 * threw.
 */
public final class ReleaseWorkAsChild {
  static final ArchiveLimits LIMITS = new ArchiveLimits(1000, 10 * 1024 * 1024, 4096, 200);

  private ReleaseWorkAsChild() {}

  /**
   * Switches web to r1, r2 and back to r1, marking the steps after each switch as the applier does.
   */
  private static void switchAndMark(ReleaseDirectory dirs) throws Exception {
    for (String id : new String[] {"r1", "r2"}) {
      dirs.createRelease("web", id, dir -> Files.writeString(dir.resolve("v"), id));
    }
    dirs.activate("web", "r1");
    dirs.marks().markActivated("web", "r1");
    dirs.marks().markSettled("web", "r1");
    dirs.activate("web", "r2");
    dirs.activate("web", "r1");
    if (dirs.marks().settled("web", "r1")
        || dirs.marks().activated("web", "r1")
        || !dirs.marks().keepsMarks("web")) {
      throw new IllegalStateException("the switch back did not clear r1's marks");
    }
    dirs.marks().markSettled("web", "r1");
    if (!dirs.marks().settled("web", "r1") || !dirs.switchedFrom("web").equals(Optional.of("r2"))) {
      throw new IllegalStateException("marks or activation log not as written");
    }
  }

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
        case "switch" -> switchAndMark(ReleaseDirectory.open(Path.of(args[1])));
        default -> throw new IllegalArgumentException(args[0]);
      }
      System.exit(0);
    } catch (Throwable e) {
      e.printStackTrace();
      System.exit(1);
    }
  }
}
