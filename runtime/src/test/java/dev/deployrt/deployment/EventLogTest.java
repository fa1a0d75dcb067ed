package dev.deployrt.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventLogTest {

  private static EventLog appended(int count) {
    EventLog log = EventLog.EMPTY;
    for (int seq = 1; seq <= count; seq++) {
      log =
          log.append(
              new LogEntry(
                  seq, Instant.ofEpochMilli(seq), LogEntry.LOG, null, null, "e" + seq, Map.of()));
    }
    return log;
  }

  private static List<Long> seqs(EventLog log) {
    return log.retained().stream().map(LogEntry::seq).toList();
  }

  @Test
  void keepsEverythingUpToTwoHundredEvents() {
    List<LogEntry> retained = appended(200).retained();
    assertEquals(200, retained.size());
    assertEquals(1, retained.get(0).seq());
    assertEquals(200, retained.get(199).seq());
    assertTrue(retained.stream().noneMatch(e -> e.type().equals(LogEntry.TRUNCATED)));
  }

  @Test
  void theTwoHundredAndFirstEventBringsTheMarker() {
    List<LogEntry> retained = appended(201).retained();
    assertEquals(200, retained.size());
    LogEntry marker = retained.get(20);
    assertEquals(LogEntry.TRUNCATED, marker.type());
    assertEquals(2L, marker.data().get("dropped_events"));
    assertEquals(22, marker.seq(), "the marker stands in for the last dropped event");
    assertEquals(23, retained.get(21).seq());
    assertEquals(201, retained.get(199).seq());
  }

  @Test
  void retainsFirstTwentyMarkerAndLatest179() {
    EventLog log = appended(1000);
    List<Long> seqs = seqs(log);
    assertEquals(200, seqs.size());
    for (int i = 0; i < 20; i++) {
      assertEquals(i + 1, seqs.get(i));
    }
    LogEntry marker = log.retained().get(20);
    assertEquals(LogEntry.TRUNCATED, marker.type());
    assertEquals(801L, marker.data().get("dropped_events"));
    assertEquals(821, marker.seq());
    for (int i = 21; i < 200; i++) {
      assertEquals(1000 - 199 + i, seqs.get(i));
    }
    for (int i = 1; i < seqs.size(); i++) {
      assertTrue(seqs.get(i) > seqs.get(i - 1), "seq increases");
    }
  }
}
