package dev.deployrt.deployment;

import dev.deployrt.serialization.JsonSerializable;
import java.time.Instant;

/** One target node's status for a deployment; {@code error} is set when it failed. */
public record NodeResult(NodeStatus status, Instant updatedAt, ErrorInfo error)
    implements JsonSerializable {}
