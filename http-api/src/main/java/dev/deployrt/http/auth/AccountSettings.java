package dev.deployrt.http.auth;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The accounts' settings, read once from {@code deploy}: the first admin's password ({@code
 * admin-password}, from {@code DEPLOY_ADMIN_PASSWORD}; empty means generate one) and how often a
 * node asks the database whether credentials changed elsewhere ({@code
 * credentials-check-interval}), and how long a console session lasts ({@code http.session-ttl}).
 */
public record AccountSettings(
    String adminPassword, Duration credentialsCheckInterval, Duration sessionTtl) {

  /**
   * @throws IllegalArgumentException if an admin password is set but is not one the API would
   *     accept for any user: a clear start-up error, not a weak admin
   */
  public AccountSettings {
    AdminBootstrap.checkAdminPassword(adminPassword);
  }

  public static AccountSettings fromConfig(Config config) {
    Config deploy = config.getConfig("deploy");
    return new AccountSettings(
        deploy.getString("admin-password"),
        deploy.getDuration("credentials-check-interval"),
        deploy.getDuration("http.session-ttl"));
  }
}
