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
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.model.headers.BasicHttpCredentials;
import org.apache.pekko.http.javadsl.model.headers.Cookie;
import org.apache.pekko.http.javadsl.model.headers.HttpCookiePair;
import org.apache.pekko.http.javadsl.model.headers.HttpCredentials;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Authentication and role checks for routes: HTTP Basic (a user's password), {@code Authorization:
 * Bearer <token>} (an API token) or the web console's session cookie ({@link SessionStore}; changes
 * made with it need the {@link #CONSOLE_HEADER} too). The user is always taken from the
 * credentials, never from the request body or parameters. The cluster secret (scheme {@code
 * Cluster}) is not a user credential and is refused here. Failures are {@link ApiException}s (401
 * with {@code WWW-Authenticate}, 403, 429 when the client address or user name is out of failed
 * sign-ins ({@link LoginLimits}, checked before any password is hashed or token looked up), too
 * many passwords are being checked or the user is over their request rate), rendered by the one
 * error mapper.
 */
public final class Authentication extends AllDirectives {
  public static final String REALM = "deploy";

  /** The console's session cookie. */
  public static final String SESSION_COOKIE = "deploy_session";

  /**
   * The header every change made with the session cookie must carry (against cross-site forgery).
   */
  public static final String CONSOLE_HEADER = "X-Requested-With";

  public static final String CONSOLE_HEADER_VALUE = "deploy-console";

  /** The field of a 401 meant for the console (see {@link #signInRequired}). */
  public static final String SIGN_IN_FIELD = "sign_in";

  private final UserStore users;
  private final RequestLimits limits;
  private final LoginLimits logins;

  public Authentication(UserStore users, RequestLimits limits, LoginLimits logins) {
    this.users = users;
    this.limits = limits;
    this.logins = logins;
  }

  /**
   * Runs {@code inner} for the authenticated user, within their request rate (429 past it). The
   * credentials are the {@code Authorization} header's, else the console's session cookie; a
   * request authenticated by the cookie that may change something (any method but GET, HEAD and
   * OPTIONS) must also carry {@code X-Requested-With: deploy-console}, else 403: a page of another
   * site can make a browser send the cookie, but not that header.
   */
  public Route authenticated(Function<User, Route> inner) {
    return withClientAddress(
        address ->
            extractRequest(
                request ->
                    extractCredentials(
                        credentials -> {
                          Optional<String> session =
                              credentials.isPresent() ? Optional.empty() : sessionCookie(request);
                          CompletionStage<User> user =
                              session.isPresent()
                                  ? verifySession(session.get(), address)
                                  : verify(credentials, address, request);
                          return onSuccess(
                              user,
                              u -> {
                                if (session.isPresent()) {
                                  requireConsoleHeader(request);
                                }
                                limits.admitRequest(u.name());
                                return inner.apply(u);
                              });
                        })));
  }

  /** The console's session secret from the request's cookie, if it has one. */
  public static Optional<String> sessionCookie(HttpRequest request) {
    for (HttpHeader header : request.getHeaders()) {
      if (header instanceof Cookie cookie) {
        for (HttpCookiePair pair : cookie.getCookies()) {
          if (pair.name().equals(SESSION_COOKIE)) {
            return Optional.of(pair.value());
          }
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Whether the request came from the console's own script: it carries {@code X-Requested-With:
   * deploy-console}, which a cross-site form or link cannot set.
   */
  public static boolean fromConsole(HttpRequest request) {
    return request
        .getHeader(CONSOLE_HEADER)
        .map(h -> h.value().equals(CONSOLE_HEADER_VALUE))
        .orElse(false);
  }

  /** 403 for a cookie-authenticated request that may change something but lacks the header. */
  public static void requireConsoleHeader(HttpRequest request) {
    if (!safe(request) && !fromConsole(request)) {
      throw new ApiException(
          ErrorCode.FORBIDDEN,
          "a change authenticated by the console's session cookie must carry the header "
              + CONSOLE_HEADER
              + ": "
              + CONSOLE_HEADER_VALUE);
    }
  }

  /**
   * 403 for a request that may change something and that a browser says came from a page of another
   * site ({@code Sec-Fetch-Site: cross-site} or {@code same-site}), whatever its credentials: a
   * browser may hold HTTP Basic credentials for this node too and send them with another site's
   * form. Clients that are not browsers send no such header.
   */
  public static void refuseCrossSite(HttpRequest request) {
    if (safe(request)) {
      return;
    }
    String site = request.getHeader("Sec-Fetch-Site").map(HttpHeader::value).orElse("");
    if (site.equals("cross-site") || site.equals("same-site")) {
      throw new ApiException(
          ErrorCode.FORBIDDEN,
          "a change sent from a page of another site is refused (Sec-Fetch-Site: " + site + ")");
    }
  }

  private static boolean safe(HttpRequest request) {
    String method = request.method().value();
    return method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS");
  }

  /**
   * The session's user: from this node's cache without spending anything (as a known token), else
   * looked up within the address's failed-login budget (a guessed cookie spends from it).
   */
  private CompletionStage<User> verifySession(String secret, String address) {
    Optional<User> known = users.sessionStore().known(secret);
    if (known.isPresent()) {
      return CompletableFuture.completedFuture(known.get());
    }
    try {
      LoginLimits.Attempt attempt = logins.begin(null, address);
      if (!secret.startsWith(SessionStore.PREFIX)) {
        attempt.failed();
        return failed(signInRequired("the session cookie is not one this cluster issued"));
      }
      return judged(attempt, users.sessionStore().authenticate(secret));
    } catch (ApiException limited) {
      return failed(limited);
    }
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
    return counted(
        user, address, () -> users.passwordMatches(user, password), Boolean::booleanValue);
  }

  /**
   * Runs {@code check} as one attempt against the failed-login limits of {@code address} (and of
   * {@code user}, unless null): 429 before it runs when they are spent; an outcome that is not
   * {@code passed} spends from them, a failure to decide gives the attempt back.
   */
  private <T> CompletionStage<T> counted(
      String user, String address, Supplier<CompletionStage<T>> check, Predicate<T> passed) {
    LoginLimits.Attempt attempt;
    try {
      attempt = logins.begin(user, address);
    } catch (ApiException limited) {
      return failed(limited);
    }
    return check
        .get()
        .whenComplete(
            (outcome, e) -> {
              if (e != null || outcome == null) {
                attempt.undecided();
              } else if (passed.test(outcome)) {
                attempt.succeeded();
              } else {
                attempt.failed();
              }
            });
  }

  /**
   * The user whose password this is, for HTTP Basic: within the failed-login limits (429 before any
   * hashing when spent), 401 when it is wrong.
   */
  public CompletionStage<User> signIn(String name, String password, String address) {
    return passwordAttempt(name, address, () -> users.authenticatePassword(name, password));
  }

  /**
   * As {@link #signIn}, for opening a console session: the password is checked against the database
   * (not the cache), and the answer names the hash it matched.
   */
  public CompletionStage<UserStore.VerifiedPassword> signInForSession(
      String name, String password, String address) {
    return passwordAttempt(name, address, () -> users.verifyPassword(name, password));
  }

  /** Runs a password check within the failed-login limits of the address and the user name. */
  private <T> CompletionStage<T> passwordAttempt(
      String name, String address, Supplier<CompletionStage<T>> check) {
    try {
      if (!UserStore.NAME.matcher(name).matches()) {
        // No such user can exist: refused without hashing, and spends from the address only.
        logins.begin(null, address).failed();
        return failed(unauthorized("wrong user name or password"));
      }
      return judged(logins.begin(name, address), check.get());
    } catch (ApiException limited) {
      return failed(limited);
    }
  }

  /**
   * The open session with this secret, for {@code GET /session}: a cookie that names no open
   * session spends from the address's failed-login budget (429 past it), so the database is not
   * there to be asked for guessed cookies.
   */
  public CompletionStage<Optional<SessionStore.Session>> lookUpSession(
      String secret, String address) {
    return counted(null, address, () -> users.sessionStore().find(secret), Optional::isPresent);
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

  private CompletionStage<User> verify(
      Optional<HttpCredentials> credentials, String address, HttpRequest request) {
    if (credentials.isEmpty()) {
      return failed(
          fromConsole(request)
              ? signInRequired("sign in first")
              : unauthorized("credentials are required (HTTP Basic or a Bearer token)"));
    }
    HttpCredentials c = credentials.get();
    try {
      if (c instanceof BasicHttpCredentials basic) {
        return signIn(basic.username(), basic.password(), address);
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
  private static <T> CompletionStage<T> judged(
      LoginLimits.Attempt attempt, CompletionStage<T> outcome) {
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

  /**
   * 401 for the console: no session, or one that ended. Its {@code sign_in} field names where to
   * sign in, and its challenge is not Basic, so a browser shows the console's sign-in page rather
   * than its own password prompt.
   */
  public static ApiException signInRequired(String message) {
    return unauthorized(message).with(SIGN_IN_FIELD, "POST /session");
  }
}
