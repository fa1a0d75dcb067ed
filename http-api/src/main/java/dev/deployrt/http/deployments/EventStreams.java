package dev.deployrt.http.deployments;

import dev.deployrt.deploy.DeployRequest;
import dev.deployrt.deployment.Deployments;
import dev.deployrt.deployment.LiveTail;
import dev.deployrt.errors.ApiException;
import dev.deployrt.http.ApiJson;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Server-sent event streams of deployments (API.md, "Reading"): {@code id: <seq>}, {@code event:
 * <type>}, {@code data: <event JSON>} per event, a comment line as heartbeat, and {@code event:
 * done} with the terminal deployment as the last event, after which the server closes the stream.
 */
public final class EventStreams {
  public static final String MEDIA_TYPE = "text/event-stream";
  private static final ContentType CONTENT_TYPE = MediaTypes.TEXT_EVENT_STREAM.toContentType();
  private static final ByteString HEARTBEAT = ByteString.fromString(": keep-alive\n\n");

  private final ActorSystem<?> system;
  private final Deployments deployments;
  private final Duration heartbeat;
  private final int buffer;
  private final int maxEvents;

  /**
   * @param heartbeat how often an idle stream gets a comment line
   * @param buffer events buffered per stream for a slow reader
   * @param maxEvents tests only: above 0, a stream ends after this many events, without {@code
   *     done}, as a dropped connection would
   */
  public EventStreams(
      ActorSystem<?> system,
      Deployments deployments,
      Duration heartbeat,
      int buffer,
      int maxEvents) {
    this.system = system;
    this.deployments = deployments;
    this.heartbeat = heartbeat;
    this.buffer = buffer;
    this.maxEvents = maxEvents;
  }

  /** Whether the client asked for an event stream ({@code Accept: text/event-stream}). */
  public static boolean wanted(HttpRequest request) {
    return request.getHeader("Accept").map(h -> h.value().contains(MEDIA_TYPE)).orElse(false);
  }

  /** The {@code Last-Event-ID} to resume after, 0 without one; 400 if it is not a seq number. */
  public static long lastEventId(HttpRequest request) {
    Optional<HttpHeader> header = request.getHeader("Last-Event-ID");
    if (header.isEmpty() || header.get().value().isBlank()) {
      return 0;
    }
    try {
      long seq = Long.parseLong(header.get().value().strip());
      if (seq < 0) {
        throw new NumberFormatException();
      }
      return seq;
    } catch (NumberFormatException e) {
      throw ApiException.invalid(
          "Last-Event-ID must be the seq number of an event, not '"
              + DeployRequest.printable(header.get().value())
              + "'");
    }
  }

  /**
   * A 200 response streaming the deployment's events after {@code afterSeq}; with {@code
   * awaitCreation}, the record may still be on its way (a deploy whose stream starts with it).
   */
  public HttpResponse response(String deploymentId, long afterSeq, boolean awaitCreation) {
    Source<LiveTail.Item, NotUsed> items =
        LiveTail.source(system, deployments::entity, deploymentId, afterSeq, buffer, awaitCreation);
    if (maxEvents > 0) {
      items = items.take(maxEvents);
    }
    Source<ByteString, NotUsed> frames =
        items.map(EventStreams::frame).keepAlive(heartbeat, () -> HEARTBEAT);
    return HttpResponse.create()
        .withStatus(200)
        .addHeaders(
            List.of(
                Location.create("/deployments/" + deploymentId),
                RawHeader.create("Cache-Control", "no-cache"),
                RawHeader.create("X-Accel-Buffering", "no")))
        .withEntity(HttpEntities.createChunked(CONTENT_TYPE, frames));
  }

  static ByteString frame(LiveTail.Item item) {
    if (item instanceof LiveTail.Entry e) {
      return ByteString.fromString(
          "id: "
              + e.entry().seq()
              + "\nevent: "
              + e.entry().type()
              + "\ndata: "
              + json(ApiJson.event(e.entry()))
              + "\n\n");
    }
    LiveTail.End end = (LiveTail.End) item;
    return ByteString.fromString(
        "event: done\ndata: " + json(ApiJson.deployment(end.deployment(), true)) + "\n\n");
  }

  private static String json(Object node) {
    try {
      return ApiJson.MAPPER.writeValueAsString(node);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
