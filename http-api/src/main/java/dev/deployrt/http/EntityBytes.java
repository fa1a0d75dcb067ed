package dev.deployrt.http;

import java.util.function.Consumer;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.ResponseEntity;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.util.ByteString;

/**
 * Passes an entity's bytes through a flow while keeping what the entity says about them: a
 * length-bearing ({@code Default}) entity stays one, with its {@code Content-Length}. (Pekko's own
 * {@code transformDataBytes} turns it into a chunked entity, as it cannot know the flow keeps the
 * length; these flows only watch or time the bytes.)
 */
public final class EntityBytes {
  private EntityBytes() {}

  public static RequestEntity via(RequestEntity entity, Flow<ByteString, ByteString, ?> flow) {
    if (entity instanceof HttpEntity.Default d) {
      return HttpEntities.create(
          d.getContentType(), d.getContentLength(), d.getDataBytes().via(flow));
    }
    // The Java DSL has no transformDataBytes; every RequestEntity is a Scala DSL one underneath.
    return ((org.apache.pekko.http.scaladsl.model.RequestEntity) entity)
        .transformDataBytes(anyMat(flow).asScala());
  }

  public static ResponseEntity via(ResponseEntity entity, Flow<ByteString, ByteString, ?> flow) {
    if (entity instanceof HttpEntity.Default d) {
      return HttpEntities.create(
          d.getContentType(), d.getContentLength(), d.getDataBytes().via(flow));
    }
    return ((org.apache.pekko.http.scaladsl.model.ResponseEntity) entity)
        .transformDataBytes(anyMat(flow).asScala());
  }

  private static Flow<ByteString, ByteString, Object> anyMat(Flow<ByteString, ByteString, ?> flow) {
    return flow.mapMaterializedValue(m -> (Object) m);
  }

  /**
   * A flow that passes bytes on and tells {@code onEnd} when they ended: null, or how they failed.
   */
  public static Flow<ByteString, ByteString, ?> onEnd(Consumer<Throwable> onEnd) {
    return Flow.<ByteString>create()
        .watchTermination(
            (notUsed, done) -> {
              done.whenComplete((d, e) -> onEnd.accept(e));
              return notUsed;
            });
  }
}
