package dev.deployrt.archive;

/** What a validated or extracted archive holds. */
public record ArchiveSummary(long entries, long expandedBytes) {}
