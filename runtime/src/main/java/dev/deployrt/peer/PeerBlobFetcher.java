package dev.deployrt.peer;

import dev.deployrt.applier.BlobSource;
import dev.deployrt.applier.BlobSource.ExtractionFailed;
import dev.deployrt.applier.NodeReporter;
import dev.deployrt.async.Failures;
import dev.deployrt.blob.BlobStore;
import dev.deployrt.deployment.LogEntry;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.fanout.PartialBlob;
import dev.deployrt.fanout.PartialBlobs;
import dev.deployrt.fanout.PiecePlan;
import dev.deployrt.release.DesiredRelease;
import dev.deployrt.upload.UploadFailure;
import dev.deployrt.upload.UploadSettings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Gets a payload onto this node from the nodes that have it: its fan-out parent first ({@link
 * FanOutPlan}), then every node the {@link PeerDirectory} lists as holding the verified payload,
 * the origin last. Each copy streams, with backpressure, through the same one-pass graph as an
 * upload (stall check, size limit, SHA-256, staging file) and, at the same time, into the release's
 * extraction; it is committed to the blob store only if its digest and size match, and the
 * extraction counts only then. A peer that serves other bytes is reported in the deployment's
 * events and the next one is tried. When every source failed it waits (doubling pauses, woken early
 * if the blob arrives by another way) and tries again, until the distribution timeout.
 *
 * <p>Blocking: runs on the applier's blocking dispatcher. Nothing of a failed or cancelled copy
 * stays visible (the staging file is deleted).
 */
public final class PeerBlobFetcher implements BlobSource {
  private final String self;
  private final BlobStore blobs;
  private final PeerDirectory directory;
  private final Supplier<Set<String>> upNodes;
  private final DistributionSettings settings;
  private final NodeReporter reporter;
  private final PeerCopy copies;
  private final PieceFetch pieces;
  private final PartialBlobs partials;
  private final Executor extractors;

  /**
   * @param extractors where extractions run while their payload streams in
   */
  public PeerBlobFetcher(
      String self,
      BlobStore blobs,
      PartialBlobs partials,
      PeerDirectory directory,
      PeerClient client,
      Supplier<Set<String>> upNodes,
      UploadSettings upload,
      DistributionSettings settings,
      NodeReporter reporter,
      Executor extractors) {
    this.self = self;
    this.blobs = blobs;
    this.directory = directory;
    this.upNodes = upNodes;
    this.settings = settings;
    this.reporter = reporter;
    this.copies = new PeerCopy(blobs, client, upload, settings, reporter, extractors);
    this.pieces =
        new PieceFetch(self, blobs, partials, client, settings, reporter, extractors, upNodes);
    this.partials = partials;
    this.extractors = extractors;
  }

  record Candidate(String node, Duration patience) {}

  /**
   * The payload a fetch is for: the deployment whose events it is logged in, the bytes it must
   * verify, the node that stored it (asked last), and the fan-out plan that places this node (null
   * when none applies: a rollback, whose payload the nodes may already hold, or a copy for a
   * rollback request).
   */
  record Wanted(String deploymentId, String sha256, long size, String origin, FanOutPlan plan) {
    static Wanted of(DesiredRelease release) {
      FanOutPlan plan =
          release.sourceDeploymentId() == null && release.origin() != null
              ? FanOutPlan.of(release.origin(), release.targets())
              : null;
      return new Wanted(
          release.deploymentId(), release.sha256(), release.size(), release.origin(), plan);
    }
  }

  @Override
  public Path obtain(
      DesiredRelease desired, BooleanSupplier cancelled, Runnable fetched, Extraction extraction)
      throws Exception {
    Wanted release = Wanted.of(desired);
    String sha = release.sha256();
    Instant deadline = Instant.now().plus(settings.timeout());
    Duration backoff = settings.retryBackoffMin();
    boolean toldNoSource = false;
    if (awaitsPush(release)) {
      Optional<Path> pushed = awaitPush(sha, cancelled, fetched, extraction);
      if (pushed.isPresent()) {
        return pushed.get();
      }
    }
    Optional<Path> inPieces = fetchInPieces(release, cancelled, fetched, extraction);
    if (inPieces.isPresent()) {
      return inPieces.get();
    }
    while (true) {
      Optional<Path> local = blobs.claimIfPresent(sha);
      if (local.isPresent()) {
        return extractLocal(local.get(), fetched, extraction);
      }
      List<Candidate> candidates = candidates(release);
      if (candidates.isEmpty() && !toldNoSource) {
        toldNoSource = true;
        reporter.log(
            release.deploymentId(),
            LogEntry.WARNING,
            "fetch",
            "no reachable node holds payload " + sha + " yet; waiting for one",
            Map.of());
      }
      Optional<Path> served = tryEach(candidates, release, cancelled, fetched, extraction);
      if (served.isPresent()) {
        return served.get();
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IOException(
            "no node could serve payload "
                + sha
                + " within "
                + settings.timeout().toSeconds()
                + " s");
      }
      Optional<Path> arrived = arrivalWithin(sha, backoff);
      if (arrived.isPresent()) {
        return extractLocal(arrived.get(), fetched, extraction);
      }
      backoff =
          backoff.multipliedBy(2).compareTo(settings.retryBackoffMax()) > 0
              ? settings.retryBackoffMax()
              : backoff.multipliedBy(2);
      checkCancelled(cancelled);
    }
  }

  /**
   * Asks each candidate once, in order; the committed blob as soon as one served it intact (or it
   * arrived by another way meanwhile), else empty. Each failure is logged in the deployment's
   * events.
   */
  private Optional<Path> tryEach(
      List<Candidate> candidates,
      Wanted release,
      BooleanSupplier cancelled,
      Runnable fetched,
      Extraction extraction)
      throws Exception {
    for (Candidate candidate : candidates) {
      checkCancelled(cancelled);
      try {
        return Optional.of(copies.copy(candidate, release, cancelled, fetched, extraction));
      } catch (CancellationException | ExtractionFailed e) {
        throw e;
      } catch (Exception e) {
        checkCancelled(cancelled);
        reporter.log(
            release.deploymentId(),
            LogEntry.WARNING,
            "fetch",
            "could not fetch the payload from " + candidate.node() + ": " + reason(e),
            Map.of());
      }
      Optional<Path> local = blobs.claimIfPresent(release.sha256());
      if (local.isPresent()) {
        return Optional.of(extractLocal(local.get(), fetched, extraction));
      }
    }
    return Optional.empty();
  }

  /**
   * A new payload's fetch in pieces along its {@link PiecePlan}, when piece relay is on: the
   * committed blob, or empty when that fetch could not finish (a warning says why; nothing of it
   * stays) and whole copies are to be tried.
   */
  private Optional<Path> fetchInPieces(
      Wanted release, BooleanSupplier cancelled, Runnable fetched, Extraction extraction)
      throws Exception {
    if (!settings.pieceRelay() || release.plan() == null || blobs.contains(release.sha256())) {
      return Optional.empty();
    }
    // The first replica relays the origin's push to the trees' roots while it arrives; further
    // replicas (min-copies > 2) get pushes of their own and stay out of the trees.
    List<String> targets = new ArrayList<>(release.plan().order());
    boolean withReplica = settings.minCopies() >= 2 && targets.size() > 1;
    if (withReplica && targets.size() > 2) {
      targets.subList(2, Math.min(settings.minCopies(), targets.size())).clear();
    }
    if (!targets.contains(self)) {
      return Optional.empty();
    }
    PiecePlan plan =
        PiecePlan.of(release.origin(), targets, withReplica, DistributionSettings.STRIPES);
    try {
      return Optional.of(
          pieces.fetch(release, plan, () -> holders(release), cancelled, fetched, extraction));
    } catch (CancellationException | ExtractionFailed e) {
      throw e;
    } catch (Exception e) {
      checkCancelled(cancelled);
      reporter.log(
          release.deploymentId(),
          LogEntry.WARNING,
          "fetch",
          "the fetch in pieces stopped (" + reason(e) + "); fetching whole copies instead",
          Map.of());
      return Optional.empty();
    }
  }

  /** The blob if it arrives (a push, another fetch) within {@code wait}. */
  private Optional<Path> arrivalWithin(String sha, Duration wait) throws Exception {
    try {
      return Optional.of(
          blobs.whenPresent(sha).toCompletableFuture().get(wait.toMillis(), TimeUnit.MILLISECONDS));
    } catch (TimeoutException e) {
      return Optional.empty();
    }
  }

  /**
   * Copies the verified payload {@code sha256} ({@code size} bytes) into this node's blob store
   * from the first node that is up, holds it and serves it intact, trying each holder once; each
   * attempt is logged in deployment {@code deploymentId}'s events. Returns the committed copy (at
   * once if this node already holds one). Blocking. Throws if no holder served it: nothing of a
   * failed attempt stays.
   */
  public Path copyFromHolders(String deploymentId, String sha256, long size) throws IOException {
    Wanted wanted = new Wanted(deploymentId, sha256, size, null, null);
    List<String> failures = new ArrayList<>();
    for (Candidate candidate : candidates(wanted)) {
      Optional<Path> local = blobs.claimIfPresent(sha256);
      if (local.isPresent()) {
        return local.get();
      }
      try {
        return copies.copy(candidate, wanted, () -> false, () -> {}, compressed -> {});
      } catch (Exception e) {
        String why = candidate.node() + ": " + reason(e);
        failures.add(why);
        reporter.log(
            deploymentId,
            LogEntry.WARNING,
            "fetch",
            "could not fetch the payload from " + why,
            Map.of());
      }
    }
    Optional<Path> local = blobs.claimIfPresent(sha256);
    if (local.isPresent()) {
      return local.get();
    }
    throw new IOException(
        "no node that is up could serve payload "
            + sha256
            + (failures.isEmpty() ? " (none holds it)" : " (" + String.join("; ", failures) + ")"));
  }

  /**
   * True if the origin pushes this payload to this node (a replica in the plan) instead of it
   * fetching.
   */
  private boolean awaitsPush(Wanted release) {
    if (release.plan() == null || settings.minCopies() < 2) {
      return false;
    }
    int position = release.plan().order().indexOf(self);
    return position >= 1 && position < settings.minCopies();
  }

  /**
   * Waits for the origin's push: up to {@code parent-wait} for it to begin, and, once it arrives in
   * pieces ({@link RelayingPushReceiver}), for as long as pieces keep coming, extracting them as
   * they do. The committed blob (extracted), or empty if the push did not come, stalled or failed.
   */
  private Optional<Path> awaitPush(
      String sha, BooleanSupplier cancelled, Runnable fetched, Extraction extraction)
      throws Exception {
    Instant until = Instant.now().plus(settings.parentWait());
    CompletableFuture<Path> arrival = blobs.whenPresent(sha).toCompletableFuture();
    PartialBlob pushing = null;
    CompletableFuture<Void> extracted = null;
    int lastHeld = -1;
    while (Instant.now().isBefore(until)) {
      checkCancelled(cancelled);
      try {
        Path blob = arrival.get(200, TimeUnit.MILLISECONDS);
        if (extracted == null) {
          return Optional.of(extractLocal(blob, fetched, extraction));
        }
        fetched.run();
        awaitExtraction(extracted, cancelled);
        return Optional.of(blob);
      } catch (TimeoutException e) {
        // not yet
      }
      if (pushing == null && settings.pieceRelay()) {
        pushing = partials.find(sha).orElse(null);
        if (pushing != null) {
          extracted = PieceFetch.extract(pushing, extraction, extractors);
        }
      }
      if (pushing != null && pushing.hasFailed()) {
        break;
      }
      if (pushing != null && pushing.heldCount() > lastHeld) {
        lastHeld = pushing.heldCount();
        until = Instant.now().plus(settings.parentWait());
      }
    }
    if (pushing != null) {
      // Stalled or failed: stop the push (its sender tries another node) and the extraction.
      pushing.abort(new IOException("the push of payload " + sha + " stalled"));
      awaitQuietly(extracted);
    }
    return Optional.empty();
  }

  /** Waits up to 30 s for {@code f} to end, whatever its outcome. */
  static void awaitQuietly(CompletableFuture<?> f) {
    try {
      f.get(30, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // only its end matters
    }
  }

  private static Path extractLocal(Path blob, Runnable fetched, Extraction extraction)
      throws IOException {
    fetched.run();
    try (InputStream in = Files.newInputStream(blob)) {
      extraction.extract(in);
    } catch (IOException e) {
      throw new ExtractionFailed(e);
    }
    return blob;
  }

  /** The parent in the fan-out plan (waited for), then the holders. */
  private List<Candidate> candidates(Wanted release) {
    Set<String> up = upNodes.get();
    List<Candidate> out = new ArrayList<>();
    if (release.plan() != null) {
      release
          .plan()
          .parentOf(self)
          .filter(up::contains)
          .ifPresent(parent -> out.add(new Candidate(parent, settings.parentWait())));
    }
    holders(release).stream()
        .filter(n -> out.stream().noneMatch(c -> c.node().equals(n)))
        .forEach(n -> out.add(new Candidate(n, Duration.ZERO)));
    return out;
  }

  /** The other nodes that are up and hold the whole payload, by name, the origin last. */
  private List<String> holders(Wanted release) {
    Set<String> up = upNodes.get();
    return directory.snapshot().entrySet().stream()
        .filter(e -> !e.getKey().equals(self) && up.contains(e.getKey()))
        .filter(e -> e.getValue().blobs().contains(release.sha256()))
        .map(Map.Entry::getKey)
        .sorted(
            Comparator.comparing((String n) -> n.equals(release.origin())).thenComparing(n -> n))
        .toList();
  }

  /**
   * Waits for an extraction that ran while its payload arrived; its failure as {@link
   * ExtractionFailed}, or the cancellation that stopped it.
   */
  static void awaitExtraction(CompletableFuture<Void> extracted, BooleanSupplier cancelled)
      throws Exception {
    try {
      extracted.get();
    } catch (ExecutionException e) {
      checkCancelled(cancelled);
      Throwable cause = Failures.cause(e.getCause());
      if (cause instanceof CancellationException ce) {
        throw ce;
      }
      throw cause instanceof IOException io
          ? new ExtractionFailed(io)
          : new ExtractionFailed(new IOException(cause));
    }
  }

  static void checkCancelled(BooleanSupplier cancelled) {
    if (cancelled.getAsBoolean()) {
      throw new CancellationException("superseded");
    }
  }

  private static String reason(Exception e) {
    if (e instanceof UploadFailure f && f.code() == ErrorCode.DIGEST_MISMATCH) {
      return "its bytes do not match sha256 "
          + f.expected()
          + " (got "
          + f.actual()
          + "): rejected";
    }
    if (e instanceof UploadFailure f && f.code() == ErrorCode.PAYLOAD_TOO_LARGE) {
      return "it served more bytes than the payload has: rejected";
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }
}
