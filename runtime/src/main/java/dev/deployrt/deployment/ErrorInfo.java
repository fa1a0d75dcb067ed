package dev.deployrt.deployment;

import dev.deployrt.errors.ErrorCode;
import dev.deployrt.serialization.JsonSerializable;

/**
 * Why a deployment, or one node's part of it, failed. {@code code} is an {@link ErrorCode}'s name
 * (kept as text: it is journaled); {@code phase} and {@code node} may be null.
 */
public record ErrorInfo(String message, String code, String phase, String node)
    implements JsonSerializable {
  public static ErrorInfo of(String message, ErrorCode code, String phase, String node) {
    return new ErrorInfo(message, code.name(), phase, node);
  }
}
