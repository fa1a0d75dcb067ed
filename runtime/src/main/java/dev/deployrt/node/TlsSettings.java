package dev.deployrt.node;

import com.typesafe.config.Config;
import java.io.File;
import java.security.KeyStore;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS for the operations API ({@code deploy.http.tls}): the server's key and certificate, and what
 * a node trusts when it calls a peer's API. Absent keystore = plain HTTP for both. A keystore that
 * cannot be read stops the node at start with a message naming the file, not at the first request.
 */
public record TlsSettings(Optional<SSLContext> server, Optional<SSLContext> client) {

  public static final TlsSettings NONE = new TlsSettings(Optional.empty(), Optional.empty());

  public boolean enabled() {
    return server.isPresent();
  }

  /** The scheme of this node's API: {@code https} with TLS, else {@code http}. */
  public String scheme() {
    return enabled() ? "https" : "http";
  }

  /** Reads {@code deploy.http.tls} from the root config. */
  public static TlsSettings fromConfig(Config config) {
    Config tls = config.getConfig("deploy.http.tls");
    String keystorePath = tls.getString("keystore");
    if (keystorePath.isBlank()) {
      return NONE;
    }
    try {
      char[] keyPassword = tls.getString("keystore-password").toCharArray();
      KeyStore keys = load(keystorePath, keyPassword);
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, keyPassword);
      SSLContext server = SSLContext.getInstance("TLS");
      server.init(kmf.getKeyManagers(), null, null);

      String truststorePath = tls.getString("truststore");
      KeyStore trusted =
          truststorePath.isBlank()
              ? keys
              : load(truststorePath, tls.getString("truststore-password").toCharArray());
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trusted);
      SSLContext client = SSLContext.getInstance("TLS");
      client.init(null, tmf.getTrustManagers(), null);
      return new TlsSettings(Optional.of(server), Optional.of(client));
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalArgumentException(
          "deploy.http.tls: cannot use keystore '"
              + keystorePath
              + "' or its truststore: "
              + e.getMessage(),
          e);
    }
  }

  private static KeyStore load(String path, char[] password) throws Exception {
    File file = new File(path);
    if (!file.isFile()) {
      throw new IllegalArgumentException("deploy.http.tls: no keystore file at '" + path + "'");
    }
    return KeyStore.getInstance(file, password);
  }
}
