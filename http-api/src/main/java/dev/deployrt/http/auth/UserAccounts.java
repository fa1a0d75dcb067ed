package dev.deployrt.http.auth;

import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.http.auth.UserStore.UserInfo;
import dev.deployrt.persistence.sql.AccountsSql;
import dev.deployrt.readmodel.SharedPool;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The users, as admins manage them ({@code /users}): listed, created, changed (role, password) and
 * deleted. Every change that could make a cached credential wrong moves the credentials epoch in
 * its transaction and clears this node's cache ({@link CredentialCache}); the last admin can be
 * neither deleted nor demoted; a deleted user's tokens are revoked with it.
 */
public final class UserAccounts {
  private static final Logger log = LoggerFactory.getLogger(UserAccounts.class);

  private final SharedPool pool;
  private final AccountsDatabase database;
  private final CredentialCache credentials;
  private final Executor blocking;

  UserAccounts(
      SharedPool pool, AccountsDatabase database, CredentialCache credentials, Executor blocking) {
    this.pool = pool;
    this.database = database;
    this.credentials = credentials;
    this.blocking = blocking;
  }

  public CompletionStage<List<UserInfo>> users() {
    return database.supply(
        () -> {
          try (Connection c = pool.connection();
              PreparedStatement q = c.prepareStatement(AccountsSql.SELECT_USERS);
              ResultSet rs = q.executeQuery()) {
            List<UserInfo> out = new ArrayList<>();
            while (rs.next()) {
              out.add(userInfo(rs));
            }
            return out;
          }
        });
  }

  public CompletionStage<UserInfo> createUser(String name, Role role, String password, User by) {
    checkName(name);
    checkPassword(password);
    return hashPassword(password)
        .thenCompose(
            hash ->
                database.supply(
                    () -> {
                      long now = System.currentTimeMillis();
                      try (Connection c = pool.connection()) {
                        if (userRow(c, name) != null) {
                          throw new ApiException(
                                  ErrorCode.CONFLICT, "user '" + name + "' already exists")
                              .with("user", name);
                        }
                        try (PreparedStatement insert =
                            c.prepareStatement(AccountsSql.INSERT_USER)) {
                          insert.setString(1, name);
                          insert.setString(2, role.name());
                          insert.setString(3, hash);
                          insert.setLong(4, now);
                          insert.setString(5, by.name());
                          insert.setLong(6, now);
                          insert.executeUpdate();
                        } catch (SQLException e) {
                          if (userRow(c, name) != null) {
                            throw new ApiException(
                                    ErrorCode.CONFLICT, "user '" + name + "' already exists")
                                .with("user", name);
                          }
                          throw e;
                        }
                        log.info(
                            "user {} (role {}) created by {}", name, role.apiName(), by.name());
                        return userRow(c, name);
                      }
                    }));
  }

  /**
   * Changes a user's role and/or password (null: unchanged). A new password ends the user's console
   * sessions.
   */
  public CompletionStage<UserInfo> updateUser(String name, Role role, String password, User by) {
    if (password != null) {
      checkPassword(password);
    }
    CompletionStage<String> hash =
        password == null ? CompletableFuture.completedFuture(null) : hashPassword(password);
    return hash.thenCompose(
            newHash ->
                database
                    .transaction(
                        c -> {
                          UserInfo current =
                              role == null
                                  ? existingUser(c, name)
                                  : existingUserAdminsLockedFirst(c, name);
                          if (role != null && current.role() == Role.ADMIN && role != Role.ADMIN) {
                            requireAnotherAdmin(c, name);
                          }
                          try (PreparedStatement update =
                              c.prepareStatement(AccountsSql.UPDATE_USER)) {
                            update.setString(1, role == null ? null : role.name());
                            update.setString(2, newHash);
                            update.setLong(3, System.currentTimeMillis());
                            update.setString(4, name);
                            update.executeUpdate();
                          }
                          if (newHash != null) {
                            SessionStore.closeAllOf(c, name);
                          }
                          CredentialCache.moveEpoch(c);
                          return userRow(c, name);
                        })
                    .thenApply(
                        changed -> {
                          log.info(
                              "user {} changed by {}{}{}",
                              name,
                              by.name(),
                              role == null ? "" : ": role " + role.apiName(),
                              newHash == null ? "" : ": new password");
                          return changed;
                        }))
        .thenApply(this::changed);
  }

  /**
   * Within the caller's transaction: the user's row, locked until the transaction ends (so a
   * delete, an update and a token's creation for one user run one after another), or 404 when there
   * is none.
   */
  static UserInfo existingUser(Connection c, String name) throws SQLException {
    try (PreparedStatement q = c.prepareStatement(AccountsSql.SELECT_USER_BY_NAME_FOR_UPDATE)) {
      q.setString(1, name);
      try (ResultSet rs = q.executeQuery()) {
        if (!rs.next()) {
          throw new ApiException(ErrorCode.NOT_FOUND, "no user '" + name + "'").with("user", name);
        }
        return userInfo(rs);
      }
    }
  }

  /**
   * Within the caller's transaction: locks every admin's row, in name order, and then returns the
   * user's row as {@link #existingUser} does. For changes that can take away an admin (a delete, a
   * role change): they all take the admins' locks first and in one order, so two of them run one
   * after the other instead of each holding the row the other's last-admin check needs (two admins
   * deleted at once deadlocked in the database before, and one of the two got 503).
   */
  private static UserInfo existingUserAdminsLockedFirst(Connection c, String name)
      throws SQLException {
    try (PreparedStatement q = c.prepareStatement(AccountsSql.LOCK_ADMINS);
        ResultSet rs = q.executeQuery()) {
      while (rs.next()) {
        // Reading every row takes every lock.
      }
    }
    return existingUser(c, name);
  }

  /** Deletes a user, revokes their tokens and ends their console sessions. */
  public CompletionStage<Void> deleteUser(String name, User by) {
    return database
        .transaction(
            c -> {
              UserInfo current = existingUserAdminsLockedFirst(c, name);
              if (current.role() == Role.ADMIN) {
                requireAnotherAdmin(c, name);
              }
              try (PreparedStatement revoke = c.prepareStatement(AccountsSql.REVOKE_USER_TOKENS);
                  PreparedStatement delete = c.prepareStatement(AccountsSql.DELETE_USER)) {
                revoke.setLong(1, System.currentTimeMillis());
                revoke.setString(2, by.name());
                revoke.setString(3, name);
                revoke.executeUpdate();
                delete.setString(1, name);
                delete.executeUpdate();
              }
              SessionStore.closeAllOf(c, name);
              CredentialCache.moveEpoch(c);
              return (Void) null;
            })
        .thenApply(
            done -> {
              log.info(
                  "user {} deleted by {} (their tokens revoked, their sessions ended)",
                  name,
                  by.name());
              return done;
            })
        .thenApply(this::changed);
  }

  /**
   * Within the caller's transaction, after {@link #existingUserAdminsLockedFirst}: fails with 409
   * unless an admin other than {@code name} exists. The admins' rows are locked, so two concurrent
   * demotions or deletes cannot both pass.
   */
  private static void requireAnotherAdmin(Connection c, String name) throws SQLException {
    try (PreparedStatement q = c.prepareStatement(AccountsSql.SELECT_OTHER_ADMINS)) {
      q.setString(1, name);
      try (ResultSet rs = q.executeQuery()) {
        if (!rs.next()) {
          throw new ApiException(
                  ErrorCode.CONFLICT,
                  "'" + name + "' is the last admin: create another admin first")
              .with("user", name);
        }
      }
    }
  }

  /**
   * Clears this node's cache now; the others clear theirs when they see the epoch the change moved.
   */
  private <T> T changed(T result) {
    credentials.clear();
    return result;
  }

  private CompletionStage<String> hashPassword(String password) {
    return CompletableFuture.supplyAsync(() -> PasswordHashing.hash(password), blocking);
  }

  private static void checkName(String name) {
    if (name == null || !UserStore.NAME.matcher(name).matches()) {
      throw ApiException.invalid("name: must match " + UserStore.NAME.pattern())
          .with("field", "name");
    }
  }

  private static void checkPassword(String password) {
    if (password == null || !UserStore.validPasswordLength(password)) {
      throw ApiException.invalid(
              "password: "
                  + UserStore.MIN_PASSWORD
                  + " to "
                  + UserStore.MAX_PASSWORD
                  + " characters")
          .with("field", "password");
    }
  }

  static UserInfo userRow(Connection c, String name) throws SQLException {
    try (PreparedStatement q = c.prepareStatement(AccountsSql.SELECT_USER_BY_NAME)) {
      q.setString(1, name);
      try (ResultSet rs = q.executeQuery()) {
        return rs.next() ? userInfo(rs) : null;
      }
    }
  }

  private static UserInfo userInfo(ResultSet rs) throws SQLException {
    return new UserInfo(
        rs.getString(1),
        Role.valueOf(rs.getString(2)),
        AccountsDatabase.instant(rs, 3),
        rs.getString(4),
        AccountsDatabase.instant(rs, 5));
  }
}
