package dev.deployrt.fanout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Who sends which pieces of a new payload to whom, so that every node relays what it receives and
 * no node, the origin included, sends much more than one copy.
 *
 * <p>A payload is cut into fixed-size pieces; piece {@code p} belongs to stripe {@code p mod k}.
 * The target nodes are put in a fixed order: the origin, then the others by name starting after the
 * origin. With a replica (the origin must get one copy onto another node before it answers), the
 * node after the origin is the replica: it takes every piece from the origin, and the origin sends
 * nothing else. The remaining nodes form one {@code k}-ary tree per stripe, each over the same
 * nodes rotated by {@code ceil(m / k)}, so that a node that forwards pieces in one stripe's tree is
 * a leaf in the others (the SplitStream arrangement). A tree's root takes its stripe from the
 * replica (or from the origin when there is none); every other node takes it from its parent in
 * that tree.
 *
 * <p>What that guarantees, whatever the cluster size: every node receives each piece exactly once;
 * the origin sends one copy; every other node sends at most about one copy ({@code k} children
 * times one stripe, {@code 1/k} of the payload each); the trees are {@code log_k(m)} deep, and
 * since a node relays each piece as soon as it has verified it, the depth costs a few pieces' time,
 * not whole transfers.
 *
 * <p>The plan is a preference, not a rule: a fetcher whose source fails or serves bad pieces asks
 * other nodes for those pieces ({@link PieceSelector}).
 */
public final class PiecePlan {
  private final List<String> order;
  private final String replica;
  private final int stripes;

  /** Per stripe, the nodes of its tree in heap order (position 0 is the root). */
  private final List<List<String>> trees;

  /** Per node, its position in each stripe's tree. */
  private final Map<String, int[]> positions = new HashMap<>();

  private PiecePlan(List<String> order, boolean withReplica, int stripes) {
    this.order = List.copyOf(order);
    this.stripes = stripes;
    this.replica = withReplica && order.size() > 1 ? order.get(1) : null;
    List<String> treeNodes = order.subList(replica == null ? 1 : 2, order.size());
    int m = treeNodes.size();
    // The nodes with children in a k-ary heap of m nodes: positions 0 .. ceil((m - 1) / k) - 1.
    int interior = (m - 1 + stripes - 1) / stripes;
    List<List<String>> built = new ArrayList<>();
    for (int s = 0; s < stripes; s++) {
      List<String> tree = new ArrayList<>(treeNodes);
      if (m > 0) {
        Collections.rotate(tree, -((s * interior) % m));
      }
      for (int i = 0; i < tree.size(); i++) {
        positions.computeIfAbsent(tree.get(i), n -> new int[stripes])[s] = i;
      }
      built.add(List.copyOf(tree));
    }
    this.trees = List.copyOf(built);
  }

  /**
   * @param origin the node that stored the payload and holds all of it
   * @param targets every node the payload must reach (the origin may be among them)
   * @param withReplica whether the node after the origin takes the whole payload from it first
   * @param stripes {@code k}: how many trees, and how many children each node has in a tree (>= 1)
   */
  public static PiecePlan of(
      String origin, List<String> targets, boolean withReplica, int stripes) {
    if (stripes < 1) {
      throw new IllegalArgumentException("stripes must be at least 1, not " + stripes);
    }
    return new PiecePlan(orderFrom(origin, targets), withReplica, stripes);
  }

  /**
   * The origin first, then the other targets by name, starting after the origin's name and wrapping
   * around: the order both this plan and the whole-copy {@code FanOutPlan} place nodes in.
   */
  public static List<String> orderFrom(String origin, List<String> targets) {
    TreeSet<String> others = new TreeSet<>(targets);
    others.remove(origin);
    List<String> order = new ArrayList<>();
    order.add(origin);
    order.addAll(others.tailSet(origin, false));
    order.addAll(others.headSet(origin, false));
    return order;
  }

  /** The origin first, then the others in the order the plan places them. */
  public List<String> order() {
    return order;
  }

  public String origin() {
    return order.get(0);
  }

  /** The node that takes the whole payload from the origin first, if any. */
  public Optional<String> replica() {
    return Optional.ofNullable(replica);
  }

  public int stripes() {
    return stripes;
  }

  public int stripeOf(int piece) {
    return piece % stripes;
  }

  /**
   * The node {@code node} asks for the pieces of {@code stripe}; empty for the origin and for nodes
   * outside the plan.
   */
  public Optional<String> sourceOf(String node, int stripe) {
    if (node.equals(replica)) {
      return Optional.of(origin());
    }
    int[] position = positions.get(node);
    if (position == null) {
      return Optional.empty();
    }
    int i = position[stripe];
    if (i == 0) {
      return Optional.of(replica != null ? replica : origin());
    }
    return Optional.of(trees.get(stripe).get((i - 1) / stripes));
  }

  /** The nodes that ask {@code node} for the pieces of {@code stripe}. */
  public List<String> receiversOf(String node, int stripe) {
    List<String> tree = trees.get(stripe);
    List<String> out = new ArrayList<>();
    if (node.equals(origin())) {
      if (replica != null) {
        out.add(replica);
      } else if (!tree.isEmpty()) {
        out.add(tree.get(0));
      }
    } else if (node.equals(replica)) {
      if (!tree.isEmpty()) {
        out.add(tree.get(0));
      }
    } else if (positions.containsKey(node)) {
      int i = positions.get(node)[stripe];
      for (int c = i * stripes + 1; c <= i * stripes + stripes && c < tree.size(); c++) {
        out.add(tree.get(c));
      }
    }
    return out;
  }

  /** How many levels of relays a piece of {@code stripe} passes to reach {@code node}. */
  public int depthOf(String node, int stripe) {
    int depth = 0;
    for (Optional<String> at = sourceOf(node, stripe);
        at.isPresent();
        at = sourceOf(at.get(), stripe)) {
      depth++;
    }
    return depth;
  }
}
