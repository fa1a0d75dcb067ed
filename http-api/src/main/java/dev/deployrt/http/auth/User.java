package dev.deployrt.http.auth;

/** An authenticated caller. The name is what deployments record as their {@code user}. */
public record User(String name, Role role) {}
