package dev.deployrt.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.deployrt.persistence.DatabaseConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Completes a loaded configuration with what is derived from it: seed-node addresses from {@code
 * deploy.cluster.seed-nodes} (host:port list), this node's cluster role, and the database settings
 * from {@code deploy.db}. Used by the node's main and by tests alike.
 */
public final class NodeConfig {
  public static final String SYSTEM_NAME = "deploy";
  public static final String NODE_ROLE_PREFIX = "node:";

  private NodeConfig() {}

  public static Config complete(Config loaded) {
    Config config = loaded.resolve();
    List<String> seeds = new ArrayList<>();
    for (String hostPort : config.getString("deploy.cluster.seed-nodes").split(",")) {
      String trimmed = hostPort.trim();
      if (!trimmed.isEmpty()) {
        if (!trimmed.matches("^[^:/@]+:\\d{1,5}$")) {
          throw new IllegalArgumentException(
              "DEPLOY_SEED_NODES entries must be host:port, not '" + trimmed + "'");
        }
        seeds.add("pekko://" + SYSTEM_NAME + "@" + trimmed);
      }
    }
    String nodeName = NodeSettings.nodeName(config.getString("deploy.node-name"));
    Path dataDir = Path.of(config.getString("deploy.data-dir"));
    List<String> roles = new ArrayList<>(config.getStringList("pekko.cluster.roles"));
    roles.add(NODE_ROLE_PREFIX + nodeName);
    Config derived =
        ConfigFactory.empty()
            .withValue("deploy.node-name", ConfigValueFactory.fromAnyRef(nodeName))
            .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(roles));
    if (!seeds.isEmpty()) {
      derived =
          derived.withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds));
    }
    derived = clusterTls(config).withFallback(derived);
    return derived
        .withFallback(DatabaseConfig.overlay(config, dataDir))
        .withFallback(config)
        .resolve();
  }

  /**
   * {@code deploy.cluster.tls} as Artery settings: transport {@code tls-tcp} with Pekko's
   * ConfigSSLEngineProvider (TLS 1.3, mutual authentication on), or nothing when no keystore is
   * set.
   */
  static Config clusterTls(Config config) {
    Config tls = config.getConfig("deploy.cluster.tls");
    String keystore = tls.getString("keystore");
    if (keystore.isBlank()) {
      return ConfigFactory.empty();
    }
    if (!Path.of(keystore).toFile().isFile()) {
      throw new IllegalArgumentException(
          "deploy.cluster.tls.keystore: no keystore file at '" + keystore + "'");
    }
    String truststore =
        tls.getString("truststore").isBlank() ? keystore : tls.getString("truststore");
    String trustPassword =
        tls.getString("truststore").isBlank()
            ? tls.getString("keystore-password")
            : tls.getString("truststore-password");
    String engine = "pekko.remote.artery.ssl.config-ssl-engine.";
    return ConfigFactory.empty()
        .withValue("pekko.remote.artery.transport", ConfigValueFactory.fromAnyRef("tls-tcp"))
        .withValue(engine + "key-store", ConfigValueFactory.fromAnyRef(keystore))
        .withValue(
            engine + "key-store-password",
            ConfigValueFactory.fromAnyRef(tls.getString("keystore-password")))
        .withValue(
            engine + "key-password",
            ConfigValueFactory.fromAnyRef(tls.getString("keystore-password")))
        .withValue(engine + "trust-store", ConfigValueFactory.fromAnyRef(truststore))
        .withValue(engine + "trust-store-password", ConfigValueFactory.fromAnyRef(trustPassword))
        .withValue(engine + "require-mutual-authentication", ConfigValueFactory.fromAnyRef(true));
  }

  /** Loads the node's configuration (see {@link #load(Config)}) with no extra overrides. */
  public static Config load() {
    return load(ConfigFactory.empty());
  }

  /**
   * Layers, highest first: {@code overrides} (tests), system properties, application.conf (or
   * {@code -Dconfig.file}), every {@code deploy-defaults.conf} on the classpath (the settings this
   * project sets for Pekko and other libraries), the reference.conf files. Then completes it.
   */
  public static Config load(Config overrides) {
    ConfigFactory.invalidateCaches();
    Config layered =
        overrides
            .withFallback(ConfigFactory.defaultOverrides())
            .withFallback(ConfigFactory.defaultApplication())
            .withFallback(ConfigFactory.parseResourcesAnySyntax("deploy-defaults"))
            .withFallback(ConfigFactory.defaultReferenceUnresolved());
    return complete(layered);
  }
}
