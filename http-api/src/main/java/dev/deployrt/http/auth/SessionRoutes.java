package dev.deployrt.http.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.deployrt.async.Failures;
import dev.deployrt.errors.ApiException;
import dev.deployrt.http.ApiJson;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.HttpCookie;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.SameSite;
import org.apache.pekko.http.javadsl.model.headers.SetCookie;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * The web console's sign-in (API.md, "Web console"):
 *
 * <ul>
 *   <li>{@code POST /session {"user", "password"}} → 204 and the session cookie ({@code HttpOnly;
 *       SameSite=Strict; Path=/}, {@code Secure} under TLS, {@code Max-Age} the session's
 *       lifetime); a wrong password is 401 and spends from the same failed-login limits as HTTP
 *       Basic (429 past them);
 *   <li>{@code DELETE /session} → 204, ends the session on every node and clears the cookie (with
 *       the cookie it needs {@code X-Requested-With: deploy-console}, as every change does);
 *   <li>{@code GET /session} → 200 {@code {"signed_in": false}} or {@code {"signed_in": true,
 *       "user", "role", "expires_at"}}: always 200, so the console can ask without a failed
 *       request.
 * </ul>
 */
public final class SessionRoutes extends AllDirectives {
  private static final int MAX_BODY = 16 * 1024;

  private final SessionStore sessions;
  private final Authentication auth;
  private final boolean secureCookie;

  /**
   * @param secureCookie whether the API speaks TLS, so the cookie is marked {@code Secure}
   */
  public SessionRoutes(UserStore users, Authentication auth, boolean secureCookie) {
    this.sessions = users.sessionStore();
    this.auth = auth;
    this.secureCookie = secureCookie;
  }

  public Route route() {
    return path(
        "session",
        () ->
            concat(
                post(() -> auth.withClientAddress(this::signIn)),
                delete(this::signOut),
                get(() -> auth.withClientAddress(this::current))));
  }

  private Route signIn(String address) {
    return extractRequest(
        request ->
            withSizeLimit(
                MAX_BODY,
                () ->
                    entity(
                        Unmarshaller.entityToString(),
                        body -> {
                          Map<String, JsonNode> fields =
                              ApiJson.objectFields(body, Set.of("user", "password"));
                          String user = text(fields, "user");
                          String password = text(fields, "password");
                          // Signing in again ends the session the browser held before.
                          Optional<String> previous = Authentication.sessionCookie(request);
                          CompletionStage<SessionStore.Session> opened =
                              consoleFailure(auth.signInForSession(user, password, address))
                                  .thenCompose(sessions::open)
                                  .thenCompose(
                                      session ->
                                          previous.isEmpty()
                                              ? CompletableFuture.completedFuture(session)
                                              : sessions
                                                  .close(previous.get())
                                                  .handle((done, e) -> session));
                          return onSuccess(
                              opened,
                              session ->
                                  complete(
                                      HttpResponse.create()
                                          .withStatus(204)
                                          .addHeader(
                                              SetCookie.create(
                                                  cookie(
                                                      session.secret(),
                                                      sessions.ttl().toSeconds())))));
                        })));
  }

  private Route signOut() {
    return extractRequest(
        request -> {
          Optional<String> secret = Authentication.sessionCookie(request);
          if (secret.isPresent()) {
            Authentication.requireConsoleHeader(request);
          }
          CompletionStage<Void> closed =
              secret.isPresent()
                  ? sessions.close(secret.get())
                  : CompletableFuture.completedFuture(null);
          return onSuccess(
              closed,
              done ->
                  complete(
                      HttpResponse.create()
                          .withStatus(204)
                          .addHeader(SetCookie.create(cookie("", 0)))));
        });
  }

  private Route current(String address) {
    return extractRequest(
        request -> {
          Optional<String> secret = Authentication.sessionCookie(request);
          CompletionStage<Optional<SessionStore.Session>> found =
              secret.isPresent()
                  ? auth.lookUpSession(secret.get(), address)
                  : CompletableFuture.completedFuture(Optional.empty());
          return onSuccess(
              found,
              session -> {
                ObjectNode out = ApiJson.MAPPER.createObjectNode();
                out.put("signed_in", session.isPresent());
                session.ifPresent(
                    s -> {
                      out.put("user", s.user().name());
                      out.put("role", s.user().role().apiName());
                      out.put("expires_at", ApiJson.time(s.expiresAt()));
                    });
                return complete(
                    HttpResponse.create()
                        .withStatus(200)
                        .addHeader(RawHeader.create("Cache-Control", "no-store"))
                        .withEntity(ApiJson.entity(out)));
              });
        });
  }

  /** A wrong password as the console's 401 ({@link Authentication#signInRequired}), not Basic's. */
  private static <T> CompletionStage<T> consoleFailure(CompletionStage<T> signIn) {
    return signIn.handle(
        (user, e) -> {
          if (e == null) {
            return user;
          }
          Throwable cause = Failures.cause(e);
          if (cause instanceof ApiException api && api.status() == 401) {
            throw Authentication.signInRequired(api.getMessage());
          }
          throw e instanceof CompletionException c ? c : new CompletionException(cause);
        });
  }

  private HttpCookie cookie(String value, long maxAgeSeconds) {
    return HttpCookie.create(Authentication.SESSION_COOKIE, value)
        .withPath("/")
        .withHttpOnly(true)
        .withSecure(secureCookie)
        .withSameSite(SameSite.Strict)
        .withMaxAge(maxAgeSeconds);
  }

  private static String text(Map<String, JsonNode> fields, String name) {
    JsonNode v = fields.get(name);
    if (v == null || !v.isTextual() || v.asText().isEmpty()) {
      throw ApiException.invalid("field '" + name + "' is required (a non-empty string)")
          .with("field", name);
    }
    return v.asText();
  }
}
