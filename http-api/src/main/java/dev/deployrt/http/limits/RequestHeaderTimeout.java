package dev.deployrt.http.limits;

import dev.deployrt.http.EntityBytes;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;

/**
 * Closes a connection that does not present a complete request's headers within {@code timeout} of
 * being opened, or of the end of its previous response: a client that sends its headers a byte at a
 * time (or nothing at all) cannot hold one of the node's connections for longer. Pekko HTTP has no
 * such timeout of its own; its idle timeout is reset by every byte.
 *
 * <p>It sits between the server's HTTP layer and the routes, one instance per connection (Pekko
 * HTTP materializes the handler flow per connection): a request arriving stops the clock; the end
 * of its response's body (a stream can take long: an event stream, a download) starts it again.
 * When it runs out the connection is closed. Once a request's headers have arrived, its body is
 * governed by {@code deploy.upload.stall-timeout} and the server's idle timeout instead.
 */
public final class RequestHeaderTimeout
    extends GraphStage<BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse>> {
  private static final String CLOCK = "request-headers";

  private final Inlet<HttpRequest> requestsIn = Inlet.create("RequestHeaderTimeout.requestsIn");
  private final Outlet<HttpRequest> requestsOut = Outlet.create("RequestHeaderTimeout.requestsOut");
  private final Inlet<HttpResponse> responsesIn = Inlet.create("RequestHeaderTimeout.responsesIn");
  private final Outlet<HttpResponse> responsesOut =
      Outlet.create("RequestHeaderTimeout.responsesOut");
  private final BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse> shape =
      BidiShape.of(requestsIn, requestsOut, responsesIn, responsesOut);
  private final Duration timeout;

  private RequestHeaderTimeout(Duration timeout) {
    this.timeout = timeout;
  }

  /** {@code handler} with the clock around it. */
  public static Flow<HttpRequest, HttpResponse, NotUsed> around(
      Flow<HttpRequest, HttpResponse, ?> handler, Duration timeout) {
    return BidiFlow.fromGraph(new RequestHeaderTimeout(timeout)).join(handler);
  }

  @Override
  public BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new Clock();
  }

  /** One connection's clock: stopped while a request is open, running otherwise. */
  private final class Clock extends TimerGraphStageLogic {
    /** Requests whose response has not finished yet. */
    private int open;

    private AsyncCallback<Done> responseEnded;

    Clock() {
      super(shape);
      // Each direction ends on its own: a client that closes its side after a request still gets
      // the answer.
      relay(
          requestsIn,
          requestsOut,
          request -> {
            cancelTimer(CLOCK);
            open++;
            return request;
          });
      relay(responsesIn, responsesOut, this::whenSent);
    }

    @Override
    public void preStart() {
      responseEnded =
          createAsyncCallback(
              done -> {
                if (--open == 0) {
                  scheduleOnce(CLOCK, timeout);
                }
              });
      scheduleOnce(CLOCK, timeout);
    }

    @Override
    public void onTimer(Object key) {
      completeStage();
    }

    /**
     * Passes one direction's elements through ({@code each} sees every one); each end is passed on.
     */
    private <T> void relay(Inlet<T> in, Outlet<T> out, UnaryOperator<T> each) {
      setHandler(
          in,
          new AbstractInHandler() {
            @Override
            public void onPush() {
              push(out, each.apply(grab(in)));
            }

            @Override
            public void onUpstreamFinish() {
              complete(out);
            }

            @Override
            public void onUpstreamFailure(Throwable ex) {
              fail(out, ex);
            }
          });
      setHandler(
          out,
          new AbstractOutHandler() {
            @Override
            public void onPull() {
              pull(in);
            }

            @Override
            public void onDownstreamFinish(Throwable cause) {
              cancel(in, cause);
            }
          });
    }

    /** The response, telling {@link #responseEnded} once its body has been written (or failed). */
    private HttpResponse whenSent(HttpResponse response) {
      HttpEntity entity = response.entity();
      if (entity instanceof HttpEntity.Strict) {
        responseEnded.invoke(Done.getInstance());
        return response;
      }
      return response.withEntity(
          EntityBytes.via(
              response.entity(), EntityBytes.onEnd(e -> responseEnded.invoke(Done.getInstance()))));
    }
  }
}
