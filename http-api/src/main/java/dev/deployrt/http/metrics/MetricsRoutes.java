package dev.deployrt.http.metrics;

import dev.deployrt.metrics.NodeMetrics;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /metrics}: this node's metrics ({@link dev.deployrt.metrics.NodeMetrics}) in the
 * Prometheus text format, written by the Prometheus client library. No authentication, like the
 * health endpoints, so a scraper needs no user; it shows counts and sizes, never project names or
 * users. Every figure is in memory ({@link dev.deployrt.metrics.NodeMetrics}): a scrape reads no
 * disk and no database, so it is answered on the spot.
 */
public final class MetricsRoutes extends AllDirectives {
  private static final ContentType TEXT_FORMAT =
      ContentTypes.parse(PrometheusTextFormatWriter.CONTENT_TYPE);
  private final NodeMetrics metrics;
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

  public MetricsRoutes(NodeMetrics metrics) {
    this.metrics = metrics;
  }

  public Route route() {
    return path(
        "metrics",
        () ->
            get(
                () -> {
                  ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
                  try {
                    writer.write(out, metrics.registry().scrape());
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                  return complete(
                      HttpResponse.create()
                          .withEntity(HttpEntities.create(TEXT_FORMAT, out.toByteArray())));
                }));
  }
}
