package dev.deployrt.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Base64;
import java.util.Set;

/**
 * Where the CLI talks to and as whom. Each setting comes from the first source that has it: flags,
 * then {@code DEPLOY_URL} / {@code DEPLOY_USER} / {@code DEPLOY_PASSWORD} / {@code DEPLOY_TOKEN},
 * then the config file ({@code --config}, else {@code $XDG_CONFIG_HOME/deployctl/config.json}, else
 * {@code ~/.config/deployctl/config.json}). Credentials come as a whole from the first source that
 * names a user or a token, so a token in the environment is not mixed with a user from the file;
 * the password is the first one given ({@code --password}, {@code DEPLOY_PASSWORD}, the file). The
 * config file holds secrets, so it must not be readable by other users (mode 0600), or it is
 * refused.
 */
public record Target(URI url, String authorization, String who) {
  public static final String DEFAULT_URL = "http://127.0.0.1:9925";

  /**
   * The config file's fields; unknown fields are an error, so a typo does not silently do nothing.
   */
  public record ConfigFile(String url, String user, String password, String token) {
    static final ConfigFile EMPTY = new ConfigFile(null, null, null, null);
  }

  /** What the flags said; null where a flag was not given. */
  public record Flags(String url, String user, String password, String token, Path config) {}

  public static Target resolve(Flags flags, Session session) {
    ConfigFile file = readConfig(configPath(flags, session));
    String url = first(flags.url(), session.env("DEPLOY_URL"), file.url(), DEFAULT_URL);
    String password = first(flags.password(), session.env("DEPLOY_PASSWORD"), file.password());
    String authorization = null;
    String who = "nobody (no credentials given)";
    if (flags.token() != null || flags.user() != null) {
      authorization = credentials(flags.token(), flags.user(), password, "--user");
      who = flags.token() != null ? "the token from --token" : flags.user();
    } else if (session.env("DEPLOY_TOKEN") != null || session.env("DEPLOY_USER") != null) {
      authorization =
          credentials(
              session.env("DEPLOY_TOKEN"), session.env("DEPLOY_USER"), password, "DEPLOY_USER");
      who =
          session.env("DEPLOY_TOKEN") != null
              ? "the token in DEPLOY_TOKEN"
              : session.env("DEPLOY_USER");
    } else if (file.token() != null || file.user() != null) {
      authorization = credentials(file.token(), file.user(), password, "the config file's user");
      who = file.token() != null ? "the token in the config file" : file.user();
    }
    URI uri;
    try {
      uri = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
    } catch (IllegalArgumentException e) {
      throw new CliException(
          CliException.USAGE, "not a URL: " + url + " (expected e.g. " + DEFAULT_URL + ")");
    }
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())
        || uri.getHost() == null) {
      throw new CliException(
          CliException.USAGE,
          "not an http(s) URL: " + url + " (expected e.g. " + DEFAULT_URL + ")");
    }
    return new Target(uri, authorization, who);
  }

  static Path configPath(Flags flags, Session session) {
    if (flags.config() != null) {
      return flags.config();
    }
    String xdg = session.env("XDG_CONFIG_HOME");
    Path base = xdg != null ? Path.of(xdg) : session.home().resolve(".config");
    return base.resolve("deployctl").resolve("config.json");
  }

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  static ConfigFile readConfig(Path path) {
    if (!Files.exists(path)) {
      return ConfigFile.EMPTY;
    }
    try {
      refuseIfOthersCanAccess(path);
      return JSON.readValue(path.toFile(), ConfigFile.class);
    } catch (IOException e) {
      throw new CliException(
          CliException.USAGE,
          "cannot read the config file "
              + path
              + ": "
              + e.getMessage()
              + " (expected JSON with any of url, user, password, token)");
    }
  }

  /** On a file system without POSIX permissions there is nothing to check. */
  private static void refuseIfOthersCanAccess(Path path) throws IOException {
    Set<PosixFilePermission> mode;
    try {
      mode = Files.getPosixFilePermissions(path);
    } catch (UnsupportedOperationException e) {
      return;
    }
    if (mode.stream()
        .anyMatch(p -> p.name().startsWith("GROUP_") || p.name().startsWith("OTHERS_"))) {
      throw new CliException(
          CliException.USAGE,
          path + " may hold credentials but other users can access it:" + " run chmod 600 " + path);
    }
  }

  private static String credentials(String token, String user, String password, String userSource) {
    if (token != null) {
      return "Bearer " + token;
    }
    if (password == null) {
      throw new CliException(
          CliException.USAGE,
          "no password for user "
              + user
              + " (from "
              + userSource
              + "): give --password, set DEPLOY_PASSWORD, or put it in the config file");
    }
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The password these credentials sign in with, if they are a user's (HTTP Basic), not a token's.
   */
  java.util.Optional<String> password() {
    if (!authorization.startsWith("Basic ")) {
      return java.util.Optional.empty();
    }
    String pair =
        new String(Base64.getDecoder().decode(authorization.substring(6)), StandardCharsets.UTF_8);
    return java.util.Optional.of(pair.substring(pair.indexOf(':') + 1));
  }

  private static String first(String... values) {
    for (String v : values) {
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return null;
  }
}
