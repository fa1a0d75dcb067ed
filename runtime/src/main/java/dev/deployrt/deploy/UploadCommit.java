package dev.deployrt.deploy;

import dev.deployrt.blob.BlobStore;
import dev.deployrt.deploy.DeployWorkflow.Outcome;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.deployment.LogEntry;
import dev.deployrt.node.NodeRuntime;
import dev.deployrt.peer.FanOutPlan;
import dev.deployrt.project.ProjectSettings;
import dev.deployrt.upload.StagedPayload;
import dev.deployrt.upload.UploadFailure;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An upload's last step on the node that received it: commit the payload under its address, keep
 * the tree extracted while it arrived as its release ({@link ExtractWhileUploading}), mark the
 * record stored (which starts distribution) and push the payload to the replicas the answer waits
 * for. Runs under {@link DeployWorkflow#whileHeld}, so a failure ends the record failed and a
 * payload delete cannot reclaim the bytes before the record names them.
 */
final class UploadCommit {
  private final NodeRuntime node;
  private final DeployWorkflow workflow;

  UploadCommit(NodeRuntime node, DeployWorkflow workflow) {
    this.node = node;
    this.workflow = workflow;
  }

  /**
   * Commits the payload and marks it stored, which starts distribution, and meanwhile pushes it to
   * {@code deploy.distribution.min-copies - 1} other nodes (the fan-out plan's replica waits for
   * that push instead of fetching). The outcome waits for the push, so an acknowledged payload
   * survives the loss of this node (when enough nodes are up; otherwise a warning says so), while
   * the other nodes' fetches do not wait for it.
   */
  CompletionStage<Outcome> storeAndDistribute(
      String id, StagedPayload staged, DeployRequest params) {
    List<String> targets = node.targetNodes();
    BlobStore blobs = node.blobs();
    String sha256 = staged.sha256();
    AtomicBoolean extracted = new AtomicBoolean();
    List<DeploymentEntity.AppendLog> notes = new CopyOnWriteArrayList<>();
    // Read while the payload is committed (the rollout is fixed on the deployment when it is marked
    // stored, a moment later): the read is then off the small deploy's path.
    CompletionStage<ProjectSettings> settings = node.projectSettings().get(params.project());
    return workflow.whileHeld(
        id,
        sha256,
        () ->
            CompletableFuture.supplyAsync(
                    () -> {
                      // If this node stops before the record names the bytes, its next start ends
                      // the record and deletes the bytes no deployment names (StartupSweep).
                      Path path;
                      try {
                        path = staged.commitFor(id);
                      } catch (Exception e) {
                        if (staged.extraction() != null) {
                          staged.extraction().discard();
                        }
                        throw new CompletionException(UploadFailure.storage(e));
                      }
                      extracted.set(keepExtraction(id, params.project(), staged, notes));
                      return path;
                    },
                    node.blocking())
                .thenCompose(
                    path ->
                        workflow
                            .markStored(
                                id,
                                settings,
                                sha256,
                                staged.size(),
                                targets,
                                staged.size(),
                                List.copyOf(notes))
                            .thenApply(
                                stored -> {
                                  try {
                                    node.blocking()
                                        .execute(() -> blobs.forgetPendingName(sha256, id));
                                  } catch (RejectedExecutionException stopping) {
                                    // the note stays; the next start finds the record naming the
                                    // bytes and forgets it
                                  }
                                  return Map.entry(path, stored);
                                }))
                .whenComplete(
                    (named, e) -> {
                      if (e != null) {
                        // The stored mark would have carried it: the record, about to end
                        // failed, still says how many bytes arrived.
                        node.deployment(id)
                            .tell(new DeploymentEntity.RecordUploadProgress(staged.size()));
                      }
                      if (e != null && extracted.get()) {
                        node.blocking()
                            .execute(
                                () ->
                                    ExtractWhileUploading.removeAdopted(
                                        node.releases(), params.project(), id));
                      }
                    }),
        done ->
            node.replicator()
                .replicate(
                    sha256, done.getKey(), FanOutPlan.of(node.nodeName(), targets), node.upNodes())
                .thenApply(
                    replicas -> {
                      recordReplicas(id, replicas, targets.size());
                      return done.getValue();
                    })
                .thenCompose(stored -> workflow.outcome(id, stored, params)));
  }

  /**
   * Blocking: the tree extracted while the payload arrived becomes the release (before the record
   * names the payload, so the applier finds it), and {@code notes} gets the deployment's log line
   * saying so (written with the stored mark).
   *
   * @return true if it became the release
   */
  private boolean keepExtraction(
      String id, String project, StagedPayload staged, List<DeploymentEntity.AppendLog> notes) {
    if (staged.extraction() == null) {
      return false;
    }
    ExtractWhileUploading.Adopted adopted =
        ExtractWhileUploading.adopt(
            node.releases(), project, id, staged.extraction(), node.nodeName());
    if (adopted.note() != null) {
      // Kept: the extract phase happened, during the upload (this node's applier skips it).
      notes.add(
          new DeploymentEntity.AppendLog(
              adopted.kept() ? LogEntry.PHASE : LogEntry.LOG,
              "extract",
              node.nodeName(),
              adopted.note(),
              Map.of()));
    }
    return adopted.kept();
  }

  private void recordReplicas(String id, List<String> replicas, int targets) {
    int wanted = Math.min(node.settings().distribution().minCopies(), targets) - 1;
    if (replicas.size() < wanted) {
      node.deployment(id)
          .tell(
              new DeploymentEntity.AppendLog(
                  LogEntry.WARNING,
                  "store",
                  node.nodeName(),
                  "payload held by "
                      + (1 + replicas.size())
                      + " node(s) when acknowledged, fewer than "
                      + "deploy.distribution.min-copies ("
                      + (wanted + 1)
                      + "): the replica push failed",
                  Map.of("copies", 1L + replicas.size())));
    } else if (!replicas.isEmpty()) {
      node.deployment(id)
          .tell(
              new DeploymentEntity.AppendLog(
                  LogEntry.LOG,
                  "store",
                  node.nodeName(),
                  "payload copied to " + String.join(", ", replicas) + " before acknowledging",
                  Map.of("copies", 1L + replicas.size())));
    }
  }
}
