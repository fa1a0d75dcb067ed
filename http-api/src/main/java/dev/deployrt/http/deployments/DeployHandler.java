package dev.deployrt.http.deployments;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.async.Failures;
import dev.deployrt.blob.BlobStore;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.deployment.LogEntry;
import dev.deployrt.http.ApiException;
import dev.deployrt.http.ApiJson;
import dev.deployrt.http.EntityBytes;
import dev.deployrt.http.auth.User;
import dev.deployrt.http.limits.RequestLimits;
import dev.deployrt.metrics.NodeMetrics;
import dev.deployrt.node.NodeRuntime;
import dev.deployrt.peer.FanOutPlan;
import dev.deployrt.upload.PayloadUpload;
import dev.deployrt.upload.StagedPayload;
import dev.deployrt.upload.UploadFailure;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.Multipart;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.StreamLimitReachedException;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /deployments} in its three forms: raw body, multipart (fields before one {@code
 * payload} file part) and JSON rollback.
 *
 * <p>Audit guarantee: the deployment record is created as soon as the request is authorised, before
 * any payload byte is read, and every outcome ends on it: stored and distributing, or {@code failed}
 * with the error code the client received. If the record cannot be written, nothing is read or
 * stored and the client gets 503. The payload goes through {@link PayloadUpload} in one pass and
 * is committed to the blob store only when the whole request has been read and checked.
 */
public final class DeployHandler {
  private static final Logger log = LoggerFactory.getLogger(DeployHandler.class);
  /** How long an ask of an actor (an entity, the register) may take: {@code deploy.http.ask-timeout}. */
  private final Duration askTimeout;
  private static final int MAX_FIELD_BYTES = 4096;
  /** Text fields a multipart body may hold before its payload part (the form has three). */
  static final int MAX_FIELDS = 8;
  private static final int MAX_JSON_BYTES = 64 * 1024;

  private final NodeRuntime node;
  private final Materializer mat;
  private final Duration maxWait;
  private final EventStreams streams;
  /** Rollback copies to this node under way, by digest ({@link #sharedCopy}). */
  private final Map<String, CompletableFuture<Void>> copiesInFlight = new ConcurrentHashMap<>();
  /** Deploys answered with an event stream, by id: completed once their record exists. */
  private final Map<String, CompletableFuture<Deployment>> streamed = new ConcurrentHashMap<>();

  private final RequestLimits limits;

  public DeployHandler(NodeRuntime node, Duration maxWait, EventStreams streams, RequestLimits limits) {
    this.node = node;
    this.askTimeout = node.system().settings().config().getDuration("deploy.http.ask-timeout");
    this.limits = limits;
    this.mat = Materializer.matFromSystem(node.system());
    this.maxWait = maxWait;
    this.streams = streams;
  }

  public CompletionStage<HttpResponse> deploy(HttpRequest original, User user) {
    // Every deploy takes a slot of the node's and the user's concurrent-upload limits (429 before any
    // record when full): an upload until its body has been read or the deploy has its answer, whichever
    // is first; a rollback, which may copy a whole payload here, until its bytes are here and recorded
    // or the deploy has its answer. (With an event stream, the client's answer starts earlier: the
    // slot is held until the deploy's own outcome.)
    RequestLimits.UploadSlot slot = limits.startUpload(user.name());
    HttpRequest request = isUpload(original) ? original.withEntity(releasedWhenRead(original.entity(), slot)) : original;
    try {
      return deployAdmitted(request, user, slot);
    } catch (RuntimeException e) {
      slot.release();
      throw e;
    }
  }

  /**
   * The same entity, failing with {@code UPLOAD_STALLED} once no byte arrived for the stall timeout: a
   * multipart body's fields come before its payload part (whose bytes the upload graph checks itself),
   * and a client must not hold a request open by sending them slowly, or not at all.
   */
  private RequestEntity stallChecked(RequestEntity entity) {
    Duration stall = node.settings().upload().stallTimeout();
    return EntityBytes.via(entity, Flow.<ByteString>create()
        .idleTimeout(stall)
        .mapError(TimeoutException.class, e -> (Throwable) UploadFailure.stalled(stall, e)));
  }

  /** The same entity, releasing {@code slot} when its bytes end, fail or are cancelled. */
  private static RequestEntity releasedWhenRead(RequestEntity entity, RequestLimits.UploadSlot slot) {
    return EntityBytes.via(entity, EntityBytes.onEnd(e -> slot.release()));
  }

  private static boolean isUpload(HttpRequest request) {
    var mediaType = request.entity().getContentType().mediaType();
    return !(mediaType.mainType() + "/" + mediaType.subType()).equals("application/json");
  }

  private CompletionStage<HttpResponse> deployAdmitted(HttpRequest request, User user, RequestLimits.UploadSlot slot) {
    String id = UUID.randomUUID().toString();
    if (!EventStreams.wanted(request)) {
      return deploy(id, request, user, slot).whenComplete((r, e) -> slot.release());
    }
    // Accept: text/event-stream: the deploy runs as usual (its own answer is not sent), and the
    // client gets the deployment's event stream as soon as the record exists, upload progress
    // included. If the record cannot be written, the client gets that error instead.
    CompletableFuture<Deployment> recorded = new CompletableFuture<>();
    streamed.put(id, recorded);
    CompletionStage<HttpResponse> outcome = deploy(id, request, user, slot);
    outcome.whenComplete((response, error) -> {
      slot.release();
      streamed.remove(id);
      recorded.completeExceptionally(new IllegalStateException("not recorded"));
    });
    return recorded.handle((created, notRecorded) -> created)
        .thenCompose(created -> created != null
            ? CompletableFuture.completedFuture(streams.response(id, 0, true))
            : outcome);
  }

  private CompletionStage<HttpResponse> deploy(String id, HttpRequest request, User user, RequestLimits.UploadSlot slot) {
    Map<String, String> query;
    try {
      query = singleValued(request.getUri().query().toMultiMap());
    } catch (ApiException e) {
      return rejectBeforeBody(id, user, Map.of(), e, request);
    }
    var mediaType = request.entity().getContentType().mediaType();
    String type = mediaType.mainType() + "/" + mediaType.subType();
    switch (type) {
      case "application/gzip", "application/x-gzip", "application/octet-stream" -> {
        return raw(id, request, user, query);
      }
      case "multipart/form-data" -> {
        return multipart(id, request, user, query);
      }
      case "application/json" -> {
        return rollback(id, request, user, query, slot);
      }
      default -> { }
    }
    return rejectBeforeBody(id, user, query, new ApiException(415, "UNSUPPORTED_MEDIA_TYPE",
        "content type '" + mediaType + "' is not accepted: send application/gzip, application/octet-stream, "
            + "multipart/form-data or application/json"), request);
  }

  // ---- the three forms ------------------------------------------------------------------------

  private CompletionStage<HttpResponse> raw(String id, HttpRequest request, User user, Map<String, String> query) {
    Map<String, String> fields = new HashMap<>(query);
    Map<String, String> options = new HashMap<>();
    for (String option : DeployRequest.RESPONSE_OPTIONS) {
      if (fields.containsKey(option)) {
        options.put(option, fields.remove(option));
      }
    }
    DeployRequest params = DeployRequest.parse(fields, DeployRequest.PAYLOAD_FIELDS, options, maxWait);
    HttpEntity entity = request.entity();
    return record(id, params, user, null).thenCompose(created -> {
      if (params.problem() != null) {
        return fail(id, params.problem());
      }
      OptionalLong declared = entity.getContentLengthOption();
      long max = node.settings().upload().maxBytes();
      if (declared.isPresent() && declared.getAsLong() > max) {
        return fail(id, asApi(UploadFailure.tooLarge(max)));
      }
      return upload(id, entity.getDataBytes(), params)
          .thenCompose(staged -> storeAndDistribute(id, staged, params))
          .exceptionallyCompose(e -> fail(id, asApi(e)));
    });
  }

  private CompletionStage<HttpResponse> multipart(String id, HttpRequest request, User user,
      Map<String, String> query) {
    MultipartReading reading = new MultipartReading(id, user, query);
    CompletionStage<Multipart.FormData> form =
        Unmarshaller.entityToMultipartFormData().unmarshal(stallChecked(request.entity()), mat);
    return form
        .exceptionally(e -> {
          throw ApiException.invalid("malformed multipart body: " + rootMessage(e));
        })
        .thenCompose(fd -> fd.getParts().mapAsync(1, reading::onPart).runWith(Sink.ignore(), mat))
        .thenCompose(done -> reading.finish())
        .exceptionallyCompose(reading::fail);
  }

  /**
   * Reads multipart parts in order; the record is created when the payload part starts, or when the
   * body fails before it. The body's failure can arrive while a field part is still being read (on
   * another thread), so the fields, the record and the staged payload are guarded by this object.
   */
  private final class MultipartReading {
    private final String id;
    private final User user;
    private final Map<String, String> query;
    /** Guarded by this. */
    private final Map<String, String> fields = new HashMap<>();
    /** Guarded by this. */
    private DeployRequest params;
    /** Guarded by this. */
    private CompletionStage<Deployment> recorded;
    /** Guarded by this. */
    private StagedPayload staged;
    /** Fails the payload part's upload if the request fails while it is still receiving. */
    private final AtomicReference<UniqueKillSwitch> uploading = new AtomicReference<>();
    /** Set once the request failed; an upload finishing after that discards its payload. Guarded by this. */
    private boolean failed;

    MultipartReading(String id, User user, Map<String, String> query) {
      this.id = id;
      this.user = user;
      this.query = query;
    }

    CompletionStage<Object> onPart(Multipart.FormData.BodyPart part) {
      String name = part.getName();
      boolean payloadSeen;
      synchronized (this) {
        payloadSeen = recorded != null;
      }
      if (payloadSeen) {
        part.getEntity().discardBytes(mat);
        throw ApiException.invalid("the file part 'payload' must be the last part; found '"
            + DeployRequest.printable(name) + "' after it");
      }
      if (name.equals("payload")) {
        DeployRequest params;
        CompletionStage<Deployment> recorded;
        synchronized (this) {
          params = DeployRequest.parse(fields, DeployRequest.PAYLOAD_FIELDS, query, maxWait);
          recorded = record(id, params, user, null);
          this.params = params;
          this.recorded = recorded;
        }
        return recorded.thenCompose(created -> {
          if (params.problem() != null) {
            part.getEntity().discardBytes(mat);
            throw params.problem();
          }
          return upload(id, part.getEntity().getDataBytes(), params, uploading).thenApply(s -> {
            synchronized (this) {
              if (!failed) {
                staged = s;
                return (Object) s;
              }
            }
            // The request already failed (the body broke off after the payload's bytes): nobody
            // will commit this payload, so its staging file goes now.
            s.discard();
            return (Object) s;
          });
        });
      }
      if (part.getFilename().isPresent()) {
        part.getEntity().discardBytes(mat);
        throw ApiException.invalid("unexpected file part '" + DeployRequest.printable(name)
            + "': the payload part must be named 'payload'");
      }
      boolean twice;
      boolean tooMany;
      synchronized (this) {
        twice = fields.containsKey(name);
        tooMany = fields.size() >= MAX_FIELDS;
      }
      if (twice) {
        part.getEntity().discardBytes(mat);
        throw ApiException.invalid("field '" + DeployRequest.printable(name) + "' is given twice");
      }
      if (tooMany) {
        part.getEntity().discardBytes(mat);
        throw ApiException.invalid("more than " + MAX_FIELDS + " fields before the file part 'payload'")
            .with("limit", MAX_FIELDS);
      }
      return part.getEntity().getDataBytes()
          .limitWeighted(MAX_FIELD_BYTES, b -> (long) b.size())
          .runFold(ByteString.emptyByteString(), ByteString::concat, mat)
          .handle((bytes, e) -> {
            if (e != null) {
              UploadFailure stalled = Failures.find(UploadFailure.class, e);
              if (stalled != null) {
                throw new CompletionException(stalled);
              }
              throw Failures.cause(e) instanceof StreamLimitReachedException
                  ? ApiException.invalid("field '" + DeployRequest.printable(name) + "' is longer than "
                      + MAX_FIELD_BYTES + " bytes")
                  : ApiException.invalid("malformed multipart body: " + rootMessage(e));
            }
            synchronized (this) {
              fields.put(name, bytes.utf8String());
            }
            return bytes;
          });
    }

    CompletionStage<HttpResponse> finish() {
      StagedPayload payload;
      DeployRequest params;
      synchronized (this) {
        payload = staged;
        params = this.params;
      }
      if (payload == null) {
        return fail(ApiException.invalid("the multipart body has no file part named 'payload'"));
      }
      return storeAndDistribute(id, payload, params);
    }

    CompletionStage<HttpResponse> fail(Throwable error) {
      UniqueKillSwitch upload = uploading.getAndSet(null);
      if (upload != null) {
        // The body broke off around the payload part (e.g. no closing boundary): its byte stream may
        // never end, so end the upload here, which deletes its staging file.
        upload.abort(new java.io.IOException("the multipart body failed: " + rootMessage(error)));
      }
      StagedPayload toDiscard;
      CompletionStage<Deployment> recorded;
      synchronized (this) {
        failed = true;
        toDiscard = staged;
        staged = null;
        if (this.recorded == null) {
          // Every attempt is on record: with the fields that arrived before the body failed.
          DeployRequest best = DeployRequest.parse(fields, DeployRequest.PAYLOAD_FIELDS, query, maxWait);
          this.recorded = record(id, best, user, null);
        }
        recorded = this.recorded;
      }
      if (toDiscard != null) {
        toDiscard.discard();
      }
      ApiException api = asApi(error);
      return recorded.thenCompose(created -> DeployHandler.this.fail(id, api));
    }
  }

  private CompletionStage<HttpResponse> rollback(String id, HttpRequest request, User user,
      Map<String, String> query, RequestLimits.UploadSlot slot) {
    return request.entity().withSizeLimit(MAX_JSON_BYTES).toStrict(askTimeout.toMillis(), mat)
        .handle((strict, error) -> error != null
            ? JsonFields.unreadable("the body could not be read: " + rootMessage(error))
            : JsonFields.parse(strict.getData().utf8String()))
        .thenCompose(body -> {
          DeployRequest parsed = DeployRequest.parse(body.fields(), DeployRequest.ROLLBACK_FIELDS, query, maxWait);
          DeployRequest params = body.problem() == null ? parsed
              : new DeployRequest(null, null, null, null, parsed.waitForResult(), parsed.timeout(),
                  ApiException.invalid(body.problem()));
          return record(id, params, user, params.rollbackOf()).thenCompose(created -> {
            if (params.problem() != null) {
              return fail(id, params.problem());
            }
            return get(params.rollbackOf()).thenCompose(earlier -> rollbackTo(id, earlier, params, slot));
          });
        });
  }

  /** @param slot this rollback's upload slot, released once the bytes are here and recorded */
  private CompletionStage<HttpResponse> rollbackTo(String id, Deployment earlier, DeployRequest params,
      RequestLimits.UploadSlot slot) {
    if (!earlier.exists()) {
      return fail(id, ApiException.notFound("deployment " + params.rollbackOf() + " does not exist")
          .with("rollback_of", params.rollbackOf()));
    }
    if (!earlier.project().equals(params.project())) {
      return fail(id, ApiException.invalid("deployment " + params.rollbackOf() + " belongs to project '"
          + earlier.project() + "', not '" + params.project() + "'"));
    }
    if (earlier.sha256() == null) {
      return fail(id, ApiException.invalid("deployment " + params.rollbackOf() + " never stored a payload"));
    }
    if (!earlier.payloadPresent() || !anyUpNodeHolds(earlier.sha256())) {
      return fail(id, pruned(params));
    }
    // A payload delete of the earlier deployment may be under way. This node's copy is held while the
    // record is read again, so the delete either marked it first (then this rollback fails
    // PAYLOAD_PRUNED) or keeps this copy, which the other nodes then fetch. A node without a copy
    // first copies the bytes from a node that holds them, under the same hold: a copy committed
    // after the delete's claim mark, or on a node the delete did not mark, stays.
    return whileHeld(id, earlier.sha256(), () -> copyHere(id, earlier, params)
        .thenCompose(copied -> get(params.rollbackOf()))
        .thenCompose(again -> {
          if (!again.payloadPresent()) {
            throw pruned(params);
          }
          return markStored(id, earlier.sha256(), earlier.payloadSize(), node.targetNodes());
        }).whenComplete((stored, e) -> slot.release()), stored -> respondStored(id, stored, params));
  }

  /**
   * Completes once this node holds the earlier deployment's bytes, copying them from a holder if it
   * does not (renewing the pending record's upload lease meanwhile, as an upload does); if none could
   * serve them, fails PAYLOAD_PRUNED when the earlier record was marked meanwhile (a delete won), else
   * UNAVAILABLE.
   */
  private CompletionStage<Void> copyHere(String id, Deployment earlier, DeployRequest params) {
    if (node.blobs().contains(earlier.sha256())) {
      return CompletableFuture.completedFuture(null);
    }
    Cancellable heartbeat = renewLease(id, () -> 0);
    return sharedCopy(id, earlier)
        .whenComplete((done, e) -> heartbeat.cancel())
        .exceptionallyCompose(failure -> get(params.rollbackOf()).thenApply(again -> {
          if (!again.payloadPresent()) {
            throw pruned(params);
          }
          throw ApiException.unavailable("could not copy the payload of deployment " + params.rollbackOf()
              + " to this node: " + Failures.cause(failure).getMessage()).with("retry_after", 10);
        }));
  }

  /**
   * Copies the earlier deployment's bytes to this node from a holder, once for all the rollbacks that
   * need them at the same time: a second rollback to the same bytes while a copy runs waits for that
   * copy instead of starting its own (and says so in its events).
   */
  private CompletableFuture<Void> sharedCopy(String id, Deployment earlier) {
    String sha256 = earlier.sha256();
    CompletableFuture<Void> mine = new CompletableFuture<>();
    CompletableFuture<Void> running = copiesInFlight.putIfAbsent(sha256, mine);
    if (running != null) {
      node.deployment(id).tell(new DeploymentEntity.AppendLog(LogEntry.LOG, "fetch", node.nodeName(),
          "the payload is already being copied to " + node.nodeName() + " for another rollback: waiting for that copy",
          Map.of()));
      return running;
    }
    CompletableFuture.runAsync(() -> {
      try {
        node.fetcher().copyFromHolders(id, sha256, earlier.payloadSize());
      } catch (IOException e) {
        throw new CompletionException(e);
      }
    }, node.uploads()).whenComplete((done, e) -> {
      copiesInFlight.remove(sha256, mine);
      if (e != null) {
        mine.completeExceptionally(e);
      } else {
        mine.complete(null);
      }
    });
    return mine;
  }

  /**
   * Renews pending deployment {@code id}'s upload lease every progress interval, reporting {@code
   * bytesSoFar} (a count no higher than the last one only renews), until cancelled.
   */
  private Cancellable renewLease(String id, LongSupplier bytesSoFar) {
    var ref = node.deployment(id);
    Duration every = node.settings().progressInterval();
    return node.system().scheduler().scheduleAtFixedRate(every, every,
        () -> ref.tell(new DeploymentEntity.RecordUploadProgress(bytesSoFar.getAsLong())), node.system().executionContext());
  }

  private static ApiException pruned(DeployRequest params) {
    return new ApiException(404, "PAYLOAD_PRUNED", "the payload of deployment " + params.rollbackOf()
        + " was reclaimed").with("rollback_of", params.rollbackOf());
  }

  private boolean anyUpNodeHolds(String sha256) {
    return node.blobs().contains(sha256) || node.upNodes().stream()
        .anyMatch(n -> node.directory().peer(n).blobs().contains(sha256));
  }

  // ---- shared steps ---------------------------------------------------------------------------

  /** Creates the record; if that fails nothing else may happen, and the client gets 503. */
  private CompletionStage<Deployment> record(String id, DeployRequest params, User user, String rollbackOf) {
    return node.deployment(id)
        .<Deployment>askWithStatus(replyTo -> new DeploymentEntity.Create(params.project(), params.description(),
            user.name(), node.nodeName(), rollbackOf, replyTo), askTimeout)
        .whenComplete((created, e) -> {
          if (created != null) {
            node.queries().answered(created);
          }
          CompletableFuture<Deployment> waiting = created == null ? null : streamed.remove(id);
          if (waiting != null) {
            waiting.complete(created);
          }
        })
        .exceptionally(e -> {
          Throwable cause = Failures.cause(e);
          log.error("could not record deployment {}: {}", id, cause.toString());
          if (cause instanceof java.util.concurrent.TimeoutException) {
            // The Create may still be delivered once the shard has moved (sharding buffers it). This
            // follows it in order and ends such a late record failed at once, saying what the client
            // was told, instead of leaving it pending until its upload lease runs out. With no record
            // the entity ignores it.
            node.deployment(id).tell(new DeploymentEntity.FailUpload("UNAVAILABLE",
                "not recorded in time (a node or the journal did not answer); the client was told to retry",
                "upload", node.system().ignoreRef()));
          }
          // A timeout: the entity's shard is on a node that does not answer (cut off, until the
          // split-brain resolver decides) or the journal hangs; a refusal: the journal failed the write.
          throw ApiException.unavailable(cause instanceof java.util.concurrent.TimeoutException
                  ? "the deployment could not be recorded in time: a node or the journal does not answer"
                  : "the deployment could not be recorded: the journal refused or failed the write")
              .with("retry_after", 5);
        });
  }

  /** Runs the upload graph while renewing the pending deployment's upload lease with the bytes so far. */
  private CompletionStage<StagedPayload> upload(String id, Source<ByteString, ?> bytes, DeployRequest params) {
    return upload(id, bytes, params, new AtomicReference<>());
  }

  /**
   * @param abort receives a switch that fails the upload (its staging file is then deleted), for a
   *     caller whose request can fail while the upload still waits for bytes that will never come
   */
  private CompletionStage<StagedPayload> upload(String id, Source<ByteString, ?> bytes, DeployRequest params,
      AtomicReference<UniqueKillSwitch> abort) {
    AtomicLong received = new AtomicLong();
    var ref = node.deployment(id);
    Cancellable heartbeat = renewLease(id, received::get);
    NodeMetrics.UploadInFlight inFlight = node.metrics().uploadStarted();
    Pair<UniqueKillSwitch, CompletionStage<StagedPayload>> running = bytes
        .map(chunk -> {
          inFlight.received(chunk.size());
          return chunk;
        })
        .viaMat(KillSwitches.single(), Keep.right())
        .toMat(PayloadUpload.sink(node.blobs(), node.settings().upload(), params.sha256(), received,
            node.uploads()), Keep.both())
        .run(mat);
    abort.set(running.first());
    return running.second()
        .whenComplete((staged, e) -> {
          inFlight.close();
          heartbeat.cancel();
          if (staged != null) {
            ref.tell(new DeploymentEntity.RecordUploadProgress(received.get()));
          }
        });
  }

  /**
   * Commits the payload and marks it stored, which starts distribution, and meanwhile pushes it to
   * {@code deploy.distribution.min-copies - 1} other nodes (the fan-out plan's replica waits for that
   * push instead of fetching). The answer waits for the push, so an acknowledged payload survives the
   * loss of this node (when enough nodes are up; otherwise a warning says so), while the other nodes'
   * fetches do not wait for it.
   */
  private CompletionStage<HttpResponse> storeAndDistribute(String id, StagedPayload staged, DeployRequest params) {
    List<String> targets = node.targetNodes();
    BlobStore blobs = node.blobs();
    String sha256 = staged.sha256();
    return whileHeld(id, sha256, () -> CompletableFuture
        .supplyAsync(() -> {
          // If this node stops before the record names the bytes, its next start ends the record and
          // deletes the bytes no deployment names (NodeRuntime's start-up sweep).
          try {
            return staged.commitFor(id);
          } catch (Exception e) {
            throw new CompletionException(UploadFailure.storage(e));
          }
        }, node.blocking())
        .thenCompose(path -> markStored(id, sha256, staged.size(), targets)
            .thenApply(stored -> {
              try {
                node.blocking().execute(() -> blobs.forgetPendingName(sha256, id));
              } catch (RejectedExecutionException stopping) {
                // the note stays; the next start finds the record naming the bytes and forgets it
              }
              return Map.entry(path, stored);
            })),
        done -> node.replicator()
            .replicate(sha256, done.getKey(), FanOutPlan.of(node.nodeName(), targets), node.upNodes())
            .thenApply(replicas -> {
              recordReplicas(id, replicas, targets.size());
              return done.getValue();
            })
            .thenCompose(stored -> respondStored(id, stored, params)));
  }

  /**
   * Runs {@code naming} (the steps until deployment {@code id}'s record names the bytes {@code
   * sha256}), then {@code rest}; a failure of either ends the record failed. Until the record names
   * the bytes, a payload delete's checks cannot see that this deployment needs them, so this node
   * holds them (BlobStore, "claims"): until {@code naming} completes or, if it fails, until {@code
   * fail()} was answered (the entity handles that after a MarkPayloadStored whose ask timed out but
   * which still arrives, so the record then names them or never will).
   */
  private <T> CompletionStage<HttpResponse> whileHeld(String id, String sha256, Supplier<CompletionStage<T>> naming,
      Function<T, CompletionStage<HttpResponse>> rest) {
    BlobStore.Hold hold = node.blobs().hold(sha256);
    try {
      CompletionStage<T> named = naming.get();
      named.thenRun(hold::close);
      return named.thenCompose(rest)
          .exceptionallyCompose(e -> fail(id, asApi(e)))
          .whenComplete((response, e) -> hold.close());
    } catch (RuntimeException e) {
      hold.close(); // e.g. the executor refused the commit (the node is stopping)
      throw e;
    }
  }

  private void recordReplicas(String id, List<String> replicas, int targets) {
    int wanted = Math.min(node.settings().distribution().minCopies(), targets) - 1;
    if (replicas.size() < wanted) {
      node.deployment(id).tell(new DeploymentEntity.AppendLog(LogEntry.WARNING, "store", node.nodeName(),
          "payload held by " + (1 + replicas.size()) + " node(s) when acknowledged, fewer than "
              + "deploy.distribution.min-copies (" + (wanted + 1) + "): the replica push failed",
          Map.of("copies", 1L + replicas.size())));
    } else if (!replicas.isEmpty()) {
      node.deployment(id).tell(new DeploymentEntity.AppendLog(LogEntry.LOG, "store", node.nodeName(),
          "payload copied to " + String.join(", ", replicas) + " before acknowledging",
          Map.of("copies", 1L + replicas.size())));
    }
  }

  private CompletionStage<Deployment> markStored(String id, String sha256, long size, List<String> targets) {
    return node.deployment(id).askWithStatus(
        replyTo -> new DeploymentEntity.MarkPayloadStored(sha256, size, targets, replyTo), askTimeout);
  }

  private CompletionStage<HttpResponse> respondStored(String id, Deployment stored, DeployRequest params) {
    if (!params.waitForResult()) {
      node.queries().answered(stored);
      return CompletableFuture.completedFuture(respond(202, ApiJson.deployment(stored, true), id));
    }
    return node.deployment(id)
        .<Deployment>ask(DeploymentEntity.AwaitTerminal::new, params.timeout())
        .handle((terminal, e) -> terminal)
        .thenCompose(terminal -> terminal != null ? CompletableFuture.completedFuture(terminal) : get(id))
        .thenApply(d -> {
          node.queries().answered(d);
          return respond(d.isTerminal() ? 201 : 202, ApiJson.deployment(d, true), id);
        });
  }

  private CompletionStage<Deployment> get(String id) {
    return node.deployment(id).ask(DeploymentEntity.Get::new, askTimeout);
  }

  /** Ends the record as failed with the error's code, then answers with that error. */
  private CompletionStage<HttpResponse> fail(String id, ApiException error) {
    error.with("deployment_id", id);
    return node.deployment(id)
        .<Deployment>askWithStatus(replyTo -> new DeploymentEntity.FailUpload(error.code(), error.getMessage(),
            "upload", replyTo), askTimeout)
        .handle((d, e) -> {
          if (e != null) {
            log.warn("could not mark deployment {} failed ({})", id, error.code(), e);
          } else {
            node.queries().answered(d);
          }
          return respond(error.status(), ApiJson.error(error), id);
        });
  }

  private CompletionStage<HttpResponse> rejectBeforeBody(String id, User user, Map<String, String> query,
      ApiException error, HttpRequest request) {
    request.entity().discardBytes(mat);
    DeployRequest best = DeployRequest.parse(query, DeployRequest.PAYLOAD_FIELDS, Map.of(), maxWait);
    return record(id, best, user, null).thenCompose(created -> fail(id, error));
  }

  static HttpResponse respond(int status, JsonNode body, String id) {
    return HttpResponse.create()
        .withStatus(status)
        .addHeader(Location.create("/deployments/" + id))
        .withEntity(ApiJson.entity(body));
  }

  // ---- helpers --------------------------------------------------------------------------------

  public static ApiException asApi(Throwable e) {
    Throwable t = Failures.cause(e);
    if (t instanceof ApiException api) {
      return api;
    }
    UploadFailure f = Failures.find(UploadFailure.class, t);
    if (f != null) {
      // Also when it comes wrapped, e.g. by the multipart parser reading a body that stalled.
      ApiException api = new ApiException(f.reason().httpStatus, f.code(), f.getMessage());
      return api.with("limit", f.limit()).with("expected", f.expected()).with("actual", f.actual());
    }
    if (t instanceof TimeoutException) {
      return ApiException.unavailable("the cluster did not answer in time").with("retry_after", 5);
    }
    if (t instanceof StatusReply.ErrorMessage refused) {
      // The record refused the step: it ended meanwhile (e.g. its upload lease ran out), which its
      // error says; the record keeps that outcome.
      return new ApiException(409, "CONFLICT", "the deployment ended before this step: " + refused.getMessage());
    }
    if (fromBodyParsing(t)) {
      // The body's framing is broken (a multipart body cut off, a bad part header, a bad chunk): the
      // client's fault. (Pekko's multipart parser throws an internal ParsingException for bad part
      // headers, and an IllegalStateException caused by its NotEnoughDataException for a body that ends
      // inside a part's headers.)
      return ApiException.invalid("malformed request body: " + DeployRequest.printable(String.valueOf(t.getMessage())));
    }
    log.error("unexpected failure while deploying", t);
    return new ApiException(500, "INTERNAL", "internal error: " + t.getClass().getSimpleName());
  }

  /** Whether {@code t} or one of its causes is Pekko HTTP's report of a body it could not parse. */
  private static boolean fromBodyParsing(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof org.apache.pekko.http.scaladsl.model.ExceptionWithErrorInfo
          || c.getClass().getName().startsWith("org.apache.pekko.http.impl.engine.parsing.")) {
        return true;
      }
    }
    return false;
  }

  private static Map<String, String> singleValued(Map<String, List<String>> multi) {
    Map<String, String> out = new HashMap<>();
    for (Map.Entry<String, List<String>> e : multi.entrySet()) {
      if (e.getValue().size() > 1) {
        throw ApiException.invalid("parameter '" + DeployRequest.printable(e.getKey()) + "' is given more than once");
      }
      out.put(e.getKey(), e.getValue().get(0));
    }
    return out;
  }

  /**
   * A rollback's JSON body: a flat object of strings, or the problem that makes it not one (then no
   * field is taken from it).
   */
  record JsonFields(Map<String, String> fields, String problem) {
    static JsonFields unreadable(String problem) {
      return new JsonFields(Map.of(), problem);
    }

    static JsonFields parse(String body) {
      JsonNode node;
      try {
        node = ApiJson.MAPPER.readTree(body);
      } catch (Exception e) {
        return unreadable(ApiJson.describeParseError(e));
      }
      if (node == null || !node.isObject()) {
        return unreadable("the body must be a JSON object");
      }
      Map<String, String> out = new HashMap<>();
      var it = node.fields();
      while (it.hasNext()) {
        var e = it.next();
        if (!e.getValue().isTextual()) {
          return unreadable("field '" + DeployRequest.printable(e.getKey()) + "' must be a string");
        }
        out.put(e.getKey(), e.getValue().asText());
      }
      return new JsonFields(out, null);
    }
  }

  /** The innermost cause's message, escaped: parsers quote the client's bytes in theirs. */
  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return DeployRequest.printable(Optional.ofNullable(t.getMessage()).orElse(t.getClass().getSimpleName()));
  }
}
