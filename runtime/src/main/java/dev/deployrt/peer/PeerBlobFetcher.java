package dev.deployrt.peer;

import dev.deployrt.applier.BlobSource;
import dev.deployrt.applier.NodeReporter;
import dev.deployrt.blob.BlobStore;
import dev.deployrt.deployment.LogEntry;
import dev.deployrt.release.DesiredRelease;
import dev.deployrt.upload.PayloadUpload;
import dev.deployrt.upload.StagedPayload;
import dev.deployrt.upload.UploadFailure;
import dev.deployrt.upload.UploadSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.ThrottleMode;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Gets a payload onto this node from the nodes that have it: its fan-out parent first ({@link
 * FanOutPlan}), then every node the {@link PeerDirectory} lists as holding the verified payload, the
 * origin last. Each copy streams, with backpressure, through the same one-pass graph as an upload
 * (stall check, size limit, SHA-256, staging file) and is committed to the blob store only if its
 * digest and size match; a peer that serves other bytes is reported in the deployment's events and
 * the next one is tried. When every source failed it waits (doubling pauses, woken early if the blob
 * arrives by another way) and tries again, until the distribution timeout.
 *
 * <p>Blocking: runs on the applier's blocking dispatcher. Nothing of a failed or cancelled copy stays
 * visible (the staging file is deleted).
 */
public final class PeerBlobFetcher implements BlobSource {
  private final String self;
  private final BlobStore blobs;
  private final PeerDirectory directory;
  private final PeerClient client;
  private final Supplier<Set<String>> upNodes;
  private final UploadSettings upload;
  private final DistributionSettings settings;
  private final NodeReporter reporter;

  public PeerBlobFetcher(String self, BlobStore blobs, PeerDirectory directory, PeerClient client,
      Supplier<Set<String>> upNodes, UploadSettings upload, DistributionSettings settings, NodeReporter reporter) {
    this.self = self;
    this.blobs = blobs;
    this.directory = directory;
    this.client = client;
    this.upNodes = upNodes;
    this.upload = upload;
    this.settings = settings;
    this.reporter = reporter;
  }

  private record Candidate(String node, Duration patience) {}

  @Override
  public Path fetch(DesiredRelease release, BooleanSupplier cancelled) throws Exception {
    String sha = release.sha256();
    Instant deadline = Instant.now().plus(settings.timeout());
    Duration backoff = settings.retryBackoffMin();
    boolean toldNoSource = false;
    while (true) {
      Optional<Path> local = blobs.find(sha);
      if (local.isPresent()) {
        return local.get();
      }
      List<Candidate> candidates = candidates(release);
      if (candidates.isEmpty() && !toldNoSource) {
        toldNoSource = true;
        reporter.log(release.deploymentId(), LogEntry.WARNING, "fetch",
            "no reachable node holds payload " + sha + " yet; waiting for one", Map.of());
      }
      for (Candidate candidate : candidates) {
        checkCancelled(cancelled);
        try {
          return fetchFrom(candidate, release, cancelled);
        } catch (CancellationException e) {
          throw e;
        } catch (Exception e) {
          checkCancelled(cancelled);
          reporter.log(release.deploymentId(), LogEntry.WARNING, "fetch",
              "could not fetch the payload from " + candidate.node() + ": " + reason(e), Map.of());
        }
        local = blobs.find(sha);
        if (local.isPresent()) {
          return local.get();
        }
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IOException("no node could serve payload " + sha + " within " + settings.timeout().toSeconds() + " s");
      }
      try {
        return blobs.whenPresent(sha).toCompletableFuture().get(backoff.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        backoff = backoff.multipliedBy(2).compareTo(settings.retryBackoffMax()) > 0
            ? settings.retryBackoffMax() : backoff.multipliedBy(2);
      }
      checkCancelled(cancelled);
    }
  }

  /** The parent in the fan-out plan (waited for), then the holders by name, the origin last. */
  private List<Candidate> candidates(DesiredRelease release) {
    Set<String> up = upNodes.get();
    List<Candidate> out = new ArrayList<>();
    if (release.sourceDeploymentId() == null && release.origin() != null) {
      FanOutPlan.of(release.origin(), release.targets()).parentOf(self)
          .filter(up::contains)
          .ifPresent(parent -> out.add(new Candidate(parent, settings.parentWait())));
    }
    directory.snapshot().entrySet().stream()
        .filter(e -> !e.getKey().equals(self) && up.contains(e.getKey()))
        .filter(e -> e.getValue().blobs().contains(release.sha256()))
        .map(Map.Entry::getKey)
        .sorted(Comparator.comparing((String n) -> n.equals(release.origin())).thenComparing(n -> n))
        .filter(n -> out.stream().noneMatch(c -> c.node().equals(n)))
        .forEach(n -> out.add(new Candidate(n, Duration.ZERO)));
    return out;
  }

  private Path fetchFrom(Candidate from, DesiredRelease release, BooleanSupplier cancelled) throws Exception {
    String sha = release.sha256();
    String path = "/internal/blobs/" + sha + (from.patience().isZero() ? "" : "?wait=" + from.patience().toSeconds());
    Instant started = Instant.now();
    HttpResponse response = client.send(from.node(), HttpRequest.GET(path), from.patience().plusSeconds(30));
    if (response.status().intValue() != 200) {
      throw new IOException(client.describe(response));
    }
    Source<ByteString, ?> bytes = response.entity().getDataBytes();
    if (settings.fetchBytesPerSecond() > 0) {
      int rate = (int) Math.min(Integer.MAX_VALUE, settings.fetchBytesPerSecond());
      bytes = bytes.throttle(rate, Duration.ofSeconds(1), rate, ByteString::size, ThrottleMode.shaping());
    }
    bytes = bytes.map(b -> {
      if (cancelled.getAsBoolean()) {
        throw new CancellationException("superseded");
      }
      return b;
    });
    UploadSettings exactSize = new UploadSettings(release.size(), upload.archiveLimits(), upload.stallTimeout());
    AtomicLong received = new AtomicLong();
    StagedPayload staged;
    try {
      staged = bytes.runWith(PayloadUpload.verifiedCopy(blobs, exactSize, sha, received), client.materializer())
          .toCompletableFuture().get();
    } catch (ExecutionException e) {
      checkCancelled(cancelled);
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
    if (staged.size() != release.size()) {
      staged.discard();
      throw new IOException("served " + staged.size() + " bytes, expected " + release.size());
    }
    Path path1 = staged.commit();
    Duration took = Duration.between(started, Instant.now());
    reporter.log(release.deploymentId(), LogEntry.LOG, "fetch",
        String.format("fetched %d bytes from %s in %.2f s", staged.size(), from.node(), took.toMillis() / 1000.0),
        Map.of("bytes", staged.size(), "millis", took.toMillis()));
    return path1;
  }

  private static void checkCancelled(BooleanSupplier cancelled) {
    if (cancelled.getAsBoolean()) {
      throw new CancellationException("superseded");
    }
  }

  private static String reason(Exception e) {
    if (e instanceof UploadFailure f && f.reason() == UploadFailure.Reason.DIGEST_MISMATCH) {
      return "its bytes do not match sha256 " + f.expected() + " (got " + f.actual() + "): rejected";
    }
    if (e instanceof UploadFailure f && f.reason() == UploadFailure.Reason.PAYLOAD_TOO_LARGE) {
      return "it served more bytes than the payload has: rejected";
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }
}
