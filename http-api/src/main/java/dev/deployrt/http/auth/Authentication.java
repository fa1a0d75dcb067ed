package dev.deployrt.http.auth;

import dev.deployrt.async.Failures;
import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.http.limits.LoginLimits;
import dev.deployrt.http.limits.RequestLimits;
import java.net.InetAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.model.headers.BasicHttpCredentials;
import org.apache.pekko.http.javadsl.model.headers.HttpCredentials;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Authentication and role checks for routes: HTTP Basic (a user's password) or {@code
 * Authorization: Bearer <token>} (an API token). The user is always taken from the credentials,
 * never from the request body or parameters. The cluster secret (scheme {@code Cluster}) is not a
 * user credential and is refused here. Failures are {@link ApiException}s (401 with {@code
 * WWW-Authenticate}, 403, 429 when the client address or user name is out of failed sign-ins
 * ({@link LoginLimits}, checked before any password is hashed or token looked up), too many
 * passwords are being checked or the user is over their request rate), rendered by the one error
 * mapper.
 */
public final class Authentication extends AllDirectives {
  public static final String REALM = "deploy";

  private final UserStore users;
  private final RequestLimits limits;
  private final LoginLimits logins;

  public Authentication(UserStore users, RequestLimits limits, LoginLimits logins) {
    this.users = users;
    this.limits = limits;
    this.logins = logins;
  }

  /** Runs {@code inner} for the authenticated user, within their request rate (429 past it). */
  public Route authenticated(Function<User, Route> inner) {
    return withClientAddress(
        address ->
            extractCredentials(
                credentials ->
                    onSuccess(
                        verify(credentials, address),
                        user -> {
                          limits.admitRequest(user.name());
                          return inner.apply(user);
                        })));
  }

  /**
   * Runs {@code inner} with the client's address: the TCP peer's, or what a trusted proxy says it
   * saw ({@link LoginLimits#clientAddress}), never a header a client could set on its own.
   */
  public Route withClientAddress(Function<String, Route> inner) {
    return extractRequest(
        request -> {
          String peer =
              request
                  .getAttribute(AttributeKeys.remoteAddress)
                  .flatMap(RemoteAddress::getAddress)
                  .map(InetAddress::getHostAddress)
                  .orElse("unknown");
          return inner.apply(
              logins.clientAddress(peer, request.getHeader("X-Forwarded-For").map(h -> h.value())));
        });
  }

  /**
   * Checks {@code password} as {@code user}'s, within the failed-login limits of {@code address}
   * and of the user: 429 before any hashing when they are spent, and a wrong one spends from both.
   */
  public CompletionStage<Boolean> checkPassword(String user, String password, String address) {
    LoginLimits.Attempt attempt;
    try {
      attempt = logins.begin(user, address);
    } catch (ApiException limited) {
      return failed(limited);
    }
    return users
        .passwordMatches(user, password)
        .whenComplete(
            (matches, e) -> {
              if (Boolean.TRUE.equals(matches)) {
                attempt.succeeded();
              } else if (Boolean.FALSE.equals(matches)) {
                attempt.failed();
              } else {
                attempt.undecided();
              }
            });
  }

  public Route requireDeploy(User user, Supplier<Route> inner) {
    if (!user.role().canDeploy()) {
      throw new ApiException(
          ErrorCode.FORBIDDEN, "role '" + user.role().apiName() + "' may not deploy");
    }
    return inner.get();
  }

  public Route requireAdmin(User user, Supplier<Route> inner) {
    if (!user.role().isAdmin()) {
      throw new ApiException(ErrorCode.FORBIDDEN, "this needs role 'admin'");
    }
    return inner.get();
  }

  private CompletionStage<User> verify(Optional<HttpCredentials> credentials, String address) {
    if (credentials.isEmpty()) {
      return failed(unauthorized("credentials are required (HTTP Basic or a Bearer token)"));
    }
    HttpCredentials c = credentials.get();
    try {
      if (c instanceof BasicHttpCredentials basic) {
        String name = basic.username();
        if (!UserStore.NAME.matcher(name).matches()) {
          // No such user can exist: refused without hashing, and spends from the address only.
          logins.begin(null, address).failed();
          return failed(unauthorized("wrong user name or password"));
        }
        return judged(
            logins.begin(name, address), users.authenticatePassword(name, basic.password()));
      }
      if (c.scheme().equalsIgnoreCase("bearer")) {
        Optional<User> known = users.knownToken(c.token());
        if (known.isPresent()) {
          return CompletableFuture.completedFuture(known.get());
        }
        LoginLimits.Attempt attempt = logins.begin(null, address);
        if (!c.token().startsWith(UserStore.TOKEN_PREFIX)) {
          attempt.failed();
          return failed(unauthorized("unknown token"));
        }
        return judged(attempt, users.authenticateToken(c.token()));
      }
    } catch (ApiException limited) {
      return failed(limited);
    }
    return failed(unauthorized("unsupported authorization scheme '" + c.scheme() + "'"));
  }

  /**
   * Ends {@code attempt} by the outcome: a 401 spends its failures, success or no judgement gives
   * them back.
   */
  private static CompletionStage<User> judged(
      LoginLimits.Attempt attempt, CompletionStage<User> outcome) {
    return outcome.whenComplete(
        (user, e) -> {
          if (user != null) {
            attempt.succeeded();
          } else if (Failures.cause(e) instanceof ApiException api && api.status() == 401) {
            attempt.failed();
          } else {
            attempt.undecided();
          }
        });
  }

  private static <T> CompletionStage<T> failed(ApiException e) {
    return CompletableFuture.failedFuture(e);
  }

  public static ApiException unauthorized(String message) {
    return new ApiException(ErrorCode.UNAUTHORIZED, message);
  }
}
