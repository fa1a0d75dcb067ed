package dev.deployrt.deployment;

import dev.deployrt.serialization.JsonSerializable;
import java.time.Instant;
import java.util.Map;

/**
 * One event of a deployment's event log (API.md, "Events"). {@code type} is one of phase, progress,
 * node, log, warning, error, truncated. {@code seq} is gapless per deployment across everything
 * ever emitted. {@code phase} and {@code node} may be null; {@code data} holds numbers only.
 */
public record LogEntry(
    long seq,
    Instant time,
    String type,
    String phase,
    String node,
    String message,
    Map<String, Long> data)
    implements JsonSerializable {

  public static final String PHASE = "phase";
  public static final String PROGRESS = "progress";
  public static final String NODE = "node";
  public static final String LOG = "log";
  public static final String WARNING = "warning";
  public static final String ERROR = "error";
  public static final String TRUNCATED = "truncated";
}
