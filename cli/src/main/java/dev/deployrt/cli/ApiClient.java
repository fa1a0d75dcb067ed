package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.deployrt.cli.view.Format;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;
import javax.net.ssl.SSLException;

/**
 * The operations API as the CLI uses it, over the JDK's HTTP client. Every failure becomes a {@link
 * CliException} whose exit code follows API.md (auth 3, not found 4, unreachable or 503/429 5) and
 * whose message says what to do. Event streams are read line by line as they arrive.
 */
final class ApiClient {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);

  private final Target target;
  private final HttpClient http;

  ApiClient(Target target) {
    this.target = target;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  Target target() {
    return target;
  }

  static String query(Map<String, ?> params) {
    StringBuilder q = new StringBuilder();
    params.forEach(
        (k, v) -> {
          if (v != null) {
            q.append(q.length() == 0 ? '?' : '&')
                .append(k)
                .append('=')
                .append(URLEncoder.encode(v.toString(), StandardCharsets.UTF_8));
          }
        });
    return q.toString();
  }

  static Map<String, Object> params(Object... keyValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put((String) keyValues[i], keyValues[i + 1]);
    }
    return m;
  }

  HttpRequest.Builder request(String pathAndQuery) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(target.url() + pathAndQuery))
            .header("User-Agent", "deployctl");
    if (target.authorization() != null) {
      b.header("Authorization", target.authorization());
    }
    return b;
  }

  JsonNode get(String pathAndQuery) {
    return call(request(pathAndQuery).timeout(CALL_TIMEOUT).GET());
  }

  JsonNode delete(String path) {
    return call(request(path).timeout(CALL_TIMEOUT).DELETE());
  }

  JsonNode postJson(String pathAndQuery, JsonNode body) {
    return sendJson("POST", pathAndQuery, body);
  }

  JsonNode sendJson(String method, String pathAndQuery, JsonNode body) {
    return call(
        request(pathAndQuery)
            .timeout(CALL_TIMEOUT)
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body.toString())));
  }

  /** Sends and returns the JSON body of a 2xx answer (an empty object for 204); fails otherwise. */
  JsonNode call(HttpRequest.Builder request) {
    HttpResponse<String> r = send(request.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw failure(r.statusCode(), r.body());
    }
    return r.body().isEmpty() ? JSON.createObjectNode() : parse(r.body());
  }

  <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
    try {
      return http.send(request, handler);
    } catch (ConnectException | HttpConnectTimeoutException e) {
      throw unreachable(e);
    } catch (SSLException e) {
      throw new CliException(
          CliException.UNAVAILABLE,
          "TLS with "
              + target.url()
              + " failed: "
              + e.getMessage()
              + " (for a self-signed node certificate, give java the trust store: JAVA_OPTS=-Djavax.net.ssl.trustStore=…)");
    } catch (IOException e) {
      throw new CliException(
          CliException.UNAVAILABLE,
          "lost the connection to " + target.url() + ": " + describe(e),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(CliException.FAILED, "interrupted");
    }
  }

  CliException unreachable(Exception e) {
    return new CliException(
        CliException.UNAVAILABLE,
        "cannot reach "
            + target.url()
            + ": is a node running? start one with bin/deploy-node, or point --url / DEPLOY_URL at one",
        e);
  }

  static String describe(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getMessage() == null) {
      t = t.getCause();
    }
    return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
  }

  static JsonNode parse(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new CliException(
          CliException.FAILED,
          "the server answered something that is not JSON: "
              + body.substring(0, Math.min(200, body.length())));
    }
  }

  /**
   * The CLI's reading of an error answer: API.md's error JSON, mapped to an exit code and advice.
   */
  CliException failure(int status, String body) {
    JsonNode error;
    try {
      error = JSON.readTree(body);
    } catch (IOException e) {
      error = null;
    }
    String message =
        Format.printable(
            error != null && error.hasNonNull("error") ? error.get("error").asText() : body);
    String code =
        error != null && error.hasNonNull("code") ? Format.text(error, "code") : "HTTP " + status;
    String text = message + " (" + code + ")";
    return switch (status) {
      case 401 ->
          new CliException(
              CliException.AUTH,
              "not authenticated at "
                  + target.url()
                  + ": "
                  + text
                  + "; give --user/--password or --token, set DEPLOY_USER/DEPLOY_PASSWORD or DEPLOY_TOKEN, or use the config file");
      case 403 -> new CliException(CliException.AUTH, "as " + target.who() + ": " + text);
      case 404 -> new CliException(CliException.NOT_FOUND, text);
      case 429, 502, 503, 504 ->
          new CliException(
              CliException.UNAVAILABLE,
              text
                  + (error != null && error.has("retry_after")
                      ? "; retry in " + Format.text(error, "retry_after") + " s"
                      : ""));
      case 400, 413, 414, 415, 431 -> new CliException(CliException.USAGE, text);
      default -> new CliException(CliException.FAILED, text);
    };
  }

  /** One server-sent event: its id (the event's seq), its type and its data (JSON). */
  record Sse(String id, String event, JsonNode data) {}

  /**
   * Reads an event stream until {@code handler} returns false or the server closes it. Returns the
   * id of the last event read, for a resume with {@code Last-Event-ID}.
   */
  String events(String path, String lastEventId, Predicate<Sse> handler) {
    HttpRequest.Builder b = request(path).header("Accept", "text/event-stream").GET();
    if (lastEventId != null) {
      b.header("Last-Event-ID", lastEventId);
    }
    HttpResponse<Stream<String>> r = send(b.build(), HttpResponse.BodyHandlers.ofLines());
    if (r.statusCode() != 200) {
      String body;
      try (Stream<String> lines = r.body()) {
        body = String.join("\n", (Iterable<String>) lines::iterator);
      }
      throw failure(r.statusCode(), body);
    }
    String last = lastEventId;
    try (Stream<String> lines = r.body()) {
      Iterator<String> it = lines.iterator();
      String id = null;
      String event = null;
      StringBuilder data = new StringBuilder();
      while (it.hasNext()) {
        String line = it.next();
        if (line.isEmpty()) {
          if (data.length() > 0) {
            if (id != null) {
              last = id;
            }
            if (!handler.test(
                new Sse(id, event == null ? "message" : event, parse(data.toString())))) {
              return last;
            }
          }
          id = null;
          event = null;
          data.setLength(0);
        } else if (line.startsWith(":")) {
          continue; // keep-alive comment
        } else if (line.startsWith("id:")) {
          id = field(line, 3);
        } else if (line.startsWith("event:")) {
          event = field(line, 6);
        } else if (line.startsWith("data:")) {
          if (data.length() > 0) {
            data.append('\n');
          }
          data.append(field(line, 5));
        }
      }
    } catch (UncheckedIOException e) {
      throw new CliException(
          CliException.UNAVAILABLE,
          "lost the event stream from " + target.url() + ": " + describe(e.getCause()),
          e);
    }
    return last;
  }

  private static String field(String line, int from) {
    return line.length() > from && line.charAt(from) == ' '
        ? line.substring(from + 1)
        : line.substring(from);
  }

  static ObjectNode object() {
    return JSON.createObjectNode();
  }

  /** A streamed 200 answer (e.g. a payload); any other status fails with the server's error. */
  HttpResponse<InputStream> download(String path) {
    HttpResponse<InputStream> r =
        send(request(path).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    if (r.statusCode() != 200) {
      String body;
      try (InputStream in = r.body()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        body = "";
      }
      throw failure(r.statusCode(), body);
    }
    return r;
  }
}
