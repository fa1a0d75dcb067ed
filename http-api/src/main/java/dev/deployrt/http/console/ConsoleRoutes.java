package dev.deployrt.http.console;

import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The web console's static files, served by every node from its own jar (resources under {@value
 * #RESOURCES}): {@code GET /} is the page, {@code GET /console/<file>} its scripts (ES modules),
 * style sheet and icon; only those kinds of file, by lower-case names without dot-segments. Nothing
 * is fetched from elsewhere, so the console works offline and under TLS. The page talks to the
 * operations API with the session cookie ({@code auth.SessionRoutes}).
 *
 * <p>Every response carries a strict {@code Content-Security-Policy}: scripts, styles, images and
 * connections only from this node, no inline script or style, no framing, no {@code <base>}; and
 * {@code nosniff}, {@code no-referrer}. Files are revalidated on each load ({@code no-cache}), so
 * an upgraded node serves its new console at once.
 */
public final class ConsoleRoutes extends AllDirectives {
  /**
   * The files' folder in the jar: a package no class can be in ({@code static} is a Java keyword),
   * so nothing but the console's own files is ever served from it.
   */
  static final String RESOURCES = "dev/deployrt/http/console/static";

  /** What may be asked for under {@code /console/}: the console's kinds of file, no dot-segment. */
  private static final Pattern FILE =
      Pattern.compile("^(/[a-z0-9_-]+)*/[a-z0-9_-]+\\.(js|css|svg|html)$");

  /** The console's policy: everything from this node, nothing inline, nothing framed. */
  public static final String CONTENT_SECURITY_POLICY =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
          + "connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; "
          + "base-uri 'none'; frame-ancestors 'none'";

  private static final List<HttpHeader> HEADERS =
      List.of(
          RawHeader.create("Content-Security-Policy", CONTENT_SECURITY_POLICY),
          RawHeader.create("X-Content-Type-Options", "nosniff"),
          RawHeader.create("Referrer-Policy", "no-referrer"),
          RawHeader.create("X-Frame-Options", "DENY"),
          RawHeader.create("Cache-Control", "no-cache"));

  /**
   * The console's paths, each matched before its method: another method on them is 405, while any
   * other path is left to the API's routes (and is 404 there, whatever the method).
   */
  public Route route() {
    return concat(
        pathSingleSlash(() -> served(() -> getFromResource(RESOURCES + "/index.html"))),
        pathPrefix(
            "console",
            () ->
                served(
                    () ->
                        extractUnmatchedPath(
                            file ->
                                FILE.matcher(file).matches()
                                    ? getFromResource(RESOURCES + file)
                                    : reject()))));
  }

  private Route served(Supplier<Route> inner) {
    return get(() -> respondWithHeaders(HEADERS, inner));
  }
}
