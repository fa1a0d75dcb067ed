package dev.deployrt.fanout;

import dev.deployrt.peer.FanOutPlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * A discrete-event simulation of a payload's fan-out, driven by the runtime's own scheduling code:
 * {@link PiecePlan} says who takes which stripe from whom and {@link PieceSelector} which piece
 * each node asks for next ({@link Mode#PIECES}); {@link Mode#WHOLE_BLOBS} replays the whole-blob
 * binary tree of {@link FanOutPlan}, where a node serves a payload only once it holds all of it.
 *
 * <p>The network: every node has the same upload and download capacity; a transfer runs at the
 * smaller of its sender's upload divided by the sender's transfers and its receiver's download
 * divided by the receiver's transfers, recomputed whenever one starts or ends at either end. A
 * request reaches its source one latency after it is sent, the first byte of the answer one latency
 * after it leaves; a source that does not hold the piece yet keeps the request until it does. Each
 * node keeps {@code window} requests in flight per stripe it is asking a source for. Not modelled:
 * disk, CPU, TCP's slow start, losses; the extraction and activation after the last piece.
 *
 * <p>{@code java -cp runtime/target/classes:runtime/target/test-classes
 * dev.deployrt.fanout.FanOutSimulation} prints the table of {@code bench/fanout-sim.sh}.
 */
public final class FanOutSimulation {

  /** How the payload travels. */
  public enum Mode {
    /** Pieces relayed as soon as they arrive, along {@link PiecePlan}'s stripe trees. */
    PIECES,
    /** Whole blobs along {@link FanOutPlan}'s binary tree, the origin pushing to its replica. */
    WHOLE_BLOBS
  }

  /**
   * What is simulated. Bandwidth in bytes per second (each way, every node), latency in seconds.
   */
  public record Setup(
      Mode mode,
      int nodes,
      long payloadBytes,
      long pieceBytes,
      double bytesPerSecond,
      double latencySeconds,
      int stripes,
      int window) {

    public int pieceCount() {
      return (int) ((payloadBytes + pieceBytes - 1) / pieceBytes);
    }

    long bytesOf(int piece) {
      return Math.min(pieceBytes, payloadBytes - (long) piece * pieceBytes);
    }

    /** One node-to-node transfer of the whole payload, alone on its link. */
    public double oneTransferSeconds() {
      return payloadBytes / bytesPerSecond + 2 * latencySeconds;
    }
  }

  /** What came out: the last node's completion, and what each node sent, in payload copies. */
  public record Result(
      Setup setup, double allDoneSeconds, double originCopies, double maxNodeCopies) {

    public double ratioToOneTransfer() {
      return allDoneSeconds / setup.oneTransferSeconds();
    }
  }

  private final Setup setup;
  private final List<String> names = new ArrayList<>();
  private final Map<String, Node> nodes = new HashMap<>();
  private final PriorityQueue<Event> queue = new PriorityQueue<>();
  private final PiecePlan piecePlan;
  private final FanOutPlan wholePlan;
  private double now;
  private long sequence;

  private FanOutSimulation(Setup setup) {
    this.setup = setup;
    for (int i = 0; i < setup.nodes(); i++) {
      names.add(String.format("node-%04d", i));
    }
    this.piecePlan = PiecePlan.of(names.get(0), names, true, setup.stripes());
    this.wholePlan = FanOutPlan.of(names.get(0), names);
    for (String name : names) {
      nodes.put(name, new Node(name));
    }
  }

  public static Result run(Setup setup) {
    return new FanOutSimulation(setup).simulate();
  }

  private Result simulate() {
    Node origin = nodes.get(names.get(0));
    for (int p = 0; p < setup.pieceCount(); p++) {
      origin.held.add(p);
    }
    for (String name : names.subList(1, names.size())) {
      nodes.get(name).start();
    }
    while (!queue.isEmpty()) {
      Event e = queue.poll();
      now = e.at;
      e.action.run();
    }
    double done = 0;
    double maxCopies = 0;
    for (String name : names) {
      Node n = nodes.get(name);
      if (n.held.size() != setup.pieceCount()) {
        throw new IllegalStateException(name + " never got every piece");
      }
      done = Math.max(done, n.completedAt);
      maxCopies = Math.max(maxCopies, n.sentBytes / (double) setup.payloadBytes());
    }
    return new Result(setup, done, origin.sentBytes / (double) setup.payloadBytes(), maxCopies);
  }

  private void at(double time, Runnable action) {
    queue.add(new Event(time, sequence++, action));
  }

  private record Event(double at, long sequence, Runnable action) implements Comparable<Event> {
    @Override
    public int compareTo(Event o) {
      int c = Double.compare(at, o.at);
      return c != 0 ? c : Long.compare(sequence, o.sequence);
    }
  }

  /** One node: what it holds, the requests it is keeping for pieces it lacks, its transfers. */
  private final class Node {
    final String name;
    final Set<Integer> held = new HashSet<>();
    final Map<Integer, List<Request>> waiting = new HashMap<>();
    final List<Request> waitingForAll = new ArrayList<>();
    final Set<Transfer> sending = new HashSet<>();
    final Set<Transfer> receiving = new HashSet<>();
    PieceSelector selector;
    int nextWholePiece;
    long sentBytes;
    double completedAt;

    Node(String name) {
      this.name = name;
    }

    void start() {
      if (setup.mode() == Mode.PIECES) {
        selector = new PieceSelector(piecePlan, name, setup.pieceCount());
        selector.sources().forEach((source, stripes) -> ask(source, setup.window() * stripes));
      } else {
        ask(wholePlan.parentOf(name).orElseThrow(), setup.window());
      }
    }

    void ask(String source, int requests) {
      for (int i = 0; i < requests; i++) {
        OptionalInt piece = nextPiece(source);
        if (piece.isEmpty()) {
          return;
        }
        Request r = new Request(this, nodes.get(source), piece.getAsInt());
        at(now + setup.latencySeconds(), () -> r.source.receive(r));
      }
    }

    OptionalInt nextPiece(String source) {
      if (selector != null) {
        return selector.next(source);
      }
      return nextWholePiece < setup.pieceCount()
          ? OptionalInt.of(nextWholePiece++)
          : OptionalInt.empty();
    }

    /** A request reached this node: served now if it may, else kept. */
    void receive(Request r) {
      boolean complete = held.size() == setup.pieceCount();
      if (setup.mode() == Mode.WHOLE_BLOBS && !complete) {
        waitingForAll.add(r);
      } else if (held.contains(r.piece)) {
        send(r);
      } else {
        waiting.computeIfAbsent(r.piece, p -> new ArrayList<>()).add(r);
      }
    }

    void send(Request r) {
      Transfer t = new Transfer(this, r.requester, r.piece, setup.bytesOf(r.piece));
      sending.add(t);
      r.requester.receiving.add(t);
      rebalance(this, r.requester);
    }

    void arrived(int piece, Node from) {
      held.add(piece);
      if (held.size() == setup.pieceCount()) {
        completedAt = now;
      }
      if (selector != null) {
        selector.received(piece);
      }
      List<Request> kept = waiting.remove(piece);
      if (kept != null) {
        kept.forEach(this::send);
      }
      if (held.size() == setup.pieceCount()) {
        waitingForAll.forEach(this::send);
        waitingForAll.clear();
      }
      ask(from.name, 1);
    }
  }

  private record Request(Node requester, Node source, int piece) {}

  /** Bytes of one piece on their way from one node to another. */
  private final class Transfer {
    final Node from;
    final Node to;
    final int piece;
    double remaining;
    double rate;
    double since;
    long version;

    Transfer(Node from, Node to, int piece, long bytes) {
      this.from = from;
      this.to = to;
      this.piece = piece;
      this.remaining = bytes;
      this.since = now;
    }

    void settle() {
      remaining = Math.max(0, remaining - rate * (now - since));
      since = now;
    }

    void reschedule() {
      rate =
          Math.min(
              setup.bytesPerSecond() / from.sending.size(),
              setup.bytesPerSecond() / to.receiving.size());
      long v = ++version;
      at(now + remaining / rate, () -> finish(v));
    }

    void finish(long v) {
      if (v != version) {
        return;
      }
      from.sending.remove(this);
      to.receiving.remove(this);
      from.sentBytes += setup.bytesOf(piece);
      rebalance(from, to);
      at(now + setup.latencySeconds(), () -> to.arrived(piece, from));
    }
  }

  /** New rates for every transfer that shares a link end with {@code a} or {@code b}. */
  private void rebalance(Node a, Node b) {
    Set<Transfer> touched = new HashSet<>(a.sending);
    touched.addAll(b.receiving);
    touched.forEach(Transfer::settle);
    touched.forEach(Transfer::reschedule);
  }

  /**
   * The table of bench/fanout-sim.sh: {@code [payloadMiB [mbitPerSecond [latencyMs [pieceMiB
   * [nodes...]]]]]}, by default 1024 MiB, 1000 Mbit/s, 1 ms, 4 MiB pieces, 10, 100 and 1,000 nodes.
   */
  public static void main(String[] args) {
    long mib = args.length > 0 ? Long.parseLong(args[0]) : 1024;
    double mbit = args.length > 1 ? Double.parseDouble(args[1]) : 1000;
    double latencyMs = args.length > 2 ? Double.parseDouble(args[2]) : 1;
    double pieceMib = args.length > 3 ? Double.parseDouble(args[3]) : 4;
    List<Integer> sizes = new ArrayList<>();
    for (int i = 4; i < args.length; i++) {
      sizes.add(Integer.parseInt(args[i]));
    }
    if (sizes.isEmpty()) {
      sizes = List.of(10, 100, 1000);
    }
    System.out.printf(
        Locale.ROOT,
        "payload %d MiB, %.0f Mbit/s each way per node, %.1f ms latency, %.2f MiB pieces%n",
        mib,
        mbit,
        latencyMs,
        pieceMib);
    System.out.println(
        "mode         nodes  all-done s  one transfer s  ratio  origin copies  max node copies");
    for (int n : sizes) {
      for (Mode mode : Mode.values()) {
        Setup setup =
            new Setup(
                mode,
                n,
                mib << 20,
                (long) (pieceMib * (1 << 20)),
                mbit * 1e6 / 8,
                latencyMs / 1000,
                2,
                2);
        Result r = run(setup);
        System.out.printf(
            Locale.ROOT,
            "%-11s %6d %11.2f %15.2f %6.2f %14.2f %16.2f%n",
            mode,
            n,
            r.allDoneSeconds(),
            setup.oneTransferSeconds(),
            r.ratioToOneTransfer(),
            r.originCopies(),
            r.maxNodeCopies());
      }
    }
  }
}
