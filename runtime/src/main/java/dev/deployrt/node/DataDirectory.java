package dev.deployrt.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's data directory is its owner's alone: it holds the embedded database (users' password
 * hashes, token digests, the cluster secret), the payloads and the initial admin password. It is
 * made {@code 0700} at every start, whatever the process umask ({@code deploy.data-dir-private}; an
 * operator who lets another user run the releases turns that off and sets the mode), so nothing
 * under it is reachable by other users. The database and the payloads are made private in any case:
 * {@code db/} and {@code blobs/} {@code 0700}, the database's files {@code 0600}. ({@code
 * bin/deploy-node} also sets the umask to 077, so files created later are private from the start.)
 */
public final class DataDirectory {
  private static final Logger log = LoggerFactory.getLogger(DataDirectory.class);
  private static final Set<PosixFilePermission> OWNER_ONLY_DIR =
      PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> OWNER_ONLY_FILE =
      PosixFilePermissions.fromString("rw-------");

  private DataDirectory() {}

  /**
   * Creates {@code dataDir} if needed, makes it {@code 0700} when {@code wholeDirectory}, and makes
   * its {@code db/} and {@code blobs/} {@code 0700} always.
   */
  public static void makePrivate(Path dataDir, boolean wholeDirectory) {
    try {
      Files.createDirectories(dataDir);
      for (Path dir :
          wholeDirectory
              ? List.of(dataDir, dataDir.resolve("db"), dataDir.resolve("blobs"))
              : List.of(dataDir.resolve("db"), dataDir.resolve("blobs"))) {
        Files.createDirectories(dir);
        Set<PosixFilePermission> now = Files.getPosixFilePermissions(dir);
        if (!now.equals(OWNER_ONLY_DIR)) {
          Files.setPosixFilePermissions(dir, OWNER_ONLY_DIR);
          log.info("made {} private (was {})", dir, PosixFilePermissions.toString(now));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create or protect the data directory " + dataDir, e);
    }
  }

  /**
   * Makes {@code dir} {@code 0700} and every file directly in it {@code 0600}, if it exists; never
   * throws.
   */
  public static void makeFilesPrivate(Path dir) {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try {
      Files.setPosixFilePermissions(dir, OWNER_ONLY_DIR);
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
        for (Path f : files) {
          if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            Files.setPosixFilePermissions(f, OWNER_ONLY_FILE);
          }
        }
      }
    } catch (IOException e) {
      log.warn("could not make the files in {} private: {}", dir, e.toString());
    }
  }
}
