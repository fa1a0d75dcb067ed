package dev.deployrt.http;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.List;

/**
 * The operations API's settings ({@code deploy.http} in this module's reference.conf), read once at
 * start; no other class reads a key of that block. (TLS, which the node-to-node transfers share, is
 * runtime's {@code deploy.http.tls}, read by its {@code TlsSettings}.)
 *
 * @param host where the API listens
 * @param port where the API listens
 * @param advertisedHost the host other nodes use to reach this API; empty = the bound host
 * @param requestHeaderTimeout how long a connection may take to present a complete request's
 *     headers
 * @param trustedProxies reverse proxies whose {@code X-Forwarded-For} the failed-login limits
 *     believe
 * @param askTimeout how long the API waits for an actor it asks before it answers 503
 * @param maxWaitTimeout the largest {@code timeout} a client may ask a deploy to wait
 * @param sseHeartbeat how often an idle event stream gets a comment line
 * @param sseBuffer events buffered per event stream for a slow reader
 * @param payloadDeleteWait how long a payload delete waits for the read model to catch up
 * @param sessionCookieAlwaysSecure whether the console's cookie is marked Secure also without TLS
 *     on this node ({@code session-cookie-secure = on}, for a TLS-terminating proxy)
 * @param testEventStreamMaxEvents tests only: above 0, each event stream ends after this many
 *     events
 */
public record HttpSettings(
    String host,
    int port,
    String advertisedHost,
    Duration requestHeaderTimeout,
    List<String> trustedProxies,
    Duration askTimeout,
    Duration maxWaitTimeout,
    Duration sseHeartbeat,
    int sseBuffer,
    Duration payloadDeleteWait,
    boolean sessionCookieAlwaysSecure,
    int testEventStreamMaxEvents) {

  public HttpSettings {
    trustedProxies = List.copyOf(trustedProxies);
  }

  /** Reads {@code deploy.http} from the root config. */
  public static HttpSettings fromConfig(Config config) {
    Config c = config.getConfig("deploy.http");
    String proxies = c.getString("trusted-proxies");
    return new HttpSettings(
        c.getString("host"),
        c.getInt("port"),
        c.getString("advertised-host"),
        c.getDuration("request-header-timeout"),
        proxies.isBlank() ? List.of() : List.of(proxies.trim().split("\\s*,\\s*")),
        c.getDuration("ask-timeout"),
        c.getDuration("max-wait-timeout"),
        c.getDuration("sse-heartbeat"),
        c.getInt("sse-buffer"),
        c.getDuration("payload-delete-wait"),
        secureCookie(c.getString("session-cookie-secure")),
        c.getInt("test.event-stream-max-events"));
  }

  private static boolean secureCookie(String value) {
    return switch (value) {
      case "auto" -> false;
      case "on" -> true;
      default ->
          throw new IllegalArgumentException(
              "deploy.http.session-cookie-secure must be \"auto\" or \"on\", not \""
                  + value
                  + "\"");
    };
  }
}
