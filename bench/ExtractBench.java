import dev.deployrt.archive.ArchiveExtractor;
import dev.deployrt.archive.ArchiveLimits;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The node's extractor on its own, in one warm JVM: extracts ARCHIVE into a fresh directory under
 * DIR, ROUNDS times, and prints each round's time and the garbage collections it caused. Run by
 * bench/extract-bench.sh beside `tar xzf` of the same file.
 */
public class ExtractBench {
  public static void main(String[] args) throws Exception {
    Path archive = Path.of(args[0]);
    Path base = Path.of(args[1]);
    int rounds = Integer.parseInt(args[2]);
    ArchiveLimits limits = new ArchiveLimits(1_000_000, 64L << 30, 4096, 1000);
    for (int round = 1; round <= rounds; round++) {
      Path dir = Files.createDirectories(base.resolve("java-" + round));
      long collections = collections();
      long gcMillis = gcMillis();
      long start = System.nanoTime();
      ArchiveExtractor.extract(archive, dir, limits, () -> false);
      long took = System.nanoTime() - start;
      System.out.printf("extractor round %d: %.3f s, %d GCs (%d ms)%n",
          round, took / 1e9, collections() - collections, gcMillis() - gcMillis);
      try (Stream<Path> tree = Files.walk(dir)) {
        tree.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static long collections() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream()
        .mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
  }

  private static long gcMillis() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream()
        .mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
  }
}
