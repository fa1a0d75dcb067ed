package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.Multipart;
import dev.deployrt.testkit.RawHttp;
import dev.deployrt.testkit.Tarball;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that send slowly or stop sending cannot hold a node's connections: an upload that
 * receives no byte for {@code deploy.upload.stall-timeout} (here 1 s) ends {@code failed} with
 * {@code UPLOAD_STALLED} (408), also when it stalls among a multipart body's fields; a connection
 * whose request headers are not complete within {@code deploy.http.request-header-timeout} (here 2
 * s) is closed however slowly its bytes keep coming; connections beyond the cap wait until one
 * closes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SlowClientTest {
  private TestNode node;

  @BeforeAll
  void start(@TempDir Path dir) {
    node =
        TestNode.start(
            dir.resolve("node"),
            "node-1",
            Map.of(
                "deploy.upload.stall-timeout", "1s", "deploy.http.request-header-timeout", "2s"));
  }

  @AfterAll
  void stop() {
    node.close();
  }

  /**
   * Sends the head and {@code body}, then nothing more (the connection stays open), and reads the
   * answer.
   */
  private RawHttp.Answer sendThenStall(String head, byte[] body) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", node.port)) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          (head
                  + "Host: 127.0.0.1\r\nConnection: close\r\nAuthorization: "
                  + TestNode.basic("admin", TestNode.PASSWORD)
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      return RawHttp.read(socket.getInputStream());
    }
  }

  private void assertStalled(RawHttp.Answer answer) throws Exception {
    assertEquals(408, answer.status(), answer.body());
    JsonNode error = ApiJson.MAPPER.readTree(answer.body());
    assertEquals("UPLOAD_STALLED", error.get("code").asText(), answer.body());
    JsonNode d = node.get("/deployments/" + error.get("deployment_id").asText());
    assertEquals("failed", d.get("status").asText());
    assertEquals("UPLOAD_STALLED", d.get("error").get("code").asText());
    assertEquals(
        List.of(), FileTrees.list(node.dataDir.resolve("blobs/staging")), "no staging file left");
  }

  /** Slowloris: headers sent a byte every 200 ms, never completed. */
  @Test
  void aConnectionDribblingItsHeadersIsClosed() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", node.port)) {
      socket.setSoTimeout(200);
      OutputStream out = socket.getOutputStream();
      out.write(
          "GET /health/alive HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
              .getBytes(StandardCharsets.US_ASCII));
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
      boolean closed = false;
      while (!closed && System.nanoTime() < deadline) {
        try {
          out.write('a');
          out.flush();
          closed = socket.getInputStream().read() < 0;
        } catch (java.net.SocketTimeoutException stillOpen) {
          // nothing to read yet: keep dribbling
        } catch (java.io.IOException reset) {
          closed = true;
        }
      }
      org.junit.jupiter.api.Assertions.assertTrue(
          closed, "the node closed the connection while headers dribbled in");
    }
  }

  /**
   * A kept-alive connection serves a second request right after the first, then, idle, is closed
   * once the header timeout (2 s) has passed since the last answer: not before, and not much later.
   */
  @Test
  void anIdleConnectionIsClosedAfterTheHeaderTimeoutAndAnsweredOnesStayUsable() throws Exception {
    byte[] request =
        "GET /health/alive HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    try (Socket socket = new Socket("127.0.0.1", node.port)) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      java.io.InputStream in = socket.getInputStream();
      for (int i = 0; i < 2; i++) {
        out.write(request);
        out.flush();
        readOneAnswer(in);
      }
      long answered = System.nanoTime();
      assertEquals(-1, in.read(), "closed by the node");
      long idleMillis = (System.nanoTime() - answered) / 1_000_000;
      org.junit.jupiter.api.Assertions.assertTrue(
          idleMillis >= 1500 && idleMillis < 15_000,
          "closed " + idleMillis + " ms after the last answer (timeout 2 s)");
    }
  }

  /** Reads one answer with a Content-Length body off a kept-alive connection. */
  private static void readOneAnswer(java.io.InputStream in) throws java.io.IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      org.junit.jupiter.api.Assertions.assertTrue(b >= 0, "answer cut off: " + head);
      head.append((char) b);
    }
    org.junit.jupiter.api.Assertions.assertTrue(
        head.toString().startsWith("HTTP/1.1 200"), head.toString());
    int length =
        head.toString()
            .lines()
            .filter(l -> l.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:"))
            .map(l -> Integer.parseInt(l.substring(15).strip()))
            .findFirst()
            .orElseThrow();
    assertEquals(length, in.readNBytes(length).length);
  }

  /**
   * Past {@code max-connections} (here 2) a new connection is not served until a held one closes.
   */
  @Test
  void connectionsBeyondTheCapWaitForOneToClose(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    try (TestNode capped =
            TestNode.start(
                dir.resolve("capped"),
                "capped",
                Map.of(
                    "pekko.http.server.max-connections",
                    2,
                    "deploy.http.request-header-timeout",
                    "60s"));
        Socket first = new Socket("127.0.0.1", capped.port);
        Socket second = new Socket("127.0.0.1", capped.port);
        Socket third = new Socket("127.0.0.1", capped.port)) {
      third
          .getOutputStream()
          .write(
              "GET /health/alive HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      third.setSoTimeout(1500);
      org.junit.jupiter.api.Assertions.assertThrows(
          java.net.SocketTimeoutException.class,
          () -> third.getInputStream().read(),
          "not served while two connections are held");
      first.close();
      third.setSoTimeout(20_000);
      RawHttp.Answer answer = RawHttp.read(third.getInputStream());
      assertEquals(200, answer.status(), "served once one closed");
    }
  }

  @Test
  void aRawUploadThatStopsSendingEndsStalled() throws Exception {
    byte[] payload = Tarball.builder().randomFile("data.bin", 600_000, 3).toBytes();
    assertStalled(
        sendThenStall(
            "POST /deployments?project=stalled HTTP/1.1\r\nContent-Type: application/gzip\r\n"
                + "Content-Length: "
                + payload.length
                + "\r\n",
            Arrays.copyOf(payload, payload.length / 3)));
  }

  @Test
  void aMultipartUploadThatStopsAmongItsFieldsEndsStalled() throws Exception {
    byte[] fields =
        new Multipart().field("project", "stalled-fields").field("description", "slow").build();
    byte[] start =
        Arrays.copyOf(fields, fields.length - ("--" + Multipart.BOUNDARY + "--\r\n").length());
    assertStalled(
        sendThenStall(
            "POST /deployments HTTP/1.1\r\nContent-Type: "
                + Multipart.contentType()
                + "\r\n"
                + "Content-Length: "
                + (start.length + 100_000)
                + "\r\n",
            start));
  }
}
