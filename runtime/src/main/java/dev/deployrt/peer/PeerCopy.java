package dev.deployrt.peer;

import dev.deployrt.applier.BlobSource.Extraction;
import dev.deployrt.applier.BlobSource.ExtractionFailed;
import dev.deployrt.applier.NodeReporter;
import dev.deployrt.blob.BlobStore;
import dev.deployrt.deployment.LogEntry;
import dev.deployrt.upload.PayloadUpload;
import dev.deployrt.upload.StagedPayload;
import dev.deployrt.upload.UploadSettings;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.ClosedShape;
import org.apache.pekko.stream.ThrottleMode;
import org.apache.pekko.stream.UniformFanOutShape;
import org.apache.pekko.stream.javadsl.Broadcast;
import org.apache.pekko.stream.javadsl.GraphDSL;
import org.apache.pekko.stream.javadsl.RunnableGraph;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamConverters;
import org.apache.pekko.util.ByteString;

/**
 * One attempt to get a payload from one peer: the response's bytes go, through a broadcast that
 * lets either side stop first, into a verified copy (size, SHA-256, staging file) and, at the same
 * time, into the release's extraction on another thread. The blob is committed only when its digest
 * and size matched, and the extraction counts only then; nothing of a failed attempt stays visible.
 */
final class PeerCopy {
  private final BlobStore blobs;
  private final PeerClient client;
  private final UploadSettings upload;
  private final DistributionSettings settings;
  private final NodeReporter reporter;
  private final Executor extractors;

  PeerCopy(
      BlobStore blobs,
      PeerClient client,
      UploadSettings upload,
      DistributionSettings settings,
      NodeReporter reporter,
      Executor extractors) {
    this.blobs = blobs;
    this.client = client;
    this.upload = upload;
    this.settings = settings;
    this.reporter = reporter;
    this.extractors = extractors;
  }

  /**
   * Copies {@code release}'s payload from {@code from} while {@code extraction} reads it; the
   * committed blob, logged in the deployment's events. Throws if the peer failed or served other
   * bytes, {@link ExtractionFailed} if the extraction did.
   */
  Path copy(
      PeerBlobFetcher.Candidate from,
      PeerBlobFetcher.Wanted release,
      BooleanSupplier cancelled,
      Runnable fetched,
      Extraction extraction)
      throws Exception {
    String sha = release.sha256();
    Instant started = Instant.now();
    HttpResponse response =
        client.send(
            from.node(),
            HttpRequest.GET(PeerPaths.blob(sha, from.patience())),
            from.patience().plusSeconds(30));
    if (response.status().intValue() != 200) {
      throw new IOException(client.describe(response));
    }
    Pair<CompletionStage<StagedPayload>, InputStream> running =
        copyAndSplit(paced(response.entity().getDataBytes(), cancelled), release);
    CompletableFuture<Void> extracted = extractWhileArriving(running.second(), extraction);

    StagedPayload staged;
    try {
      staged = running.first().toCompletableFuture().get();
    } catch (ExecutionException e) {
      awaitQuietly(extracted);
      PeerBlobFetcher.checkCancelled(cancelled);
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
    if (staged.size() != release.size()) {
      staged.discard();
      awaitQuietly(extracted);
      throw new IOException("served " + staged.size() + " bytes, expected " + release.size());
    }
    Path blob = staged.commit();
    Duration took = Duration.between(started, Instant.now());
    reporter.log(
        release.deploymentId(),
        LogEntry.LOG,
        "fetch",
        String.format(
            "fetched %d bytes from %s in %.2f s",
            staged.size(), from.node(), took.toMillis() / 1000.0),
        Map.of("bytes", staged.size(), "millis", took.toMillis()));
    fetched.run();
    PeerBlobFetcher.awaitExtraction(extracted, cancelled);
    return blob;
  }

  /** The response's bytes, throttled to {@code fetch-bytes-per-second}, failing once cancelled. */
  private Source<ByteString, ?> paced(Source<ByteString, ?> bytes, BooleanSupplier cancelled) {
    if (settings.fetchBytesPerSecond() > 0) {
      int rate = (int) Math.min(Integer.MAX_VALUE, settings.fetchBytesPerSecond());
      bytes =
          bytes.throttle(
              rate, Duration.ofSeconds(1), rate, ByteString::size, ThrottleMode.shaping());
    }
    return bytes.map(
        b -> {
          PeerBlobFetcher.checkCancelled(cancelled);
          return b;
        });
  }

  /**
   * Runs {@code body} through a broadcast that lets either side stop first: into a verified copy
   * (size, SHA-256, staging file) and into an input stream for the extractor.
   */
  private Pair<CompletionStage<StagedPayload>, InputStream> copyAndSplit(
      Source<ByteString, ?> body, PeerBlobFetcher.Wanted release) {
    UploadSettings exactSize = upload.withMaxBytes(release.size());
    Sink<ByteString, CompletionStage<StagedPayload>> copy =
        PayloadUpload.verifiedCopy(blobs, exactSize, release.sha256(), new AtomicLong());
    Sink<ByteString, InputStream> toExtractor =
        StreamConverters.asInputStream(upload.stallTimeout());
    return RunnableGraph.fromGraph(
            GraphDSL.create(
                copy,
                toExtractor,
                Pair::create,
                (b, copyIn, extractorIn) -> {
                  UniformFanOutShape<ByteString, ByteString> split =
                      b.add(Broadcast.create(2, false));
                  b.from(b.add(body)).viaFanOut(split).to(copyIn);
                  b.from(split).to(extractorIn);
                  return ClosedShape.getInstance();
                }))
        .run(client.materializer());
  }

  /** Extracts {@code arriving} on an extractor thread as its bytes arrive. */
  private CompletableFuture<Void> extractWhileArriving(
      InputStream arriving, Extraction extraction) {
    return CompletableFuture.runAsync(
        () -> {
          try (arriving) {
            extraction.extract(
                new FilterInputStream(arriving) {
                  @Override
                  public void close() {
                    // the extractor is done with it; closed (and its branch cancelled)
                    // right after
                  }
                });
          } catch (IOException e) {
            throw new CompletionException(e);
          }
        },
        extractors);
  }

  private static void awaitQuietly(CompletableFuture<?> f) {
    try {
      f.get();
    } catch (Exception ignored) {
      // the attempt failed anyway; only its end matters
    }
  }
}
