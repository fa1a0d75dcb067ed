package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /deployments} against a few hundred deployments in the read model: filters, paging,
 * order, totals and parameter validation, each checked against the records the entities hold.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeploymentListTest {
  private static final int COUNT = 300;
  private static final List<String> PROJECTS = List.of("web", "api", "worker");

  private TestNode node;
  private final List<Deployment> all = new ArrayList<>();

  @BeforeAll
  void createDeployments(@TempDir Path dir) {
    // A lease far longer than the test, so the pending ones stay pending however slow the machine.
    node = TestNode.start(dir.resolve("node"), "node-1", Map.of("deploy.upload.lease", "1h"));
    List<CompletableFuture<Deployment>> created = new ArrayList<>();
    for (int i = 0; i < COUNT; i++) {
      String project = PROJECTS.get(i % PROJECTS.size());
      String id = UUID.randomUUID().toString();
      boolean fail = i % 4 == 0;
      String description = "no " + i;
      created.add(
          node.node
              .deployment(id)
              .<Deployment>askWithStatus(
                  replyTo ->
                      new DeploymentEntity.Create(
                          project, description, "admin", "node-1", null, replyTo),
                  Duration.ofSeconds(30))
              .thenCompose(
                  d ->
                      !fail
                          ? CompletableFuture.completedFuture(d)
                          : node.node
                              .deployment(id)
                              .<Deployment>askWithStatus(
                                  replyTo ->
                                      new DeploymentEntity.FailUpload(
                                          "INVALID_ARCHIVE", "bad archive", "upload", replyTo),
                                  Duration.ofSeconds(30)))
              .toCompletableFuture());
    }
    created.forEach(f -> all.add(f.join()));
    TestProbe<Object> probe = node.testKit.createTestProbe();
    probe.awaitAssert(
        Duration.ofSeconds(30),
        Duration.ofMillis(200),
        () -> {
          JsonNode page = node.get("/deployments?status=failed&limit=1");
          assertEquals(
              COUNT / 4, page.get("total").asLong(), "failed deployments projected so far");
          assertEquals(
              COUNT, node.get("/deployments?limit=1").get("total").asLong(), "projected so far");
          return null;
        });
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private List<Deployment> expected(Predicate<Deployment> filter) {
    return all.stream()
        .filter(filter)
        .sorted(
            Comparator.comparing(Deployment::createdAt)
                .reversed()
                .thenComparing(Deployment::deploymentId))
        .collect(Collectors.toList());
  }

  private static List<String> ids(List<Deployment> deployments) {
    return deployments.stream().map(Deployment::deploymentId).collect(Collectors.toList());
  }

  private static List<String> ids(JsonNode page) {
    List<String> out = new ArrayList<>();
    page.get("deployments").forEach(d -> out.add(d.get("deployment_id").asText()));
    return out;
  }

  private static String q(Instant t) {
    return URLEncoder.encode(t.toString(), StandardCharsets.UTF_8);
  }

  @Test
  void pagesThroughEverythingNewestFirstWithTheTotal() {
    List<String> seen = new ArrayList<>();
    for (int offset = 0; offset < COUNT; offset += 70) {
      JsonNode page = node.get("/deployments?limit=70&offset=" + offset);
      assertEquals(COUNT, page.get("total").asLong());
      assertEquals(70, page.get("limit").asInt());
      assertEquals(offset, page.get("offset").asInt());
      seen.addAll(ids(page));
    }
    assertEquals(ids(expected(d -> true)), seen);
    JsonNode beyond = node.get("/deployments?offset=" + COUNT);
    assertEquals(0, beyond.get("deployments").size());
    assertEquals(COUNT, beyond.get("total").asLong());
  }

  @Test
  void theDefaultPageIsFiftyAndItemsCarryTheRecordWithoutEvents() {
    JsonNode page = node.get("/deployments");
    assertEquals(50, page.get("limit").asInt());
    assertEquals(50, page.get("deployments").size());
    JsonNode first = page.get("deployments").get(0);
    Deployment newest = expected(d -> true).get(0);
    assertEquals(newest.deploymentId(), first.get("deployment_id").asText());
    assertEquals(newest.project(), first.get("project").asText());
    assertEquals(newest.description(), first.get("description").asText());
    assertEquals(newest.status().apiName(), first.get("status").asText());
    assertEquals("admin", first.get("user").asText());
    assertEquals(newest.eventCount(), first.get("event_count").asLong());
    assertFalse(first.has("events"), "list items omit the event log");
  }

  @Test
  void filtersByProjectStatusAndBoth() {
    JsonNode web = node.get("/deployments?project=web&limit=1000");
    assertEquals(ids(expected(d -> d.project().equals("web"))), ids(web));
    assertEquals(COUNT / 3, web.get("total").asLong());

    JsonNode failed = node.get("/deployments?status=failed&limit=20&offset=20");
    List<Deployment> allFailed = expected(d -> d.status().apiName().equals("failed"));
    assertEquals(ids(allFailed.subList(20, 40)), ids(failed));
    assertEquals(allFailed.size(), failed.get("total").asLong());

    JsonNode both = node.get("/deployments?project=api&status=pending&limit=1000");
    assertEquals(
        ids(expected(d -> d.project().equals("api") && d.status().apiName().equals("pending"))),
        ids(both));

    JsonNode none = node.get("/deployments?project=nothing-here");
    assertEquals(0, none.get("total").asLong());
    assertEquals(0, none.get("deployments").size());
  }

  @Test
  void sinceAndUntilAreInclusiveBoundsOnCreatedAt() {
    List<Deployment> ordered = expected(d -> true);
    Instant until = ordered.get(40).createdAt();
    Instant since = ordered.get(200).createdAt();
    JsonNode page = node.get("/deployments?limit=1000&since=" + q(since) + "&until=" + q(until));
    List<Deployment> want =
        expected(d -> !d.createdAt().isBefore(since) && !d.createdAt().isAfter(until));
    assertEquals(ids(want), ids(page));
    assertTrue(ids(page).contains(ordered.get(40).deploymentId()), "until is inclusive");
    assertTrue(ids(page).contains(ordered.get(200).deploymentId()), "since is inclusive");
    JsonNode offset =
        node.get(
            "/deployments?limit=1&until="
                + URLEncoder.encode(
                    until.atOffset(java.time.ZoneOffset.ofHours(2)).toString(),
                    StandardCharsets.UTF_8));
    assertEquals(
        expected(d -> !d.createdAt().isAfter(until)).get(0).deploymentId(),
        ids(offset).get(0),
        "a time with an offset means the same instant");
  }

  /** The query template as API.md writes it, with nothing filled in, lists everything. */
  @Test
  void emptyParametersAreAsIfAbsentAndADayBoundsAWholeUtcDay() {
    JsonNode empty = node.get("/deployments?project=&status=&since=&until=&limit=&offset=");
    assertEquals(COUNT, empty.get("total").asLong());
    assertEquals(50, empty.get("limit").asInt());
    assertEquals(0, empty.get("offset").asInt());
    List<Deployment> ordered = expected(d -> true);
    java.time.LocalDate first =
        ordered
            .get(ordered.size() - 1)
            .createdAt()
            .atOffset(java.time.ZoneOffset.UTC)
            .toLocalDate();
    java.time.LocalDate last =
        ordered.get(0).createdAt().atOffset(java.time.ZoneOffset.UTC).toLocalDate();
    assertEquals(
        COUNT,
        node.get("/deployments?limit=1&since=" + first + "&until=" + last).get("total").asLong(),
        "both days whole");
    assertEquals(
        0, node.get("/deployments?limit=1&until=" + first.minusDays(1)).get("total").asLong());
    assertEquals(
        0, node.get("/deployments?limit=1&since=" + last.plusDays(1)).get("total").asLong());
  }

  @Test
  void badParametersAreRejectedWithTheParameterNamed() {
    Map<String, String> cases =
        Map.of(
            "limit=0",
            "limit",
            "limit=1001",
            "limit",
            "limit=ten",
            "limit",
            "offset=-1",
            "offset",
            "status=done",
            "status",
            "since=yesterday",
            "since",
            "project=Web!",
            "project",
            "user=admin",
            "user",
            "project=web&project=api",
            "project",
            "since=2026-11-23T10:00:00Z&until=2026-11-23T09:00:00Z",
            "since");
    cases.forEach(
        (query, field) -> {
          var r = node.send(node.request("/deployments?" + query).GET().build());
          assertEquals(400, r.statusCode(), query + ": " + r.body());
          JsonNode error = TestNode.json(r);
          assertEquals("INVALID_REQUEST", error.get("code").asText(), query);
          assertEquals(field, error.get("field").asText(), query);
        });
    JsonNode max = node.get("/deployments?limit=1000");
    assertEquals(1000, max.get("limit").asInt(), "1000 is allowed");
    assertEquals(COUNT, max.get("deployments").size());
  }

  @Test
  void listingNeedsCredentials() {
    var r =
        node.send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(node.url("/deployments")))
                .GET()
                .build());
    assertEquals(401, r.statusCode());
  }
}
