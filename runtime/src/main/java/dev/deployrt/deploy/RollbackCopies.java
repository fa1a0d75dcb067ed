package dev.deployrt.deploy;

import dev.deployrt.async.Failures;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.deployment.LogEntry;
import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.node.NodeRuntime;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.Cancellable;

/**
 * A rollback: a new deployment of an earlier deployment's stored payload. The node taking it holds
 * its copy of the bytes (copying them from a holder first if it has none, once for all rollbacks
 * needing them at once) and reads the earlier record again under that hold, so a payload delete
 * racing it either wins (404 {@code PAYLOAD_PRUNED}) or leaves the bytes in place.
 */
final class RollbackCopies {
  private final NodeRuntime node;
  private final DeployWorkflow workflow;

  /** Rollback copies to this node under way, by digest ({@link #sharedCopy}). */
  private final Map<String, CompletableFuture<Void>> copiesInFlight = new ConcurrentHashMap<>();

  RollbackCopies(NodeRuntime node, DeployWorkflow workflow) {
    this.node = node;
    this.workflow = workflow;
  }

  /**
   * @param bytesHere run once the bytes are here and recorded, or the rollback failed before that
   */
  CompletionStage<DeployWorkflow.Outcome> rollback(
      String id, DeployRequest params, Runnable bytesHere) {
    // A failure before the hold (the earlier record did not answer, the node is stopping) also ends
    // the record, with the code the client gets.
    return workflow
        .get(params.rollbackOf())
        .thenCompose(earlier -> rollbackTo(id, earlier, params, bytesHere))
        .exceptionallyCompose(e -> workflow.fail(id, e));
  }

  private CompletionStage<DeployWorkflow.Outcome> rollbackTo(
      String id, Deployment earlier, DeployRequest params, Runnable bytesHere) {
    if (!earlier.exists()) {
      return workflow.fail(
          id,
          ApiException.notFound("deployment " + params.rollbackOf() + " does not exist")
              .with("rollback_of", params.rollbackOf()));
    }
    if (!earlier.project().equals(params.project())) {
      return workflow.fail(
          id,
          ApiException.invalid(
              "deployment "
                  + params.rollbackOf()
                  + " belongs to project '"
                  + earlier.project()
                  + "', not '"
                  + params.project()
                  + "'"));
    }
    if (earlier.sha256() == null) {
      return workflow.fail(
          id,
          ApiException.invalid("deployment " + params.rollbackOf() + " never stored a payload"));
    }
    if (!earlier.payloadPresent() || !anyUpNodeHolds(earlier.sha256())) {
      return workflow.fail(id, pruned(params));
    }
    // A payload delete of the earlier deployment may be under way. This node's copy is held while
    // the record is read again, so the delete either marked it first (then this rollback fails
    // PAYLOAD_PRUNED) or keeps this copy, which the other nodes then fetch. A node without a copy
    // first copies the bytes from a node that holds them, under the same hold: a copy committed
    // after the delete's claim mark, or on a node the delete did not mark, stays.
    return workflow.whileHeld(
        id,
        earlier.sha256(),
        () ->
            copyHere(id, earlier, params)
                .thenCompose(copied -> workflow.get(params.rollbackOf()))
                .thenCompose(
                    again -> {
                      if (!again.payloadPresent()) {
                        throw pruned(params);
                      }
                      return workflow.markStored(
                          id,
                          params.project(),
                          earlier.sha256(),
                          earlier.payloadSize(),
                          node.targetNodes());
                    })
                .whenComplete((stored, e) -> bytesHere.run()),
        stored -> workflow.outcome(id, stored, params));
  }

  /**
   * Completes once this node holds the earlier deployment's bytes, copying them from a holder if it
   * does not (renewing the pending record's upload lease meanwhile, as an upload does); if none
   * could serve them, fails PAYLOAD_PRUNED when the earlier record was marked meanwhile (a delete
   * won), else UNAVAILABLE.
   */
  private CompletionStage<Void> copyHere(String id, Deployment earlier, DeployRequest params) {
    if (node.blobs().contains(earlier.sha256())) {
      return CompletableFuture.completedFuture(null);
    }
    Cancellable heartbeat = workflow.renewLease(id, () -> 0);
    return sharedCopy(id, earlier)
        .whenComplete((done, e) -> heartbeat.cancel())
        .exceptionallyCompose(
            failure ->
                workflow
                    .get(params.rollbackOf())
                    .thenApply(
                        again -> {
                          if (!again.payloadPresent()) {
                            throw pruned(params);
                          }
                          throw ApiException.unavailable(
                                  "could not copy the payload of deployment "
                                      + params.rollbackOf()
                                      + " to this node: "
                                      + Failures.cause(failure).getMessage())
                              .with("retry_after", 10);
                        }));
  }

  /**
   * Copies the earlier deployment's bytes to this node from a holder, once for all the rollbacks
   * that need them at the same time: a second rollback to the same bytes while a copy runs waits
   * for that copy instead of starting its own (and says so in its events).
   */
  private CompletableFuture<Void> sharedCopy(String id, Deployment earlier) {
    String sha256 = earlier.sha256();
    CompletableFuture<Void> mine = new CompletableFuture<>();
    CompletableFuture<Void> running = copiesInFlight.putIfAbsent(sha256, mine);
    if (running != null) {
      node.deployment(id)
          .tell(
              new DeploymentEntity.AppendLog(
                  LogEntry.LOG,
                  "fetch",
                  node.nodeName(),
                  "the payload is already being copied to "
                      + node.nodeName()
                      + " for another rollback: waiting for that copy",
                  Map.of()));
      return running;
    }
    CompletableFuture.runAsync(
            () -> {
              try {
                node.fetcher().copyFromHolders(id, sha256, earlier.payloadSize());
              } catch (IOException e) {
                throw new CompletionException(e);
              }
            },
            node.uploads())
        .whenComplete(
            (done, e) -> {
              copiesInFlight.remove(sha256, mine);
              if (e != null) {
                mine.completeExceptionally(e);
              } else {
                mine.complete(null);
              }
            });
    return mine;
  }

  private static ApiException pruned(DeployRequest params) {
    return new ApiException(
            ErrorCode.PAYLOAD_PRUNED,
            "the payload of deployment " + params.rollbackOf() + " was reclaimed")
        .with("rollback_of", params.rollbackOf());
  }

  private boolean anyUpNodeHolds(String sha256) {
    return node.blobs().contains(sha256)
        || node.upNodes().stream().anyMatch(n -> node.directory().peer(n).blobs().contains(sha256));
  }
}
