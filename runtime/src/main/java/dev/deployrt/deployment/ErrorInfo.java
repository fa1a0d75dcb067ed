package dev.deployrt.deployment;

import dev.deployrt.serialization.JsonSerializable;

/** Why a deployment, or one node's part of it, failed. {@code phase} and {@code node} may be null. */
public record ErrorInfo(String message, String code, String phase, String node) implements JsonSerializable {}
