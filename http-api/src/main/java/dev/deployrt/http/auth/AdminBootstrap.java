package dev.deployrt.http.auth;

import dev.deployrt.async.Failures;
import dev.deployrt.persistence.sql.AccountsSql;
import dev.deployrt.readmodel.SharedPool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates user {@code admin} when the node first starts on an empty user table: with {@code
 * DEPLOY_ADMIN_PASSWORD}, or with a random password written to {@code
 * <data>/initial-admin-password} (mode 0600, never logged) before the user is created, so no admin
 * exists whose password nobody can read. Retried until it succeeds; two nodes doing it at once end
 * with one admin.
 */
final class AdminBootstrap {
  private static final Logger log = LoggerFactory.getLogger(AdminBootstrap.class);
  private static final Duration RETRY_MIN = Duration.ofSeconds(1);
  private static final Duration RETRY_MAX = Duration.ofSeconds(30);

  private final SharedPool pool;
  private final Path dataDir;
  private final String adminPassword;
  private final String nodeName;
  private final Executor blocking;
  private final Runnable afterwards;
  private final Executor afterwardsOn;
  private final CompletionStage<?> stopped;
  private final CompletableFuture<Void> done = new CompletableFuture<>();

  /**
   * @param afterwards what else must succeed before the store serves sign-ins (run on {@code
   *     afterwardsOn})
   * @param stopped completes when the node stops: no retry after that
   */
  AdminBootstrap(
      SharedPool pool,
      Path dataDir,
      String adminPassword,
      String nodeName,
      Executor blocking,
      Runnable afterwards,
      Executor afterwardsOn,
      CompletionStage<?> stopped) {
    this.pool = pool;
    this.dataDir = dataDir;
    this.adminPassword = adminPassword;
    this.nodeName = nodeName;
    this.blocking = blocking;
    this.afterwards = afterwards;
    this.afterwardsOn = afterwardsOn;
    this.stopped = stopped;
  }

  /** Starts once {@code databaseReady} completes; the result completes when the admin exists. */
  CompletableFuture<Void> startAfter(CompletionStage<?> databaseReady) {
    databaseReady.thenRun(() -> attempt(RETRY_MIN));
    return done;
  }

  /**
   * Refuses a {@code DEPLOY_ADMIN_PASSWORD} (deploy.admin-password) that the API would refuse for
   * any user: checked when the node starts, so a weak one is a clear start-up error, not a weak
   * admin.
   */
  static void checkAdminPassword(String adminPassword) {
    if (adminPassword != null
        && !adminPassword.isEmpty()
        && !UserStore.validPasswordLength(adminPassword)) {
      throw new IllegalArgumentException(
          "DEPLOY_ADMIN_PASSWORD (deploy.admin-password) must be "
              + UserStore.MIN_PASSWORD
              + " to "
              + UserStore.MAX_PASSWORD
              + " characters long, as every user's password; it has "
              + adminPassword.length());
    }
  }

  /**
   * Creates the initial admin (if the store is empty), then runs {@code afterwards}; retried with
   * doubling pauses until both succeed, so a database hiccup or a data directory that refused the
   * password file at the first try does not leave the node unable to sign anyone in until it
   * restarts.
   */
  private void attempt(Duration retryIn) {
    CompletableFuture.runAsync(this::createAdmin, blocking)
        .thenRunAsync(afterwards, afterwardsOn)
        .whenComplete(
            (ok, e) -> {
              if (e == null) {
                done.complete(null);
                return;
              }
              if (stopped.toCompletableFuture().isDone()) {
                return;
              }
              log.error(
                  "could not create the initial admin user ({}); retrying in {} s",
                  Failures.cause(e).toString(),
                  retryIn.toSeconds());
              Duration next =
                  retryIn.multipliedBy(2).compareTo(RETRY_MAX) > 0
                      ? RETRY_MAX
                      : retryIn.multipliedBy(2);
              CompletableFuture.delayedExecutor(retryIn.toMillis(), TimeUnit.MILLISECONDS, blocking)
                  .execute(() -> attempt(next));
            });
  }

  private void createAdmin() {
    try (Connection c = pool.connection()) {
      try (PreparedStatement q = c.prepareStatement(AccountsSql.COUNT_USERS);
          ResultSet rs = q.executeQuery()) {
        rs.next();
        if (rs.getLong(1) > 0) {
          return;
        }
      }
      boolean generated = adminPassword == null || adminPassword.isEmpty();
      String password = generated ? randomPassword() : adminPassword;
      if (generated) {
        // Before the user exists: a password file that cannot be written fails this attempt, which
        // is retried, instead of creating an admin whose password nobody can ever read.
        writePrivate(dataDir.resolve("initial-admin-password"), password);
      }
      long now = System.currentTimeMillis();
      try (PreparedStatement insert = c.prepareStatement(AccountsSql.INSERT_USER)) {
        insert.setString(1, "admin");
        insert.setString(2, Role.ADMIN.name());
        insert.setString(3, PasswordHashing.hash(password));
        insert.setLong(4, now);
        insert.setString(5, "bootstrap@" + nodeName);
        insert.setLong(6, now);
        insert.executeUpdate();
      } catch (SQLException e) {
        if (UserAccounts.userRow(c, "admin") != null) {
          // Another node created it at the same moment: its password file is on that node.
          if (generated) {
            try {
              Files.deleteIfExists(dataDir.resolve("initial-admin-password"));
            } catch (IOException ignored) {
              // the file names a password that was never set; the log line below says where it is
            }
          }
          log.info(
              "user admin was created by another node at the same moment: its password is on that node");
          return;
        }
        throw e;
      }
      if (generated) {
        log.info(
            "created user admin; its password is in {} (mode 0600)",
            dataDir.resolve("initial-admin-password"));
      } else {
        log.info("created user admin with the password from DEPLOY_ADMIN_PASSWORD");
      }
    } catch (SQLException e) {
      throw new CompletionException(e);
    }
  }

  private static String randomPassword() {
    byte[] bytes = new byte[18];
    new SecureRandom().nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** Writes a file readable by its owner only, atomically. */
  private static void writePrivate(Path file, String content) {
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.deleteIfExists(tmp);
      Files.createFile(
          tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(tmp, content, StandardOpenOption.WRITE);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
