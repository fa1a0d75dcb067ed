package dev.deployrt.rollout;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.deployrt.serialization.JsonSerializable;
import java.util.List;

/**
 * Which nodes may work on a desired release now, as its deployment's rollout decides: the part of
 * the release register that changes while a rollout advances. Each change has a higher {@code
 * revision}, so every node ends on the latest.
 *
 * @param startNodes the nodes that may fetch, extract and check it (null: every node)
 * @param switchNodes the nodes that may switch to it (null: every node that may start)
 * @param stop set once the rollout stopped: no node may start or switch to this release any more,
 *     every node runs the release before it, and with {@link Stop#REVERTED} a node that had
 *     switched switches back
 */
public record Gate(int revision, List<String> startNodes, List<String> switchNodes, Stop stop)
    implements JsonSerializable {

  /** Every node may start and switch (all-at-once, or a rollout past its canaries or prepare). */
  public static final Gate OPEN = new Gate(0, null, null, null);

  public Gate {
    startNodes = startNodes == null ? null : List.copyOf(startNodes);
    switchNodes = switchNodes == null ? null : List.copyOf(switchNodes);
  }

  public boolean mayStart(String node) {
    return stop == null && (startNodes == null || startNodes.contains(node));
  }

  public boolean maySwitch(String node) {
    return mayStart(node) && (switchNodes == null || switchNodes.contains(node));
  }

  /** True once every node may switch: the release is the project's current one. */
  @JsonIgnore
  public boolean isOpen() {
    return stop == null && startNodes == null && switchNodes == null;
  }

  /** The next revision, open to every node. */
  public Gate opened() {
    return new Gate(revision + 1, null, null, null);
  }

  /** The next revision, stopped. */
  public Gate stopped(Stop why) {
    return new Gate(revision + 1, startNodes, switchNodes, why);
  }
}
