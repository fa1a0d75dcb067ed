package dev.deployrt.http.auth;

import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.persistence.sql.AccountsSql;
import dev.deployrt.readmodel.SharedPool;
import dev.deployrt.text.ClientText;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * API tokens in the shared database ({@code deploy_tokens}): a token is {@code dpt_} and 32 random
 * bytes, shown once when it is created and stored only as its SHA-256; revoked tokens are kept for
 * the audit. A token is created with its user's row locked, so none outlives a user deleted at the
 * same time. Revoking moves the credentials epoch ({@link CredentialCache}), so every node stops
 * accepting the token within about a second. Signing in with a token is {@link
 * UserStore#authenticateToken}.
 */
public final class TokenStore {
  private static final Logger log = LoggerFactory.getLogger(TokenStore.class);

  public record TokenInfo(
      String id,
      String user,
      String description,
      Instant createdAt,
      String createdBy,
      Instant expiresAt,
      Instant revokedAt,
      String revokedBy) {}

  /** A new token: {@code secret} is shown to its creator once and never stored. */
  public record NewToken(TokenInfo info, String secret) {}

  private final SharedPool pool;
  private final AccountsDatabase database;
  private final CredentialCache credentials;

  TokenStore(SharedPool pool, AccountsDatabase database, CredentialCache credentials) {
    this.pool = pool;
    this.database = database;
    this.credentials = credentials;
  }

  public CompletionStage<NewToken> createToken(
      String userName, String description, Instant expiresAt, User by) {
    if (description != null && description.length() > 512) {
      throw ApiException.invalid("description: at most 512 characters")
          .with("field", "description");
    }
    if (description != null && ClientText.hasControlCharacters(description)) {
      throw ApiException.invalid("description: must not contain control characters")
          .with("field", "description");
    }
    if (expiresAt != null && !expiresAt.isAfter(Instant.now())) {
      throw ApiException.invalid("expires_at: must be in the future").with("field", "expires_at");
    }
    String secret = UserStore.newSecret(UserStore.TOKEN_PREFIX);
    String id = UUID.randomUUID().toString();
    long now = System.currentTimeMillis();
    // The user's row stays locked until the token is in: a concurrent delete of the user waits,
    // then revokes it with the others (or this finds the user gone).
    return database
        .transaction(
            c -> {
              UserAccounts.existingUser(c, userName);
              try (PreparedStatement insert = c.prepareStatement(AccountsSql.INSERT_TOKEN)) {
                insert.setString(1, id);
                insert.setString(2, UserStore.sha256(secret));
                insert.setString(3, userName);
                insert.setString(4, description);
                insert.setLong(5, now);
                insert.setString(6, by.name());
                if (expiresAt == null) {
                  insert.setNull(7, Types.BIGINT);
                } else {
                  insert.setLong(7, expiresAt.toEpochMilli());
                }
                insert.executeUpdate();
              }
              return (Void) null;
            })
        .thenApply(
            done -> {
              log.info("token {} for user {} created by {}", id, userName, by.name());
              return new NewToken(
                  new TokenInfo(
                      id,
                      userName,
                      description,
                      Instant.ofEpochMilli(now),
                      by.name(),
                      expiresAt,
                      null,
                      null),
                  secret);
            });
  }

  /** Every token (without secrets), newest first. */
  public CompletionStage<List<TokenInfo>> tokens() {
    return database.supply(
        () -> {
          try (Connection c = pool.connection();
              PreparedStatement q = c.prepareStatement(AccountsSql.SELECT_TOKENS);
              ResultSet rs = q.executeQuery()) {
            List<TokenInfo> out = new ArrayList<>();
            while (rs.next()) {
              out.add(
                  new TokenInfo(
                      rs.getString(1),
                      rs.getString(2),
                      rs.getString(3),
                      AccountsDatabase.instant(rs, 4),
                      rs.getString(5),
                      AccountsDatabase.instant(rs, 6),
                      AccountsDatabase.instant(rs, 7),
                      rs.getString(8)));
            }
            return out;
          }
        });
  }

  /** Revokes a token; revoking it again changes nothing. 404 if there is no such token. */
  public CompletionStage<Void> revokeToken(String id, User by) {
    return database
        .transaction(
            c -> {
              try (PreparedStatement exists = c.prepareStatement(AccountsSql.TOKEN_EXISTS)) {
                exists.setString(1, id);
                try (ResultSet rs = exists.executeQuery()) {
                  if (!rs.next()) {
                    throw new ApiException(ErrorCode.NOT_FOUND, "no token " + id);
                  }
                }
              }
              try (PreparedStatement revoke = c.prepareStatement(AccountsSql.REVOKE_TOKEN)) {
                revoke.setLong(1, System.currentTimeMillis());
                revoke.setString(2, by.name());
                revoke.setString(3, id);
                boolean revoked = revoke.executeUpdate() > 0;
                if (revoked) {
                  CredentialCache.moveEpoch(c);
                }
                return revoked;
              }
            })
        .thenApply(
            revoked -> {
              if (revoked) {
                log.info("token {} revoked by {}", id, by.name());
              }
              credentials.clear(); // this node at once; the others when they see the epoch move
              return (Void) null;
            });
  }
}
