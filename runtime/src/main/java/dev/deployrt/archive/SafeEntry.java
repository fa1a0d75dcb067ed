package dev.deployrt.archive;

/**
 * An archive entry that passed {@link EntryRules}: {@code path} is relative, normalised ("a/b/c",
 * never empty, no "." or ".." parts) and no ancestor of it is a symlink or a file.
 *
 * @param linkTarget for a symlink, the target as written; for a hard link, the normalised path of
 *     the file it links to; otherwise null
 * @param mode permission bits to install (0775 at most: set-id, sticky and world-write bits are
 *     dropped)
 */
public record SafeEntry(
    String path, EntryKind kind, long size, int mode, String linkTarget, long modifiedMillis) {}
