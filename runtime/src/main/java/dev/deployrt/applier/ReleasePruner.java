package dev.deployrt.applier;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Release retention on one node: keeps the newest {@code keep} releases of a project that were
 * active here, {@code current} and every release named as needed (the project's desired release and
 * its rollback source), and removes the rest.
 *
 * <p>Guarantees: {@code current}'s target is never touched; a release another kept release is an
 * alias of stays. A release is first renamed to a staging name (atomic) and only then deleted, so a
 * crash mid-prune leaves either the whole release under its own name or a staging leftover that the
 * next start removes, never a half-deleted release. Which releases were active, and in which order,
 * comes from {@link ReleaseDirectory}'s activation log; a project whose log is missing (made by an
 * older version) orders its releases by modification time and counts them all as once active.
 *
 * <p>Runs on the applier's thread for the project, so no extraction or switch of the same project
 * runs at the same time.
 */
public final class ReleasePruner {
  /**
   * What a prune removed, and what the project's releases hold after it ({@code keptBytes} counts
   * an alias's shared tree once).
   */
  public record Pruned(List<String> removed, long freedBytes, int keptReleases, long keptBytes) {}

  /**
   * The first half of a prune: the releases {@code removed} are already renamed aside (to {@code
   * setAside}), so they are gone from {@code releases/}; {@link #finish} deletes their files.
   */
  public record SetAside(
      String project, List<String> removed, List<Path> setAside, List<Path> kept) {}

  private final ReleaseDirectory releases;

  /** The bytes of each release directory measured so far, by path. */
  private final Map<Path, Long> sizes = new ConcurrentHashMap<>();

  public ReleasePruner(ReleaseDirectory releases) {
    this.releases = releases;
  }

  /**
   * Keeps {@code keep} (at least 2) active releases of {@code project} plus {@code needed}; removes
   * the others.
   */
  public Pruned prune(String project, int keep, Set<String> needed) throws IOException {
    return finish(setAside(project, keep, needed, () -> false));
  }

  /**
   * Decides which releases go and renames them aside (one atomic rename each, so this is quick
   * whatever their size); sets nothing more aside once {@code stop} says so (a newer release is
   * waiting, which may need a release this prune would remove).
   */
  public SetAside setAside(String project, int keep, Set<String> needed, BooleanSupplier stop)
      throws IOException {
    Map<String, Path> present = present(releases.releasesOf(project));
    if (present.isEmpty()) {
      return new SetAside(project, List.of(), List.of(), List.of());
    }
    List<String> newestFirst = activatedNewestFirst(project, present);
    Set<String> kept = kept(project, keep, needed, present, newestFirst);
    List<String> removed = new ArrayList<>();
    List<Path> aside = new ArrayList<>();
    List<Path> stays = new ArrayList<>();
    for (Map.Entry<String, Path> e : present.entrySet()) {
      Path moved = null;
      if (!kept.contains(e.getKey()) && !stop.getAsBoolean()) {
        moved = moveAside(e.getValue());
      }
      if (moved != null) {
        removed.add(e.getKey());
        aside.add(moved);
      } else if (!Files.isSymbolicLink(e.getValue())) {
        stays.add(e.getValue());
      }
    }
    List<String> log = new ArrayList<>(newestFirst);
    log.retainAll(kept);
    Collections.reverse(log);
    releases.rewriteActivations(project, log);
    return new SetAside(project, List.copyOf(removed), List.copyOf(aside), List.copyOf(stays));
  }

  /**
   * Deletes what {@link #setAside} renamed aside, counting the bytes as it goes, and sums what
   * stayed (each release measured once: it never changes). A crash before or during this leaves
   * only staging names, which the next start removes.
   */
  public Pruned finish(SetAside plan) {
    long freed = 0;
    for (Path aside : plan.setAside()) {
      freed += TreeRemoval.removeOrSetAside(aside, "a pruned release,");
    }
    for (String id : plan.removed()) {
      sizes.remove(releases.releasePath(plan.project(), id));
    }
    long keptBytes = 0;
    for (Path stays : plan.kept()) {
      // A release never changes once it has its name, so each is measured once.
      keptBytes += sizes.computeIfAbsent(stays, ReleasePruner::size);
    }
    return new Pruned(plan.removed(), freed, plan.kept().size(), keptBytes);
  }

  /** {@code current}, the newest {@code keep} that were active, {@code needed}, alias targets. */
  private Set<String> kept(
      String project,
      int keep,
      Set<String> needed,
      Map<String, Path> present,
      List<String> newestFirst)
      throws IOException {
    Set<String> kept = new LinkedHashSet<>();
    releases.activeRelease(project).ifPresent(kept::add);
    for (String id : newestFirst) {
      if (kept.size() >= Math.max(keep, 2)) {
        break;
      }
      kept.add(id);
    }
    kept.addAll(needed);
    for (String id : List.copyOf(kept)) {
      Path p = present.get(id);
      if (p != null && Files.isSymbolicLink(p)) {
        kept.add(Files.readSymbolicLink(p).getFileName().toString());
      }
    }
    return kept;
  }

  /** The project's releases by id (directories and aliases), without staging leftovers. */
  private static Map<String, Path> present(Path dir) throws IOException {
    Map<String, Path> out = new TreeMap<>();
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return out;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (!name.startsWith(".")) {
          out.put(name, p);
        }
      }
    }
    return out;
  }

  private List<String> activatedNewestFirst(String project, Map<String, Path> present)
      throws IOException {
    List<String> log = releases.activations(project);
    if (log == null) {
      List<String> byTime = new ArrayList<>(present.keySet());
      byTime.sort(Comparator.comparing((String id) -> modified(present.get(id))).reversed());
      return byTime;
    }
    LinkedHashSet<String> newestFirst = new LinkedHashSet<>();
    for (String id : reversed(log)) {
      if (present.containsKey(id)) {
        newestFirst.add(id);
      }
    }
    return List.copyOf(newestFirst);
  }

  private static List<String> reversed(List<String> list) {
    List<String> out = new ArrayList<>(list);
    Collections.reverse(out);
    return out;
  }

  private static FileTime modified(Path p) {
    try {
      return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return FileTime.fromMillis(0);
    }
  }

  /** Renames the release aside; null if it is gone already. */
  private static Path moveAside(Path release) throws IOException {
    Path aside =
        release.resolveSibling(
            ReleaseDirectory.STAGING_PREFIX
                + "pruned-"
                + release.getFileName()
                + "-"
                + UUID.randomUUID());
    try {
      Files.move(release, aside, StandardCopyOption.ATOMIC_MOVE);
      return aside;
    } catch (NoSuchFileException gone) {
      return null;
    }
  }

  /** Bytes of the regular files under {@code dir}. */
  static long size(Path dir) {
    AtomicLong total = new AtomicLong();
    try {
      walk(dir, total);
    } catch (IOException e) {
      // what could be read is counted
    }
    return total.get();
  }

  private static void walk(Path dir, AtomicLong total) throws IOException {
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            if (attrs.isRegularFile()) {
              total.addAndGet(attrs.size());
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) {
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
