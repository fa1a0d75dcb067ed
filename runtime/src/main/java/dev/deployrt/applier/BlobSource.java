package dev.deployrt.applier;

import dev.deployrt.release.DesiredRelease;
import java.nio.file.Path;

/** Makes a release's payload available on this node, verified, and returns where it is. */
@FunctionalInterface
public interface BlobSource {
  /** Blocking. Throws if the payload cannot be had. */
  Path fetch(DesiredRelease release) throws Exception;
}
