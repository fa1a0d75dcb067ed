package dev.deployrt.http.deployments;

import dev.deployrt.deploy.DeployRequest;
import dev.deployrt.deploy.DeployWorkflow;
import dev.deployrt.deploy.DeployWorkflow.Outcome;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.http.ApiErrors;
import dev.deployrt.http.ApiJson;
import dev.deployrt.http.EntityBytes;
import dev.deployrt.http.auth.User;
import dev.deployrt.http.limits.RequestLimits;
import dev.deployrt.upload.PayloadUpload;
import dev.deployrt.upload.UploadFailure;
import dev.deployrt.upload.UploadSettings;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.Multipart;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;

/**
 * {@code POST /deployments} in its three forms: raw body, multipart (fields before one {@code
 * payload} file part) and JSON rollback.
 *
 * <p>Audit guarantee: the deployment record is created as soon as the request is authorised, before
 * any payload byte is read, and every outcome ends on it ({@link DeployWorkflow}): stored and
 * distributing, or {@code failed} with the error code the client received. If the record cannot be
 * written, nothing is read or stored and the client gets 503. The payload goes through {@link
 * PayloadUpload} in one pass and is committed to the blob store only when the whole request has
 * been read and checked. This class reads the three request forms and answers with the workflow's
 * outcome; the workflow owns every step between.
 */
public final class DeployHandler {
  private final UploadSettings upload;
  private final Materializer mat;
  private final Duration maxWait;
  private final EventStreams streams;
  private final RequestLimits limits;
  private final DeployWorkflow workflow;
  private final RollbackDeploy rollbacks;

  /**
   * @param readTimeout how long a rollback's JSON body may take to arrive
   * @param maxWait the longest {@code timeout} a client may ask to wait for the outcome
   */
  public DeployHandler(
      DeployWorkflow workflow,
      ActorSystem<?> system,
      UploadSettings upload,
      Duration readTimeout,
      Duration maxWait,
      EventStreams streams,
      RequestLimits limits) {
    this.upload = upload;
    this.limits = limits;
    this.mat = Materializer.matFromSystem(system);
    this.maxWait = maxWait;
    this.streams = streams;
    this.workflow = workflow;
    this.rollbacks = new RollbackDeploy(workflow, mat, maxWait, readTimeout);
  }

  public CompletionStage<HttpResponse> deploy(HttpRequest original, User user) {
    // Every deploy takes a slot of the node's and the user's concurrent-upload limits (429 before
    // any record when full): an upload until its body has been read or the deploy has its answer,
    // whichever is first; a rollback, which may copy a whole payload here, until its bytes are here
    // and recorded or the deploy has its answer. (With an event stream, the client's answer starts
    // earlier: the slot is held until the deploy's own outcome.)
    RequestLimits.UploadSlot slot = limits.startUpload(user.name());
    HttpRequest request =
        isUpload(original)
            ? original.withEntity(releasedWhenRead(original.entity(), slot))
            : original;
    try {
      return deployAdmitted(request, user, slot);
    } catch (RuntimeException e) {
      slot.release();
      throw e;
    }
  }

  /**
   * The same entity, failing with {@code UPLOAD_STALLED} once no byte arrived for the stall
   * timeout: a multipart body's fields come before its payload part (whose bytes the upload graph
   * checks itself), and a client must not hold a request open by sending them slowly, or not at
   * all.
   */
  private RequestEntity stallChecked(RequestEntity entity) {
    Duration stall = upload.stallTimeout();
    return EntityBytes.via(
        entity,
        Flow.<ByteString>create()
            .idleTimeout(stall)
            .mapError(TimeoutException.class, e -> (Throwable) UploadFailure.stalled(stall, e)));
  }

  /** The same entity, releasing {@code slot} when its bytes end, fail or are cancelled. */
  private static RequestEntity releasedWhenRead(
      RequestEntity entity, RequestLimits.UploadSlot slot) {
    return EntityBytes.via(entity, EntityBytes.onEnd(e -> slot.release()));
  }

  private static boolean isUpload(HttpRequest request) {
    var mediaType = request.entity().getContentType().mediaType();
    return !(mediaType.mainType() + "/" + mediaType.subType()).equals("application/json");
  }

  private CompletionStage<HttpResponse> deployAdmitted(
      HttpRequest request, User user, RequestLimits.UploadSlot slot) {
    String id = UUID.randomUUID().toString();
    if (!EventStreams.wanted(request)) {
      return deploy(id, request, user, slot)
          .thenApply(DeployHandler::answer)
          .whenComplete((r, e) -> slot.release());
    }
    // Accept: text/event-stream: the deploy runs as usual (its own answer is not sent), and the
    // client gets the deployment's event stream as soon as the record exists, upload progress
    // included. If the record cannot be written, the client gets that error instead.
    CompletableFuture<Deployment> recorded = workflow.whenRecorded(id);
    CompletionStage<HttpResponse> outcome =
        deploy(id, request, user, slot).thenApply(DeployHandler::answer);
    outcome.whenComplete(
        (response, error) -> {
          slot.release();
          workflow.forgetRecorded(id, recorded);
        });
    return recorded
        .handle((created, notRecorded) -> created)
        .thenCompose(
            created ->
                created != null
                    ? CompletableFuture.completedFuture(streams.response(id, 0, true))
                    : outcome);
  }

  /**
   * The answer to a deploy: the deployment, or the error its record ended with; always with its
   * Location.
   */
  private static HttpResponse answer(Outcome outcome) {
    HttpResponse response =
        outcome.error() != null
            ? ApiErrors.response(outcome.error())
            : HttpResponse.create()
                .withStatus(outcome.complete() ? 201 : 202)
                .withEntity(ApiJson.entity(ApiJson.deployment(outcome.deployment(), true)));
    return response.addHeader(Location.create("/deployments/" + outcome.deploymentId()));
  }

  private CompletionStage<Outcome> deploy(
      String id, HttpRequest request, User user, RequestLimits.UploadSlot slot) {
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
        return rollbacks.deploy(id, request, user, query, slot);
      }
      default -> {}
    }
    return rejectBeforeBody(
        id,
        user,
        query,
        new ApiException(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            "content type '"
                + mediaType
                + "' is not accepted: send application/gzip, application/octet-stream, "
                + "multipart/form-data or application/json"),
        request);
  }

  // ---- the three forms ------------------------------------------------------------------------

  private CompletionStage<Outcome> raw(
      String id, HttpRequest request, User user, Map<String, String> query) {
    Map<String, String> fields = new HashMap<>(query);
    Map<String, String> options = new HashMap<>();
    for (String option : DeployRequest.RESPONSE_OPTIONS) {
      if (fields.containsKey(option)) {
        options.put(option, fields.remove(option));
      }
    }
    DeployRequest params =
        DeployRequest.parse(fields, DeployRequest.PAYLOAD_FIELDS, options, maxWait);
    HttpEntity entity = request.entity();
    return workflow
        .record(id, params, user.name(), null)
        .thenCompose(
            created -> {
              if (params.problem() != null) {
                return workflow.fail(id, params.problem());
              }
              OptionalLong declared = entity.getContentLengthOption();
              Optional<UploadFailure> refused =
                  declared.isPresent()
                      ? workflow.refuseDeclaredLength(declared.getAsLong())
                      : Optional.empty();
              if (refused.isPresent()) {
                // The body is never read: a client that sent "Expect: 100-continue" never sends it.
                return workflow.fail(id, refused.get());
              }
              return workflow
                  .upload(id, entity.getDataBytes(), params, new AtomicReference<>())
                  .thenCompose(staged -> workflow.storeAndDistribute(id, staged, params))
                  .exceptionallyCompose(e -> workflow.fail(id, e));
            });
  }

  private CompletionStage<Outcome> multipart(
      String id, HttpRequest request, User user, Map<String, String> query) {
    MultipartReading reading = new MultipartReading(workflow, mat, maxWait, id, user, query);
    CompletionStage<Multipart.FormData> form =
        Unmarshaller.entityToMultipartFormData().unmarshal(stallChecked(request.entity()), mat);
    return form.exceptionally(
            e -> {
              throw ApiException.invalid("malformed multipart body: " + ApiErrors.rootMessage(e));
            })
        .thenCompose(fd -> fd.getParts().mapAsync(1, reading::onPart).runWith(Sink.ignore(), mat))
        .thenCompose(done -> reading.finish())
        .exceptionallyCompose(reading::fail);
  }

  private CompletionStage<Outcome> rejectBeforeBody(
      String id, User user, Map<String, String> query, ApiException error, HttpRequest request) {
    request.entity().discardBytes(mat);
    DeployRequest best =
        DeployRequest.parse(query, DeployRequest.PAYLOAD_FIELDS, Map.of(), maxWait);
    return workflow
        .record(id, best, user.name(), null)
        .thenCompose(created -> workflow.fail(id, error));
  }

  private static Map<String, String> singleValued(Map<String, List<String>> multi) {
    Map<String, String> out = new HashMap<>();
    for (Map.Entry<String, List<String>> e : multi.entrySet()) {
      if (e.getValue().size() > 1) {
        throw ApiException.invalid(
            "parameter '" + DeployRequest.printable(e.getKey()) + "' is given more than once");
      }
      out.put(e.getKey(), e.getValue().get(0));
    }
    return out;
  }
}
