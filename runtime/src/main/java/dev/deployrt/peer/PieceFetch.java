package dev.deployrt.peer;

import dev.deployrt.applier.BlobSource.Extraction;
import dev.deployrt.applier.BlobSource.ExtractionFailed;
import dev.deployrt.applier.NodeReporter;
import dev.deployrt.async.Failures;
import dev.deployrt.blob.BlobStore;
import dev.deployrt.deployment.LogEntry;
import dev.deployrt.fanout.PartialBlob;
import dev.deployrt.fanout.PartialBlob.BadPieceException;
import dev.deployrt.fanout.PartialBlobs;
import dev.deployrt.fanout.PieceManifest;
import dev.deployrt.fanout.PiecePlan;
import dev.deployrt.fanout.PieceSelector;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * One fetch of a payload in pieces, along a {@link PiecePlan}: the manifest from the first source
 * that has it, then each source's stripes with a few requests in flight per stripe, pieces written
 * (checked against the manifest) into a {@link PartialBlob} that this node's server relays from at
 * once, and the release extracted from the pieces in order while they arrive. A source that fails
 * or serves a piece with other bytes is named in a {@code warning} event and not asked again for
 * this payload; its stripes go up the plan, then to a node that holds the whole payload. The blob
 * is committed only when every piece is here and the whole SHA-256 matched; a fetch that cannot go
 * on throws {@link NoSourceLeft} (the caller then falls back to whole copies) and leaves nothing.
 */
final class PieceFetch {
  private final String self;
  private final BlobStore blobs;
  private final PartialBlobs partials;
  private final PeerClient client;
  private final DistributionSettings settings;
  private final NodeReporter reporter;
  private final Executor extractors;
  private final Supplier<Set<String>> upNodes;

  /** No source is left to ask for some pieces; nothing of the fetch stays. */
  static final class NoSourceLeft extends IOException {
    NoSourceLeft(String message) {
      super(message);
    }
  }

  PieceFetch(
      String self,
      BlobStore blobs,
      PartialBlobs partials,
      PeerClient client,
      DistributionSettings settings,
      NodeReporter reporter,
      Executor extractors,
      Supplier<Set<String>> upNodes) {
    this.upNodes = upNodes;
    this.self = self;
    this.blobs = blobs;
    this.partials = partials;
    this.client = client;
    this.settings = settings;
    this.reporter = reporter;
    this.extractors = extractors;
  }

  /** What a request for one piece brought: its bytes, or why not. */
  private record Outcome(String source, int piece, ByteBuffer bytes, Throwable failure) {}

  /**
   * Fetches {@code release}'s payload along {@code plan}; {@code holders} names, when asked, the
   * nodes that hold the whole payload now (the fallbacks, best first).
   */
  Path fetch(
      PeerBlobFetcher.Wanted release,
      PiecePlan plan,
      Supplier<List<String>> holders,
      BooleanSupplier cancelled,
      Runnable fetched,
      Extraction extraction)
      throws Exception {
    Instant started = Instant.now();
    PieceManifest manifest = manifest(release, plan, holders);
    PartialBlob partial = PartialBlob.create(blobs, manifest);
    partials.add(partial);
    CompletableFuture<Void> extracted = extract(partial, extraction);
    Path blob;
    Map<String, Long> sent;
    ExtractionFailed extractionFailed = null;
    try {
      sent = receive(release, plan, holders, partial, cancelled);
      // The extraction reads the pieces from the staging file: it ends before the commit moves it.
      // Verified bytes this node cannot extract are still kept, as for whole copies.
      try {
        PeerBlobFetcher.awaitExtraction(extracted, cancelled);
      } catch (ExtractionFailed e) {
        extractionFailed = e;
      }
      blob = partial.commit();
    } catch (Exception e) {
      partial.abort(e);
      PeerBlobFetcher.awaitQuietly(extracted);
      throw e;
    } finally {
      partials.remove(partial);
    }
    fetched.run();
    long millis = Duration.between(started, Instant.now()).toMillis();
    reporter.log(
        release.deploymentId(),
        LogEntry.LOG,
        "fetch",
        String.format(
            "fetched %d bytes in %d pieces in %.2f s (%s)",
            manifest.size(),
            manifest.count(),
            millis / 1000.0,
            sent.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .map(e -> e.getValue() + " bytes from " + e.getKey())
                .collect(Collectors.joining(", "))),
        Map.of("bytes", manifest.size(), "millis", millis));
    if (extractionFailed != null) {
      throw extractionFailed;
    }
    return blob;
  }

  /** The manifest from this node's sources in the plan, then the holders. */
  private PieceManifest manifest(
      PeerBlobFetcher.Wanted release, PiecePlan plan, Supplier<List<String>> holders)
      throws IOException {
    Set<String> asked = new LinkedHashSet<>();
    for (int s = 0; s < plan.stripes(); s++) {
      plan.sourceOf(self, s).ifPresent(asked::add);
    }
    asked.addAll(holders.get());
    List<String> failures = new ArrayList<>();
    for (String node : asked) {
      try {
        PieceManifest m = client.manifest(node, release.sha256(), settings.parentWait());
        if (m.sha256().equals(release.sha256()) && m.size() == release.size()) {
          return m;
        }
        failures.add(node + ": a manifest of other bytes");
      } catch (Exception e) {
        failures.add(node + ": " + describe(e));
      }
    }
    throw new NoSourceLeft(
        "no node served the piece manifest (" + String.join("; ", failures) + ")");
  }

  /**
   * Asks the sources for every piece until all are written; per source, the bytes it sent. Throws
   * {@link NoSourceLeft} when pieces remain that no source is left to ask for.
   */
  private Map<String, Long> receive(
      PeerBlobFetcher.Wanted release,
      PiecePlan plan,
      Supplier<List<String>> holders,
      PartialBlob partial,
      BooleanSupplier cancelled)
      throws Exception {
    Receiving r = new Receiving(release, plan, holders, partial);
    while (!r.selector.complete()) {
      PeerBlobFetcher.checkCancelled(cancelled);
      r.askAll();
      r.dropSourcesGone();
      if (r.nothingInFlight()) {
        throw new NoSourceLeft(
            (partial.manifest().count() - r.selector.heldCount())
                + " pieces of payload "
                + release.sha256()
                + " have no source left to ask");
      }
      Outcome o = r.outcomes.poll(200, TimeUnit.MILLISECONDS);
      if (o != null && r.accept(o)) {
        pace(r.received, r.startedNanos, cancelled);
      }
    }
    return r.sent;
  }

  /** One fetch's requests: what is in flight to whom, and what each source sent. */
  private final class Receiving {
    final PeerBlobFetcher.Wanted release;
    final Supplier<List<String>> holders;
    final PartialBlob partial;
    final PieceSelector selector;
    final BlockingQueue<Outcome> outcomes = new LinkedBlockingQueue<>();
    final Map<String, Set<Integer>> inFlight = new HashMap<>();
    final Map<String, Long> sent = new HashMap<>();
    final long startedNanos = System.nanoTime();
    long received;

    Receiving(
        PeerBlobFetcher.Wanted release,
        PiecePlan plan,
        Supplier<List<String>> holders,
        PartialBlob partial) {
      this.release = release;
      this.holders = holders;
      this.partial = partial;
      this.selector = new PieceSelector(plan, self, partial.manifest().count());
    }

    /** Tops up every source's requests to {@code pieces-in-flight} per stripe it serves. */
    void askAll() {
      selector
          .sources()
          .forEach(
              (source, stripes) -> {
                Set<Integer> open = inFlight.computeIfAbsent(source, s -> new HashSet<>());
                while (open.size() < settings.piecesInFlight() * stripes) {
                  OptionalInt piece = selector.next(source);
                  if (piece.isEmpty()) {
                    break;
                  }
                  open.add(piece.getAsInt());
                  request(release.sha256(), source, piece.getAsInt(), outcomes);
                }
              });
    }

    boolean nothingInFlight() {
      return inFlight.values().stream().allMatch(Set::isEmpty);
    }

    /** True if {@code o} brought a piece that is now written. */
    boolean accept(Outcome o) {
      Set<Integer> open = inFlight.get(o.source());
      if (open == null || !open.remove(o.piece())) {
        return false; // from a source dropped meanwhile: its pieces were asked of another
      }
      try {
        if (o.failure() != null) {
          throw o.failure();
        }
        partial.write(o.piece(), o.bytes());
        selector.received(o.piece());
        sent.merge(o.source(), (long) partial.manifest().lengthOf(o.piece()), Long::sum);
        received += partial.manifest().lengthOf(o.piece());
        return true;
      } catch (Throwable failure) {
        selector.abandoned(o.piece());
        drop(
            o.source(),
            failure instanceof BadPieceException
                ? o.source()
                    + " served piece "
                    + o.piece()
                    + " with other bytes than the manifest's: not asked again for this payload"
                : "could not fetch piece "
                    + o.piece()
                    + " from "
                    + o.source()
                    + ": "
                    + describe(failure));
        return false;
      }
    }

    /**
     * Stops asking a source that is no longer up in the cluster (it left, or was downed) for the
     * pieces it still owes: its answers may never come.
     */
    void dropSourcesGone() {
      Set<String> up = upNodes.get();
      for (String source : List.copyOf(inFlight.keySet())) {
        if (!inFlight.get(source).isEmpty() && !up.contains(source)) {
          drop(source, source + " left the cluster during the fetch");
        }
      }
    }

    /**
     * Excludes {@code source} for this payload, asks others for what it still owed, and says so,
     * naming who takes over its stripes.
     */
    void drop(String source, String why) {
      Set<Integer> owed = inFlight.remove(source);
      if (owed != null) {
        owed.forEach(selector::abandoned);
      }
      String fallback =
          holders.get().stream().filter(n -> !selector.isExcluded(n)).findFirst().orElse(null);
      Set<String> next = selector.exclude(source, fallback);
      reporter.log(
          release.deploymentId(),
          LogEntry.WARNING,
          "fetch",
          why + (next.isEmpty() ? "" : "; asking " + String.join(", ", next) + " instead"),
          Map.of());
    }
  }

  /**
   * Holds the fetch back while it is ahead of {@code fetch-bytes-per-second} (a cap for one fetch,
   * as for whole copies).
   */
  private void pace(long received, long startedNanos, BooleanSupplier cancelled)
      throws InterruptedException {
    long rate = settings.fetchBytesPerSecond();
    if (rate <= 0) {
      return;
    }
    long dueNanos = startedNanos + received * 1_000_000_000L / rate;
    while (System.nanoTime() < dueNanos) {
      PeerBlobFetcher.checkCancelled(cancelled);
      TimeUnit.NANOSECONDS.sleep(Math.min(dueNanos - System.nanoTime(), 100_000_000L));
    }
  }

  /** Sends one piece request; its outcome lands in {@code outcomes}. */
  private void request(String sha, String source, int piece, BlockingQueue<Outcome> outcomes) {
    CompletableFuture.runAsync(
        () -> {
          try {
            HttpResponse response =
                client.send(
                    source,
                    HttpRequest.GET(PeerPaths.piece(sha, piece, settings.parentWait())),
                    settings.parentWait().plusSeconds(10));
            if (response.status().intValue() != 200) {
              outcomes.add(
                  new Outcome(source, piece, null, new IOException(client.describe(response))));
              return;
            }
            ByteBuffer bytes =
                response
                    .entity()
                    .toStrict(60_000, client.materializer())
                    .toCompletableFuture()
                    .get(60, TimeUnit.SECONDS)
                    .getData()
                    .asByteBuffer();
            outcomes.add(new Outcome(source, piece, bytes, null));
          } catch (Exception e) {
            outcomes.add(new Outcome(source, piece, null, e));
          }
        },
        extractors);
  }

  private CompletableFuture<Void> extract(PartialBlob partial, Extraction extraction) {
    return extract(partial, extraction, extractors);
  }

  /**
   * Extracts {@code partial}'s pieces in order, on an extractor thread, as they arrive. The stream
   * is opened here, before the task is queued: opened by the task, it could come after a quick
   * fetch's commit had closed the file.
   */
  static CompletableFuture<Void> extract(
      PartialBlob partial, Extraction extraction, Executor extractors) {
    InputStream in;
    try {
      in = partial.inOrder();
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    try {
      return CompletableFuture.runAsync(
          () -> {
            try (in) {
              extraction.extract(in);
            } catch (IOException e) {
              throw new CompletionException(e);
            }
          },
          extractors);
    } catch (RuntimeException rejected) {
      try {
        in.close();
      } catch (IOException e) {
        rejected.addSuppressed(e);
      }
      throw rejected;
    }
  }

  private static String describe(Throwable e) {
    Throwable cause = Failures.cause(e);
    return cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
  }
}
