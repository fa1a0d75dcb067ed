package dev.deployrt.peer;

import dev.deployrt.serialization.JsonSerializable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What one node tells the others about itself: where its operations API is (for blob fetches),
 * which verified payloads it holds, and where it stands with each project. Written only by that
 * node.
 *
 * @param endpoint base URL of the node's operations API, e.g. {@code http://127.0.0.1:9925}; null
 *     until bound
 * @param blobs sha256 of every payload in the node's blob store
 * @param projects per project: the release active on the node and its progress towards the desired
 *     one
 * @param releaseBytes per project: the bytes of its release directories on the node, as the last
 *     prune left them (absent before the first; a node of an older version sends none)
 * @param hooks per project: the hooks configured on the node ({@code check}, {@code activate},
 *     {@code health}); never their commands
 */
public record PeerState(
    String endpoint,
    Set<String> blobs,
    Map<String, ProjectState> projects,
    Map<String, Long> releaseBytes,
    Map<String, List<String>> hooks)
    implements JsonSerializable {

  public static final PeerState EMPTY = new PeerState(null, Set.of(), Map.of(), Map.of(), Map.of());

  public PeerState {
    releaseBytes = releaseBytes == null ? Map.of() : releaseBytes;
    hooks = hooks == null ? Map.of() : hooks;
  }

  public PeerState withHooks(Map<String, List<String>> configured) {
    return new PeerState(endpoint, blobs, projects, releaseBytes, Map.copyOf(configured));
  }

  /**
   * @param activeDeploymentId the release {@code current} points to on the node, or null
   * @param deploymentId the deployment the node last worked on for the project
   * @param status the node's status for {@code deploymentId} (API name, e.g. {@code fetching},
   *     {@code active})
   */
  public record ProjectState(String activeDeploymentId, String deploymentId, String status)
      implements JsonSerializable {}

  public PeerState withEndpoint(String url) {
    return new PeerState(url, blobs, projects, releaseBytes, hooks);
  }

  public PeerState withBlobs(Set<String> all) {
    return new PeerState(endpoint, Set.copyOf(new TreeSet<>(all)), projects, releaseBytes, hooks);
  }

  public PeerState withBlob(String sha256, boolean held) {
    TreeSet<String> updated = new TreeSet<>(blobs);
    if (held) {
      updated.add(sha256);
    } else {
      updated.remove(sha256);
    }
    return new PeerState(endpoint, Set.copyOf(updated), projects, releaseBytes, hooks);
  }

  public PeerState withProject(String project, ProjectState state) {
    TreeMap<String, ProjectState> updated = new TreeMap<>(projects);
    updated.put(project, state);
    return new PeerState(endpoint, blobs, Map.copyOf(updated), releaseBytes, hooks);
  }

  public PeerState withReleaseBytes(String project, long bytes) {
    TreeMap<String, Long> updated = new TreeMap<>(releaseBytes);
    updated.put(project, bytes);
    return new PeerState(endpoint, blobs, projects, Map.copyOf(updated), hooks);
  }
}
