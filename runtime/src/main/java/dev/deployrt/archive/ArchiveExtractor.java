package dev.deployrt.archive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Extracts a {@code .tar.gz} into an empty directory, applying {@link EntryRules} to every entry
 * before anything is created for it, so a refused archive never writes outside {@code root}; the
 * writing itself (modes, links, no symlink followed) is {@link ReleaseWriter}'s.
 *
 * <p>It does not clean up after a failure: the caller extracts into a staging directory and deletes
 * it on any exception, then publishes by renaming (see the applier).
 *
 * <p>Errors: a problem of the archive is an {@link InvalidArchiveException}; a problem of the file
 * system (a full disk, a refused path) is a {@link FileSystemException}, so it is not reported as a
 * bad payload.
 */
public final class ArchiveExtractor {
  private ArchiveExtractor() {}

  public static ArchiveSummary extract(
      Path archive, Path root, ArchiveLimits limits, BooleanSupplier cancelled) throws IOException {
    return extract(Files.newInputStream(archive), root, limits, cancelled);
  }

  /**
   * Extracts a {@code .tar.gz} read from {@code compressed} (closed when done), e.g. while it still
   * arrives from a peer. Reads the gzip stream to its end after the last tar entry, as the upload
   * validator does, so the gzip trailer is checked too.
   */
  public static ArchiveSummary extract(
      InputStream compressed, Path root, ArchiveLimits limits, BooleanSupplier cancelled)
      throws IOException {
    EntryRules rules = new EntryRules(limits);
    ReleaseWriter writer = new ReleaseWriter(root);
    byte[] buf = new byte[64 * 1024];
    try (InputStream gz = new ParallelGunzip(compressed, limits.maxCompressionRatio())) {
      TarArchiveInputStream tar = new BoundedTarInputStream(gz, limits);
      TarArchiveEntry entry;
      while ((entry = ArchiveValidator.nextEntry(tar)) != null) {
        if (cancelled.getAsBoolean()) {
          throw new CancellationException("extraction cancelled");
        }
        SafeEntry safe = rules.accept(entry);
        if (safe == null) {
          continue;
        }
        writer.write(safe, tar);
      }
      rules.finish();
      while (gz.read(buf) >= 0) {
        // the tar end is not the gzip end: read through the trailer
      }
    } catch (InvalidArchiveException | CancellationException e) {
      throw e;
    } catch (IOException e) {
      if (e.getClass().getName().startsWith("java.nio.file")) {
        throw e;
      }
      throw ArchiveValidator.asInvalid(e);
    }
    writer.finish();
    return new ArchiveSummary(rules.entries(), rules.expandedBytes());
  }
}
