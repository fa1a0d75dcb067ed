package dev.deployrt.http.deployments;

import dev.deployrt.async.Failures;
import dev.deployrt.deploy.DeployRequest;
import dev.deployrt.deploy.DeployWorkflow;
import dev.deployrt.deploy.DeployWorkflow.Outcome;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.errors.ApiException;
import dev.deployrt.http.ApiErrors;
import dev.deployrt.http.auth.User;
import dev.deployrt.upload.StagedPayload;
import dev.deployrt.upload.UploadFailure;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.http.javadsl.model.Multipart;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.StreamLimitReachedException;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.util.ByteString;

/**
 * Reads multipart parts in order; the record is created when the payload part starts, or when the
 * body fails before it. The body's failure can arrive while a field part is still being read (on
 * another thread), so the fields, the record and the staged payload are guarded by this object.
 */
final class MultipartReading {
  private static final int MAX_FIELD_BYTES = 4096;

  /** Text fields a multipart body may hold before its payload part (the form has three). */
  static final int MAX_FIELDS = 8;

  private final DeployWorkflow workflow;
  private final Materializer mat;
  private final Duration maxWait;
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

  /**
   * Set once the request failed; an upload finishing after that discards its payload. Guarded by
   * this.
   */
  private boolean failed;

  MultipartReading(
      DeployWorkflow workflow,
      Materializer mat,
      Duration maxWait,
      String id,
      User user,
      Map<String, String> query) {
    this.workflow = workflow;
    this.mat = mat;
    this.maxWait = maxWait;
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
      throw ApiException.invalid(
          "the file part 'payload' must be the last part; found '"
              + DeployRequest.printable(name)
              + "' after it");
    }
    if (name.equals("payload")) {
      return onPayload(part);
    }
    if (part.getFilename().isPresent()) {
      part.getEntity().discardBytes(mat);
      throw ApiException.invalid(
          "unexpected file part '"
              + DeployRequest.printable(name)
              + "': the payload part must be named 'payload'");
    }
    return onField(part);
  }

  /**
   * The payload part: the record is created with the fields so far, then the bytes are uploaded.
   */
  private CompletionStage<Object> onPayload(Multipart.FormData.BodyPart part) {
    DeployRequest params;
    CompletionStage<Deployment> recorded;
    synchronized (this) {
      params = DeployRequest.parse(fields, DeployRequest.PAYLOAD_FIELDS, query, maxWait);
      recorded = workflow.record(id, params, user.name(), null);
      this.params = params;
      this.recorded = recorded;
    }
    return recorded.thenCompose(
        created -> {
          if (params.problem() != null) {
            part.getEntity().discardBytes(mat);
            throw params.problem();
          }
          return workflow
              .upload(id, part.getEntity().getDataBytes(), params, uploading)
              .thenApply(
                  s -> {
                    synchronized (this) {
                      if (!failed) {
                        staged = s;
                        return (Object) s;
                      }
                    }
                    // The request already failed (the body broke off after the payload's bytes):
                    // nobody will commit this payload, so its staging file goes now.
                    s.discard();
                    return (Object) s;
                  });
        });
  }

  /** A text field before the payload: at most {@link #MAX_FIELDS}, each once, each short. */
  private CompletionStage<Object> onField(Multipart.FormData.BodyPart part) {
    String name = part.getName();
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
      throw ApiException.invalid(
              "more than " + MAX_FIELDS + " fields before the file part 'payload'")
          .with("limit", MAX_FIELDS);
    }
    return part.getEntity()
        .getDataBytes()
        .limitWeighted(MAX_FIELD_BYTES, b -> (long) b.size())
        .runFold(ByteString.emptyByteString(), ByteString::concat, mat)
        .handle(
            (bytes, e) -> {
              if (e != null) {
                UploadFailure stalled = Failures.find(UploadFailure.class, e);
                if (stalled != null) {
                  throw new CompletionException(stalled);
                }
                throw Failures.cause(e) instanceof StreamLimitReachedException
                    ? ApiException.invalid(
                        "field '"
                            + DeployRequest.printable(name)
                            + "' is longer than "
                            + MAX_FIELD_BYTES
                            + " bytes")
                    : ApiException.invalid("malformed multipart body: " + ApiErrors.rootMessage(e));
              }
              synchronized (this) {
                fields.put(name, bytes.utf8String());
              }
              return bytes;
            });
  }

  CompletionStage<Outcome> finish() {
    StagedPayload payload;
    DeployRequest params;
    synchronized (this) {
      payload = staged;
      params = this.params;
    }
    if (payload == null) {
      return fail(ApiException.invalid("the multipart body has no file part named 'payload'"));
    }
    return workflow.storeAndDistribute(id, payload, params);
  }

  CompletionStage<Outcome> fail(Throwable error) {
    UniqueKillSwitch upload = uploading.getAndSet(null);
    if (upload != null) {
      // The body broke off around the payload part (e.g. no closing boundary): its byte stream may
      // never end, so end the upload here, which deletes its staging file.
      upload.abort(
          new java.io.IOException("the multipart body failed: " + ApiErrors.rootMessage(error)));
    }
    StagedPayload toDiscard;
    CompletionStage<Deployment> recorded;
    synchronized (this) {
      failed = true;
      toDiscard = staged;
      staged = null;
      if (this.recorded == null) {
        // Every attempt is on record: with the fields that arrived before the body failed.
        DeployRequest best =
            DeployRequest.parse(fields, DeployRequest.PAYLOAD_FIELDS, query, maxWait);
        this.recorded = workflow.record(id, best, user.name(), null);
      }
      recorded = this.recorded;
    }
    if (toDiscard != null) {
      toDiscard.discard();
    }
    return recorded.thenCompose(created -> workflow.fail(id, error));
  }
}
