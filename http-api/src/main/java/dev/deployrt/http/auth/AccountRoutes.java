package dev.deployrt.http.auth;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.http.ApiJson;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Users and API tokens (admin only, except that a user may change their own password):
 *
 * <pre>
 * GET    /users                  {"users": [user...]}
 * POST   /users                  {"name", "role", "password"}            201 user
 * GET    /users/{name}           user (admin, or the user themself)
 * PATCH  /users/{name}           {"role"?, "password"?, "current_password"?}  200 user
 *                                (one's own password only with the current one)
 * DELETE /users/{name}           204; their tokens are revoked
 * GET    /tokens                 {"tokens": [token...]}  (never the secret)
 * POST   /tokens                 {"user"?, "description"?, "expires_at"?}  201 token + "token": secret, once
 * DELETE /tokens/{id}            204 (revoked, kept for the audit)
 * </pre>
 *
 * Bodies are JSON objects with only the listed fields: anything else, including any field beginning
 * with {@code _}, is 400 {@code INVALID_REQUEST} naming the field.
 */
public final class AccountRoutes extends AllDirectives {
  private static final int MAX_BODY = 16 * 1024;
  private final UserStore users;
  private final Authentication auth;

  public AccountRoutes(UserStore users, Authentication auth) {
    this.users = users;
    this.auth = auth;
  }

  public Route route() {
    return concat(
        pathPrefix("users", () -> auth.authenticated(this::users)),
        pathPrefix(
            "tokens",
            () -> auth.authenticated(caller -> auth.requireAdmin(caller, () -> tokens(caller)))));
  }

  private Route users(User caller) {
    return concat(
        pathEndOrSingleSlash(
            () ->
                concat(
                    get(() -> auth.requireAdmin(caller, this::listUsers)),
                    post(() -> auth.requireAdmin(caller, () -> createUser(caller))))),
        path(
            segment(),
            name ->
                concat(
                    get(() -> readUser(caller, name)),
                    patch(
                        () -> auth.withClientAddress(address -> changeUser(caller, name, address))),
                    delete(
                        () ->
                            auth.requireAdmin(
                                caller,
                                () ->
                                    onSuccess(
                                        users.accounts().deleteUser(name, caller),
                                        done -> noContent()))))));
  }

  private Route listUsers() {
    return onSuccess(
        users.accounts().users(),
        list -> {
          ArrayNode out = ApiJson.MAPPER.createArrayNode();
          list.forEach(u -> out.add(user(u)));
          return ok(200, wrap("users", out));
        });
  }

  private Route createUser(User caller) {
    return body(
        Set.of("name", "role", "password"),
        fields -> {
          CompletionStage<UserStore.UserInfo> created =
              users
                  .accounts()
                  .createUser(
                      text(fields, "name", true),
                      role(fields, true),
                      text(fields, "password", true),
                      caller);
          return onSuccess(
              created,
              u ->
                  complete(
                      HttpResponse.create()
                          .withStatus(201)
                          .addHeader(Location.create("/users/" + u.name()))
                          .withEntity(ApiJson.entity(user(u)))));
        });
  }

  /** An admin reads anyone; a user only themself. */
  private Route readUser(User caller, String name) {
    if (!caller.role().isAdmin() && !caller.name().equals(name)) {
      throw new ApiException(ErrorCode.FORBIDDEN, "this needs role 'admin'");
    }
    return onSuccess(
        users.accounts().users(),
        list ->
            list.stream()
                .filter(u -> u.name().equals(name))
                .findFirst()
                .map(u -> ok(200, user(u)))
                .orElseThrow(
                    () -> ApiException.notFound("no user '" + name + "'").with("user", name)));
  }

  /**
   * An admin changes anyone's role or password; a user only their own password. One's own password,
   * also an admin's, needs the current one: a leaked token must not be enough to take the account.
   */
  private Route changeUser(User caller, String name, String address) {
    return body(
        Set.of("role", "password", "current_password"),
        fields -> {
          Role role = role(fields, false);
          String password = text(fields, "password", false);
          String current = text(fields, "current_password", false);
          boolean own = caller.name().equals(name);
          boolean ownPassword = own && role == null && password != null;
          if (!caller.role().isAdmin() && !ownPassword) {
            throw new ApiException(
                ErrorCode.FORBIDDEN,
                "this needs role 'admin' (a user may change their own password)");
          }
          if (role == null && password == null) {
            throw ApiException.invalid("nothing to change: give 'role' and/or 'password'");
          }
          if (!own || password == null) {
            return onSuccess(
                users.accounts().updateUser(name, role, password, caller), u -> ok(200, user(u)));
          }
          if (current == null) {
            throw ApiException.invalid("changing your own password needs 'current_password'")
                .with("field", "current_password");
          }
          return onSuccess(
              auth.checkPassword(name, current, address)
                  .thenCompose(
                      matches -> {
                        if (!matches) {
                          throw new ApiException(
                                  ErrorCode.FORBIDDEN,
                                  "'current_password' is not your current password")
                              .with("field", "current_password");
                        }
                        return users.accounts().updateUser(name, role, password, caller);
                      }),
              u -> ok(200, user(u)));
        });
  }

  private Route tokens(User caller) {
    return concat(
        pathEndOrSingleSlash(
            () ->
                concat(
                    get(
                        () ->
                            onSuccess(
                                users.tokenStore().tokens(),
                                list -> {
                                  ArrayNode out = ApiJson.MAPPER.createArrayNode();
                                  list.forEach(t -> out.add(token(t)));
                                  return ok(200, wrap("tokens", out));
                                })),
                    post(
                        () ->
                            body(
                                Set.of("user", "description", "expires_at"),
                                fields -> {
                                  String owner = text(fields, "user", false);
                                  CompletionStage<TokenStore.NewToken> created =
                                      users
                                          .tokenStore()
                                          .createToken(
                                              owner == null ? caller.name() : owner,
                                              text(fields, "description", false),
                                              instant(fields, "expires_at"),
                                              caller);
                                  return onSuccess(
                                      created,
                                      t ->
                                          complete(
                                              HttpResponse.create()
                                                  .withStatus(201)
                                                  .withEntity(
                                                      ApiJson.entity(
                                                          token(t.info())
                                                              .put("token", t.secret())))));
                                })))),
        path(
            segment(),
            id ->
                delete(
                    () ->
                        onSuccess(
                            users.tokenStore().revokeToken(id, caller), done -> noContent()))));
  }

  private Route noContent() {
    return complete(HttpResponse.create().withStatus(204));
  }

  // ---- JSON in ----------------------------------------------------------------------------------

  private Route body(
      Set<String> allowed, java.util.function.Function<Map<String, JsonNode>, Route> inner) {
    return withSizeLimit(
        MAX_BODY,
        () ->
            entity(
                org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller.entityToString(),
                body -> inner.apply(ApiJson.objectFields(body, allowed))));
  }

  private static String text(Map<String, JsonNode> fields, String name, boolean required) {
    JsonNode v = fields.get(name);
    if (v == null || v.isNull()) {
      if (required) {
        throw ApiException.invalid("field '" + name + "' is required").with("field", name);
      }
      return null;
    }
    if (!v.isTextual()) {
      throw ApiException.invalid("field '" + name + "' must be a string").with("field", name);
    }
    return v.asText();
  }

  private static Role role(Map<String, JsonNode> fields, boolean required) {
    String value = text(fields, "role", required);
    if (value == null) {
      return null;
    }
    for (Role r : Role.values()) {
      if (r.apiName().equals(value)) {
        return r;
      }
    }
    throw ApiException.invalid("field 'role' must be one of admin, deployer, viewer")
        .with("field", "role");
  }

  private static Instant instant(Map<String, JsonNode> fields, String name) {
    String value = text(fields, name, false);
    if (value == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(value).toInstant();
    } catch (DateTimeParseException e) {
      throw ApiException.invalid("field '" + name + "' must be an ISO-8601 time with an offset")
          .with("field", name);
    }
  }

  // ---- JSON out ---------------------------------------------------------------------------------

  private static ObjectNode user(UserStore.UserInfo u) {
    ObjectNode out = ApiJson.MAPPER.createObjectNode();
    out.put("name", u.name());
    out.put("role", u.role().name().toLowerCase(Locale.ROOT));
    out.put("created_at", ApiJson.time(u.createdAt()));
    out.put("created_by", u.createdBy());
    out.put("updated_at", ApiJson.time(u.updatedAt()));
    return out;
  }

  private static ObjectNode token(TokenStore.TokenInfo t) {
    ObjectNode out = ApiJson.MAPPER.createObjectNode();
    out.put("id", t.id());
    out.put("user", t.user());
    out.put("description", t.description());
    out.put("created_at", ApiJson.time(t.createdAt()));
    out.put("created_by", t.createdBy());
    out.put("expires_at", ApiJson.time(t.expiresAt()));
    out.put("revoked_at", ApiJson.time(t.revokedAt()));
    out.put("revoked_by", t.revokedBy());
    out.put(
        "active",
        t.revokedAt() == null && (t.expiresAt() == null || t.expiresAt().isAfter(Instant.now())));
    return out;
  }

  private static ObjectNode wrap(String name, ArrayNode items) {
    ObjectNode out = ApiJson.MAPPER.createObjectNode();
    out.set(name, items);
    return out;
  }

  private Route ok(int status, JsonNode body) {
    return complete(HttpResponse.create().withStatus(status).withEntity(ApiJson.entity(body)));
  }
}
