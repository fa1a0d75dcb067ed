package dev.deployrt.deployment;

import dev.deployrt.serialization.JsonSerializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The retained part of a deployment's event log: at most {@value #RETAINED} entries, namely the
 * first {@value #HEAD_SIZE}, one {@code truncated} marker and the latest {@value #TAIL_SIZE}.
 *
 * <p>The marker is not stored; {@link #retained()} derives it. It stands for the dropped run of
 * entries: its {@code seq} is the last dropped entry's seq (so "resume after the marker" means
 * "after everything dropped"), its time that entry's time, and {@code data.dropped_events} how many
 * were dropped. Immutable; {@link #append} returns a new log.
 */
public record EventLog(
    List<LogEntry> head,
    List<LogEntry> tail,
    long dropped,
    long lastDroppedSeq,
    Instant lastDroppedTime)
    implements JsonSerializable {

  public static final int RETAINED = 200;
  public static final int HEAD_SIZE = 20;
  public static final int TAIL_SIZE = 179;

  public static final EventLog EMPTY = new EventLog(List.of(), List.of(), 0, 0, null);

  public EventLog append(LogEntry entry) {
    if (head.size() < HEAD_SIZE) {
      return new EventLog(plus(head, entry), tail, dropped, lastDroppedSeq, lastDroppedTime);
    }
    // Up to RETAINED entries fit without a marker; past that the marker takes one of the places.
    int tailCapacity = dropped == 0 ? RETAINED - HEAD_SIZE : TAIL_SIZE;
    if (tail.size() < tailCapacity) {
      return new EventLog(head, plus(tail, entry), dropped, lastDroppedSeq, lastDroppedTime);
    }
    // Drop the oldest tail entries until the new one fits beside the marker.
    List<LogEntry> kept = new ArrayList<>(tail);
    long newlyDropped = 0;
    LogEntry last = null;
    while (kept.size() >= TAIL_SIZE) {
      last = kept.remove(0);
      newlyDropped++;
    }
    kept.add(entry);
    return new EventLog(head, List.copyOf(kept), dropped + newlyDropped, last.seq(), last.time());
  }

  /** What a reader sees, in seq order: head, the marker if anything was dropped, tail. */
  public List<LogEntry> retained() {
    List<LogEntry> out = new ArrayList<>(head.size() + tail.size() + 1);
    out.addAll(head);
    if (dropped > 0) {
      out.add(
          new LogEntry(
              lastDroppedSeq,
              lastDroppedTime,
              LogEntry.TRUNCATED,
              null,
              null,
              dropped + " events were dropped from the retained log",
              Map.of("dropped_events", dropped)));
    }
    out.addAll(tail);
    return out;
  }

  private static List<LogEntry> plus(List<LogEntry> list, LogEntry entry) {
    List<LogEntry> out = new ArrayList<>(list.size() + 1);
    out.addAll(list);
    out.add(entry);
    return List.copyOf(out);
  }
}
