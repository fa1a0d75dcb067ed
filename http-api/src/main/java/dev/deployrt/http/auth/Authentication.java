package dev.deployrt.http.auth;

import dev.deployrt.http.ApiException;
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
 * Authentication and role checks for routes: HTTP Basic (a user's password) or {@code Authorization:
 * Bearer <token>} (an API token). The user is always taken from the credentials, never from the
 * request body or parameters. The cluster secret (scheme {@code Cluster}) is not a user credential
 * and is refused here. Failures are {@link ApiException}s (401 with {@code WWW-Authenticate}, 403,
 * 429 when the client address or user name is out of failed sign-ins ({@link LoginLimits}, checked
 * before any password is hashed or token looked up), too many passwords are being checked or the
 * user is over their request rate), rendered by the one error mapper.
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
    return withClientAddress(address -> extractCredentials(credentials ->
        onSuccess(verify(credentials, address), user -> {
          limits.admitRequest(user.name());
          return inner.apply(user);
        })));
  }

  /**
   * Runs {@code inner} with the client's address: the TCP peer's, never a header's (which any client
   * can set), so the failed-login limits count what the client cannot choose.
   */
  public Route withClientAddress(Function<String, Route> inner) {
    return extractRequest(request -> inner.apply(request.getAttribute(AttributeKeys.remoteAddress)
        .flatMap(RemoteAddress::getAddress).map(InetAddress::getHostAddress).orElse("unknown")));
  }

  /**
   * Checks {@code password} as {@code user}'s, within the failed-login limits of {@code address}
   * and of the user: 429 before any hashing when they are spent, and a wrong one spends from both.
   */
  public CompletionStage<Boolean> checkPassword(String user, String password, String address) {
    try {
      logins.check(user, address);
    } catch (ApiException limited) {
      return failed(limited);
    }
    return users.passwordMatches(user, password).whenComplete((matches, e) -> {
      if (Boolean.FALSE.equals(matches)) {
        logins.failed(user, address);
      }
    });
  }

  public Route requireDeploy(User user, Supplier<Route> inner) {
    if (!user.role().canDeploy()) {
      throw new ApiException(403, "FORBIDDEN", "role '" + user.role().apiName() + "' may not deploy");
    }
    return inner.get();
  }

  public Route requireAdmin(User user, Supplier<Route> inner) {
    if (!user.role().isAdmin()) {
      throw new ApiException(403, "FORBIDDEN", "this needs role 'admin'");
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
          logins.check(null, address);
          logins.failed(null, address);
          return failed(unauthorized("wrong user name or password"));
        }
        logins.check(name, address);
        return counted(users.authenticatePassword(name, basic.password()), name, address);
      }
      if (c.scheme().equalsIgnoreCase("bearer")) {
        Optional<User> known = users.knownToken(c.token());
        if (known.isPresent()) {
          return CompletableFuture.completedFuture(known.get());
        }
        logins.check(null, address);
        if (!c.token().startsWith(UserStore.TOKEN_PREFIX)) {
          logins.failed(null, address);
          return failed(unauthorized("unknown token"));
        }
        return counted(users.authenticateToken(c.token()), null, address);
      }
    } catch (ApiException limited) {
      return failed(limited);
    }
    return failed(unauthorized("unsupported authorization scheme '" + c.scheme() + "'"));
  }

  /** Spends a failure on a 401, and remembers a password sign-in's address on success. */
  private CompletionStage<User> counted(CompletionStage<User> attempt, String name, String address) {
    return attempt.whenComplete((user, e) -> {
      if (user != null && name != null) {
        logins.succeeded(name, address);
      } else if (e != null && dev.deployrt.async.Failures.cause(e) instanceof ApiException api && api.status() == 401) {
        logins.failed(name, address);
      }
    });
  }

  private static <T> CompletionStage<T> failed(ApiException e) {
    return CompletableFuture.failedFuture(e);
  }

  public static ApiException unauthorized(String message) {
    return new ApiException(401, "UNAUTHORIZED", message);
  }
}
