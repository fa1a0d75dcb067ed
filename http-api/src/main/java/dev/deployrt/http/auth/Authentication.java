package dev.deployrt.http.auth;

import dev.deployrt.http.ApiException;
import dev.deployrt.http.limits.RequestLimits;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.headers.BasicHttpCredentials;
import org.apache.pekko.http.javadsl.model.headers.HttpCredentials;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Authentication and role checks for routes: HTTP Basic (a user's password) or {@code Authorization:
 * Bearer <token>} (an API token). The user is always taken from the credentials, never from the
 * request body or parameters. The cluster secret (scheme {@code Cluster}) is not a user credential
 * and is refused here. Failures are {@link ApiException}s (401 with {@code WWW-Authenticate}, 403,
 * 429 when too many passwords are being checked or the user is over their request rate), rendered
 * by the one error mapper.
 */
public final class Authentication extends AllDirectives {
  public static final String REALM = "deploy";

  private final UserStore users;
  private final RequestLimits limits;

  public Authentication(UserStore users, RequestLimits limits) {
    this.users = users;
    this.limits = limits;
  }

  /** Runs {@code inner} for the authenticated user, within their request rate (429 past it). */
  public Route authenticated(Function<User, Route> inner) {
    return extractCredentials(credentials -> onSuccess(verify(credentials), user -> {
      limits.admitRequest(user.name());
      return inner.apply(user);
    }));
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

  private CompletionStage<User> verify(Optional<HttpCredentials> credentials) {
    if (credentials.isEmpty()) {
      return failed(unauthorized("credentials are required (HTTP Basic or a Bearer token)"));
    }
    HttpCredentials c = credentials.get();
    if (c instanceof BasicHttpCredentials basic) {
      return users.authenticatePassword(basic.username(), basic.password());
    }
    if (c.scheme().equalsIgnoreCase("bearer")) {
      if (!c.token().startsWith(UserStore.TOKEN_PREFIX)) {
        return failed(unauthorized("unknown token"));
      }
      return users.authenticateToken(c.token());
    }
    return failed(unauthorized("unsupported authorization scheme '" + c.scheme() + "'"));
  }

  private static CompletionStage<User> failed(ApiException e) {
    return CompletableFuture.failedFuture(e);
  }

  public static ApiException unauthorized(String message) {
    return new ApiException(401, "UNAUTHORIZED", message);
  }
}
