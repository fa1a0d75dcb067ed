package dev.deployrt.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/** Loopback ports for the servers tests start in other processes. */
public final class Ports {
  /** Every port {@link #free} returned in this JVM: it never returns one twice. */
  private static final Set<Integer> handedOut = ConcurrentHashMap.newKeySet();

  private Ports() {}

  /**
   * A port that is free now, below Linux's ephemeral range (32768 and up): a port the kernel handed
   * out for a listener of ours could be given to some outgoing connection before another process
   * binds it (seen once: a node failed to start with "Address already in use"). Never one this JVM
   * was given before: a test may take a port long before it starts the service on it.
   */
  public static int free() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = random.nextInt(20_000, 32_000);
      if (!handedOut.add(port)) {
        continue; // free now, but maybe not bound yet by whoever got it before (seen once)
      }
      try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
        return s.getLocalPort();
      } catch (IOException taken) {
        // try another
      }
    }
    throw new UncheckedIOException(new IOException("no free port in 20000-31999"));
  }
}
