package dev.deployrt.upload;

import dev.deployrt.archive.ArchiveSummary;
import dev.deployrt.blob.BlobStore;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A payload that was received whole, hashed and validated, and waits in the blob store's staging
 * area. Nothing of it is visible under its address until {@link #commit()}; {@link #discard()} removes
 * it. Exactly one of the two must be called.
 */
public final class StagedPayload {
  private final BlobStore store;
  private final Path stagingFile;
  private final String sha256;
  private final long size;
  private final ArchiveSummary archive;

  StagedPayload(BlobStore store, Path stagingFile, String sha256, long size, ArchiveSummary archive) {
    this.store = store;
    this.stagingFile = stagingFile;
    this.sha256 = sha256;
    this.size = size;
    this.archive = archive;
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

  public Path commit() throws IOException {
    return store.commit(stagingFile, sha256);
  }

  public void discard() {
    store.discard(stagingFile);
  }
}
