package dev.deployrt.upload;

import dev.deployrt.archive.ArchiveSummary;
import dev.deployrt.archive.PreExtraction;
import dev.deployrt.blob.BlobStore;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A payload that was received whole, hashed and validated, and waits in the blob store's staging
 * area. Nothing of it is visible under its address until {@link #commit()}; {@link #discard()}
 * removes it. Exactly one of the two must be called; after a commit, the caller takes over the
 * {@link #extraction()} if there is one.
 */
public final class StagedPayload {
  private final BlobStore store;
  private final Path stagingFile;
  private final String sha256;
  private final long size;
  private final ArchiveSummary archive;
  private final PreExtraction extraction;

  StagedPayload(
      BlobStore store,
      Path stagingFile,
      String sha256,
      long size,
      ArchiveSummary archive,
      PreExtraction extraction) {
    this.store = store;
    this.stagingFile = stagingFile;
    this.sha256 = sha256;
    this.size = size;
    this.archive = archive;
    this.extraction = extraction;
  }

  public String sha256() {
    return sha256;
  }

  public long size() {
    return size;
  }

  public ArchiveSummary archive() {
    return archive;
  }

  /**
   * The archive as extracted while it arrived (check {@link PreExtraction#complete()}), or null.
   */
  public PreExtraction extraction() {
    return extraction;
  }

  public Path commit() throws IOException {
    return store.commit(stagingFile, sha256);
  }

  /**
   * {@link #commit()} for deployment {@code deploymentId}'s upload, noting first that its record
   * does not name the bytes yet ({@link BlobStore#notePendingName}): if the node stops before the
   * caller has the record name them and forgets the note, its next start settles the upload. If
   * this fails, nothing is noted and the staging file is gone.
   */
  public Path commitFor(String deploymentId) throws IOException {
    try {
      store.notePendingName(sha256, deploymentId);
    } catch (IOException | RuntimeException e) {
      discard();
      throw e;
    }
    try {
      return commit();
    } catch (IOException | RuntimeException e) {
      store.forgetPendingName(sha256, deploymentId);
      throw e;
    }
  }

  /** Removes the staging file and, if the archive was extracted while it arrived, that tree. */
  public void discard() {
    store.discard(stagingFile);
    if (extraction != null) {
      extraction.discard();
    }
  }
}
