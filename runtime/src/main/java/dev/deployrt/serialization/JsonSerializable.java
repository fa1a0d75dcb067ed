package dev.deployrt.serialization;

/**
 * Marker for every message, event and snapshot that crosses the network or goes into the journal;
 * bound to Jackson JSON in {@code reference.conf}. Change a persisted shape with a Jackson
 * migration, never by editing an old record.
 */
public interface JsonSerializable {}
