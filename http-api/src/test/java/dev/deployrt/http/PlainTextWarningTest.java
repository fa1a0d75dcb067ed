package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A node warns at start when its API listens beyond loopback without TLS. */
class PlainTextWarningTest {
  @Test
  void warnsForAnyAddressOtherHostsCanReachWithoutTls() {
    for (String host : new String[] {"0.0.0.0", "::", "10.77.0.11", "192.0.2.1"}) {
      Optional<String> warning = OperationsApi.plainTextWarning(host, false);
      assertTrue(warning.isPresent() && warning.get().contains("without TLS"), host);
    }
  }

  @Test
  void staysQuietOnLoopbackOrWithTls() {
    for (String host : new String[] {"127.0.0.1", "127.0.0.2", "::1", "localhost"}) {
      assertEquals(Optional.empty(), OperationsApi.plainTextWarning(host, false), host);
    }
    assertEquals(Optional.empty(), OperationsApi.plainTextWarning("0.0.0.0", true));
  }
}
