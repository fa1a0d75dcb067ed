package dev.deployrt.applier;

import dev.deployrt.release.DesiredRelease;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/** Makes a release's payload available on this node, verified, and returns where it is. */
@FunctionalInterface
public interface BlobSource {
  /**
   * Blocking. Throws if the payload cannot be had, or {@link java.util.concurrent.CancellationException}
   * once {@code cancelled} says so.
   */
  Path fetch(DesiredRelease release, BooleanSupplier cancelled) throws Exception;
}
