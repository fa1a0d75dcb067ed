package dev.deployrt.archive;

/**
 * The entry types a release may contain; anything else (devices, fifos, sparse files) is refused.
 */
public enum EntryKind {
  FILE,
  DIRECTORY,
  SYMLINK,
  HARDLINK
}
