package dev.deployrt.archive;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongPredicate;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * An upload's archive written out while {@link ArchiveValidator} checks it, so the node that takes
 * the upload does not read, inflate and parse the payload a second time to extract it. The tree
 * goes into a staging directory that becomes a release only once the payload is verified and stored
 * (the caller renames it into place); until then nothing of it is visible as a release.
 *
 * <p>A failure of the file system (a full disk, a refused path) does not fail the upload: writing
 * stops, what was written is removed at once (so the upload keeps its room), validation goes on,
 * and {@link #complete()} stays false; the node then extracts from the stored payload like any
 * other node, and fails there if the release does not fit. Writing also stops before a file that
 * would leave the volume short ({@code room}), so extracting never makes the upload itself run out
 * of space. An invalid archive fails the validation as it would without extraction.
 *
 * <p>The staging directory is made when the first entry arrives, on the validator's thread, never
 * on the thread that starts the upload. Whoever ends the upload either {@link #handOver}s the tree
 * (it became the release) or {@link #discard}s it.
 */
public final class PreExtraction {
  /** Free space is checked before a file this large, or after this many bytes of smaller ones. */
  private static final long CHECK_EVERY_BYTES = 1 << 20;

  /** Makes an empty staging directory. */
  @FunctionalInterface
  public interface Staging {
    Path create() throws IOException;
  }

  private final Staging staging;
  private final Consumer<Path> remove;
  private volatile ReleaseWriter writer;
  private final LongPredicate room;
  private long sinceCheck;
  private volatile boolean complete;
  private volatile FileSystemException failure;
  private volatile boolean handedOver;

  /**
   * @param staging makes the empty directory to extract into
   * @param remove removes a directory tree, never throwing
   * @param room whether the volume has room for this many more bytes of the release
   */
  public PreExtraction(Staging staging, Consumer<Path> remove, LongPredicate room) {
    this.staging = staging;
    this.remove = remove;
    this.room = room;
  }

  /**
   * The tree left its staging directory (it was renamed into place): nothing to discard any more.
   */
  public void handOver() {
    handedOver = true;
  }

  /** Removes the staging directory and what was written into it, unless it was handed over. */
  public void discard() {
    if (!handedOver) {
      handedOver = true;
      Path root = root();
      if (root != null) {
        remove.accept(root);
      }
    }
  }

  /** The staging directory, or null before the first entry. */
  public Path root() {
    ReleaseWriter w = writer;
    return w == null ? null : w.root();
  }

  /** True once every entry was written and the directories have their modes. */
  public boolean complete() {
    return complete;
  }

  /** Why writing stopped, if it did. */
  public Optional<FileSystemException> failure() {
    return Optional.ofNullable(failure);
  }

  void write(SafeEntry safe, TarArchiveInputStream tar) throws IOException {
    if (failure != null) {
      return; // the validator reads the entry's content
    }
    if (safe.kind() == EntryKind.FILE) {
      sinceCheck += safe.size();
      if (safe.size() >= CHECK_EVERY_BYTES || sinceCheck >= CHECK_EVERY_BYTES) {
        sinceCheck = 0;
        if (!room.test(safe.size())) {
          stop(
              new FileSystemException(
                  "the release's volume",
                  null,
                  "too little free space to extract while uploading"));
          return;
        }
      }
    }
    try {
      started().write(safe, tar);
    } catch (FileSystemException e) {
      stop(e);
    }
  }

  /** The writer, making the staging directory first. */
  private ReleaseWriter started() throws FileSystemException {
    if (writer == null) {
      try {
        writer = new ReleaseWriter(staging.create());
      } catch (IOException e) {
        throw e instanceof FileSystemException fse ? fse : asFileSystemError(e);
      }
    }
    return writer;
  }

  private static FileSystemException asFileSystemError(IOException e) {
    FileSystemException error = new FileSystemException(null, null, e.toString());
    error.initCause(e);
    return error;
  }

  private void stop(FileSystemException why) {
    failure = why;
    discard();
  }

  void finish() throws IOException {
    if (failure != null) {
      return;
    }
    try {
      started().finish();
      complete = true;
    } catch (FileSystemException e) {
      stop(e);
    }
  }
}
