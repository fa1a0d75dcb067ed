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
 * Clients that send slowly or stop sending cannot hold a node's connections: an upload that receives
 * no byte for {@code deploy.upload.stall-timeout} (here 1 s) ends {@code failed} with {@code
 * UPLOAD_STALLED} (408), also when it stalls among a multipart body's fields.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SlowClientTest {
  private TestNode node;

  @BeforeAll
  void start(@TempDir Path dir) {
    node = TestNode.start(dir.resolve("node"), "node-1", Map.of("deploy.upload.stall-timeout", "1s"));
  }

  @AfterAll
  void stop() {
    node.close();
  }

  /** Sends the head and {@code body}, then nothing more (the connection stays open), and reads the answer. */
  private RawHttp.Answer sendThenStall(String head, byte[] body) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", node.port)) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write((head + "Host: 127.0.0.1\r\nConnection: close\r\nAuthorization: "
          + TestNode.basic("admin", TestNode.PASSWORD) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
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
    assertEquals(List.of(), FileTrees.list(node.dataDir.resolve("blobs/staging")), "no staging file left");
  }

  @Test
  void aRawUploadThatStopsSendingEndsStalled() throws Exception {
    byte[] payload = Tarball.builder().randomFile("data.bin", 600_000, 3).toBytes();
    assertStalled(sendThenStall("POST /deployments?project=stalled HTTP/1.1\r\nContent-Type: application/gzip\r\n"
        + "Content-Length: " + payload.length + "\r\n", Arrays.copyOf(payload, payload.length / 3)));
  }

  @Test
  void aMultipartUploadThatStopsAmongItsFieldsEndsStalled() throws Exception {
    byte[] fields = new Multipart().field("project", "stalled-fields").field("description", "slow").build();
    byte[] start = Arrays.copyOf(fields, fields.length - ("--" + Multipart.BOUNDARY + "--\r\n").length());
    assertStalled(sendThenStall("POST /deployments HTTP/1.1\r\nContent-Type: " + Multipart.contentType() + "\r\n"
        + "Content-Length: " + (start.length + 100_000) + "\r\n", start));
  }
}
