package dev.deployrt.fanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.fanout.FanOutSimulation.Mode;
import dev.deployrt.fanout.FanOutSimulation.Result;
import dev.deployrt.fanout.FanOutSimulation.Setup;
import org.junit.jupiter.api.Test;

/** The simulation's model against what can be worked out by hand. */
class FanOutSimulationTest {
  private static final long MIB = 1 << 20;
  private static final double GBIT = 1e9 / 8;

  private static Setup setup(Mode mode, int nodes, long payloadMib) {
    return new Setup(mode, nodes, payloadMib * MIB, 4 * MIB, GBIT, 0.001, 2, 2);
  }

  @Test
  void oneCopyTakesOneTransfer() {
    for (Mode mode : Mode.values()) {
      Result r = FanOutSimulation.run(setup(mode, 2, 256));
      assertEquals(1.0, r.originCopies(), 1e-9);
      // two requests in flight share the link and end together; asking for the next two costs
      // a round trip (2 ms) every 2 pieces (67 ms): ~3 %
      assertEquals(1.0, r.ratioToOneTransfer(), 0.035, mode + ": " + r);
    }
  }

  @Test
  void wholeBlobsWaitForEachLevelAndTheOriginServesTwoCopies() {
    // origin -> replica and origin -> third node share the origin's upload: both take 2 transfers
    Result three = FanOutSimulation.run(setup(Mode.WHOLE_BLOBS, 3, 256));
    assertEquals(2.0, three.originCopies(), 1e-9);
    assertEquals(2.0, three.ratioToOneTransfer(), 0.07, three.toString());
    // node 3 and 4 wait for the replica to hold everything, then share its upload: 2 + 2 transfers
    Result five = FanOutSimulation.run(setup(Mode.WHOLE_BLOBS, 5, 256));
    assertEquals(4.0, five.ratioToOneTransfer(), 0.14, five.toString());
  }

  @Test
  void relayedPiecesReachAThousandNodesInLittleMoreThanOneTransfer() {
    Result r = FanOutSimulation.run(setup(Mode.PIECES, 1000, 1024));
    assertEquals(1.0, r.originCopies(), 1e-9);
    assertTrue(r.maxNodeCopies() <= 1.0 + 1e-9, r.toString());
    assertTrue(r.ratioToOneTransfer() < 1.25, r.toString());
    assertTrue(r.ratioToOneTransfer() >= 1.0, r.toString());
  }
}
