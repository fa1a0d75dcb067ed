package dev.deployrt.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.ErrorInfo;
import dev.deployrt.deployment.LogEntry;
import dev.deployrt.deployment.NodeResult;
import dev.deployrt.errors.ApiException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;

/**
 * The API's JSON shapes (API.md): snake_case names, ISO-8601 UTC times with milliseconds, explicit
 * nulls. Built field by field so the wire format is visible here and does not drift with the
 * internal records.
 */
public final class ApiJson {
  /**
   * Reads client bodies strictly: a key given twice in one object is an error, not "last one wins".
   */
  public static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private ApiJson() {}

  /**
   * What is wrong with a body {@link #MAPPER} could not read, for a 400: never the parser's own
   * text.
   */
  public static String describeParseError(Exception e) {
    if (e instanceof com.fasterxml.jackson.core.JsonParseException p
        && String.valueOf(p.getOriginalMessage()).startsWith("Duplicate field")) {
      String field =
          String.valueOf(p.getOriginalMessage()).replaceFirst("^Duplicate field '(.*)'$", "$1");
      return "field '"
          + dev.deployrt.text.ClientText.printable(field, 100)
          + "' is given more than once";
    }
    return "the body is not valid JSON";
  }

  /** The fields of a JSON object body; unknown, reserved and repeated fields are refused. */
  public static Map<String, JsonNode> objectFields(String body, Set<String> allowed) {
    JsonNode node;
    try {
      node = ApiJson.MAPPER.readTree(body.getBytes(StandardCharsets.UTF_8));
    } catch (Exception e) {
      throw ApiException.invalid(ApiJson.describeParseError(e));
    }
    if (node == null || !node.isObject()) {
      throw ApiException.invalid("the body must be a JSON object");
    }
    return objectFields(node, allowed, "");
  }

  /**
   * The fields of the JSON object {@code node} (named {@code prefix} + field in errors, e.g. {@code
   * "rollout."}); unknown and reserved fields are refused.
   */
  public static Map<String, JsonNode> objectFields(
      JsonNode node, Set<String> allowed, String prefix) {
    if (node == null || !node.isObject()) {
      throw ApiException.invalid(
          "field '"
              + prefix.substring(0, Math.max(0, prefix.length() - 1))
              + "' must be an object");
    }
    Map<String, JsonNode> out = new HashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = node.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      if (!allowed.contains(name)) {
        String shown = prefix + dev.deployrt.text.ClientText.printable(name, 100);
        throw ApiException.invalid(
                name.startsWith("_")
                    ? "field '" + shown + "' is reserved and cannot be sent"
                    : "unknown field '"
                        + shown
                        + "' (allowed: "
                        + String.join(", ", allowed.stream().sorted().toList())
                        + ")")
            .with("field", shown);
      }
      out.put(name, e.getValue());
    }
    return out;
  }

  public static String time(Instant t) {
    return t == null ? null : TIME.format(t);
  }

  public static HttpEntity.Strict entity(JsonNode node) {
    try {
      return HttpEntities.create(ContentTypes.APPLICATION_JSON, MAPPER.writeValueAsBytes(node));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static ObjectNode error(ApiException e) {
    ObjectNode out = MAPPER.createObjectNode();
    out.put("error", e.getMessage());
    out.put("code", e.code().name());
    e.extra().forEach((k, v) -> out.set(k, MAPPER.valueToTree(v)));
    return out;
  }

  public static ObjectNode deployment(Deployment d, boolean withEvents) {
    ObjectNode out = MAPPER.createObjectNode();
    out.put("deployment_id", d.deploymentId());
    out.put("project", d.project());
    out.put("description", d.description());
    out.put("status", d.status().apiName());
    out.put("sha256", d.sha256());
    out.put("payload_size", d.payloadSize());
    out.put("payload_present", d.payloadPresent());
    out.put("user", d.user());
    out.put("origin_node", d.originNode());
    out.put("rollback_of", d.rollbackOf());
    out.put("created_at", time(d.createdAt()));
    out.put("completed_at", time(d.completedAt()));
    out.set("error", error(d.error()));
    ObjectNode nodes = out.putObject("nodes");
    for (Map.Entry<String, NodeResult> n : d.nodes().entrySet()) {
      ObjectNode node = nodes.putObject(n.getKey());
      node.put("status", n.getValue().status().apiName());
      node.put("updated_at", time(n.getValue().updatedAt()));
      node.set("error", error(n.getValue().error()));
    }
    out.put("event_count", d.eventCount());
    if (withEvents) {
      var events = out.putArray("events");
      d.events().forEach(e -> events.add(event(e)));
    }
    return out;
  }

  public static ObjectNode event(LogEntry e) {
    ObjectNode out = MAPPER.createObjectNode();
    out.put("seq", e.seq());
    out.put("time", time(e.time()));
    out.put("type", e.type());
    out.put("phase", e.phase());
    out.put("node", e.node());
    out.put("message", e.message());
    ObjectNode data = out.putObject("data");
    e.data().forEach(data::put);
    return out;
  }

  private static JsonNode error(ErrorInfo e) {
    if (e == null) {
      return MAPPER.nullNode();
    }
    ObjectNode out = MAPPER.createObjectNode();
    out.put("message", e.message());
    out.put("code", e.code());
    out.put("phase", e.phase());
    out.put("node", e.node());
    return out;
  }
}
