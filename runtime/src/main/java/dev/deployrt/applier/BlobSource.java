package dev.deployrt.applier;

import dev.deployrt.release.DesiredRelease;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/**
 * Makes a release's payload available on this node, verified, while its archive is extracted: from
 * the local blob store if it is there, otherwise while it arrives from a peer, so a node's fetch
 * and extraction overlap instead of following each other.
 */
@FunctionalInterface
public interface BlobSource {

  /**
   * Extracts a {@code .tar.gz} from a stream into the release being built. Called once per attempt.
   */
  @FunctionalInterface
  interface Extraction {
    void extract(InputStream compressed) throws IOException;
  }

  /**
   * The payload's bytes were fine (digest matched) but extracting them failed: not worth another
   * source.
   */
  final class ExtractionFailed extends IOException {
    public ExtractionFailed(IOException cause) {
      super(cause.getMessage(), cause);
    }

    @Override
    public synchronized IOException getCause() {
      return (IOException) super.getCause();
    }
  }

  /**
   * Blocking. Returns the verified blob once {@code extraction} has completed on bytes whose digest
   * matched; an attempt whose bytes did not match is discarded and another source is tried (the
   * extraction is then called again). {@code fetched} is called once the bytes are all here.
   *
   * @throws ExtractionFailed when verified bytes could not be extracted
   * @throws java.util.concurrent.CancellationException once {@code cancelled} says so
   */
  Path obtain(
      DesiredRelease release, BooleanSupplier cancelled, Runnable fetched, Extraction extraction)
      throws Exception;
}
