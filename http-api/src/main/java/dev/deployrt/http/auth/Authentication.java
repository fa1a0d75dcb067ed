package dev.deployrt.http.auth;

import dev.deployrt.http.ApiException;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.headers.HttpCredentials;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Authentication and role checks for routes. The user is always taken from the credentials
 * (HTTP Basic today), never from the request body or parameters. Failures are {@link ApiException}s
 * (401 with {@code WWW-Authenticate}, 403), rendered by the one error mapper.
 */
public final class Authentication extends AllDirectives {
  public static final String REALM = "deploy";

  private final UserStore users;

  public Authentication(UserStore users) {
    this.users = users;
  }

  public Route authenticated(Function<User, Route> inner) {
    return extractCredentials(credentials -> inner.apply(verify(credentials)));
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

  private User verify(Optional<HttpCredentials> credentials) {
    if (credentials.isEmpty()) {
      throw unauthorized("credentials are required (HTTP Basic)");
    }
    HttpCredentials c = credentials.get();
    if (!c.scheme().equalsIgnoreCase("basic")) {
      throw unauthorized("unsupported authorization scheme '" + c.scheme() + "'");
    }
    String decoded = c instanceof org.apache.pekko.http.javadsl.model.headers.BasicHttpCredentials basic
        ? basic.username() + ":" + basic.password() : "";
    int colon = decoded.indexOf(':');
    if (colon < 0) {
      throw unauthorized("malformed Basic credentials");
    }
    return users.authenticate(decoded.substring(0, colon), decoded.substring(colon + 1))
        .orElseThrow(() -> unauthorized("wrong user name or password"));
  }

  public static ApiException unauthorized(String message) {
    return new ApiException(401, "UNAUTHORIZED", message);
  }
}
