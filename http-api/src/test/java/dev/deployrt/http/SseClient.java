package dev.deployrt.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

/** A minimal server-sent-events reader for tests: frames until a condition, then it hangs up. */
public final class SseClient {
  /** One event; {@code id} is null for events without one ({@code done}). */
  public record Frame(String id, String event, String data) {
    public JsonNode json() {
      try {
        return ApiJson.MAPPER.readTree(data);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + data, e);
      }
    }

    public long seq() {
      return Long.parseLong(id);
    }
  }

  /** What a stream delivered, and how the response started. */
  public record Result(
      int status, String contentType, List<Frame> frames, int comments, boolean ended) {}

  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private SseClient() {}

  /**
   * Sends {@code request} and reads frames until {@code stop} holds for one (inclusive) or the
   * server closes the stream; then closes the connection.
   */
  public static Result read(HttpRequest request, Predicate<Frame> stop) {
    return read(request, stop, f -> {});
  }

  /**
   * As {@link #read(HttpRequest, Predicate)}, telling {@code onFrame} of each frame as it arrives.
   */
  public static Result read(
      HttpRequest request, Predicate<Frame> stop, java.util.function.Consumer<Frame> onFrame) {
    HttpResponse<Stream<String>> response;
    try {
      response = CLIENT.send(request, HttpResponse.BodyHandlers.ofLines());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    String type = response.headers().firstValue("Content-Type").orElse("");
    List<Frame> frames = new ArrayList<>();
    int comments = 0;
    boolean ended = true;
    try (Stream<String> lines = response.body()) {
      Iterator<String> it = lines.iterator();
      String id = null;
      String event = null;
      StringBuilder data = null;
      while (it.hasNext()) {
        String line = it.next();
        if (line.isEmpty()) {
          if (data != null) {
            Frame f = new Frame(id, event, data.toString());
            frames.add(f);
            onFrame.accept(f);
            if (stop.test(f)) {
              ended = false;
              break;
            }
          }
          id = null;
          event = null;
          data = null;
        } else if (line.startsWith(":")) {
          comments++;
        } else if (line.startsWith("id: ")) {
          id = line.substring(4);
        } else if (line.startsWith("event: ")) {
          event = line.substring(7);
        } else if (line.startsWith("data: ")) {
          data =
              data == null
                  ? new StringBuilder(line.substring(6))
                  : data.append('\n').append(line.substring(6));
        }
      }
    }
    return new Result(response.statusCode(), type, frames, comments, ended);
  }

  /** Reads the whole stream, up to and including {@code done}. */
  public static Result readToDone(HttpRequest request) {
    return read(request, f -> "done".equals(f.event()));
  }
}
