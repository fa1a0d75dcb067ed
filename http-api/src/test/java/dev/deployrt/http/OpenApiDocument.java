package dev.deployrt.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialects;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * An OpenAPI 3.1 document, and what it says of one HTTP exchange: whether the operation is
 * described, whether the query parameters and the JSON request body are what it accepts, whether
 * the response's status, content type, required headers and JSON body are what it promises. Schemas
 * are checked with networknt's JSON Schema validator in its OpenAPI 3.1 dialect ({@code $ref}s
 * resolve in the document).
 */
final class OpenApiDocument {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final JsonNode root;
  private final String location;
  private final SchemaRegistry schemas;

  /** One exchange as the document sees it; bodies are null when there is none or it is not text. */
  record Exchange(
      String method,
      String path,
      Map<String, List<String>> query,
      String requestType,
      String requestBody,
      int status,
      String responseType,
      Set<String> responseHeaders,
      String responseBody) {}

  OpenApiDocument(Path file) throws IOException {
    String text = java.nio.file.Files.readString(file);
    this.root = new YAMLMapper().readTree(text);
    // Only a name: the registry is handed the document's text and never fetches anything.
    this.location = "https://deploy-runtime.invalid/openapi.yaml";
    this.schemas =
        SchemaRegistry.withDefaultDialect(
            Dialects.getOpenApi31(), b -> b.schemas(Map.of(location, text)));
  }

  /** Every operation the document describes, as "METHOD /path/{template}". */
  Set<String> operations() {
    Set<String> out = new TreeSet<>();
    root.path("paths")
        .fields()
        .forEachRemaining(
            path ->
                path.getValue()
                    .fieldNames()
                    .forEachRemaining(
                        method -> {
                          if (Set.of("get", "put", "post", "delete", "patch", "head", "options")
                              .contains(method)) {
                            out.add(method.toUpperCase(Locale.ROOT) + " " + path.getKey());
                          }
                        }));
    return out;
  }

  /** The path template a concrete path falls under, if the document has one. */
  Optional<String> template(String path) {
    for (Iterator<String> it = root.path("paths").fieldNames(); it.hasNext(); ) {
      String template = it.next();
      if (Pattern.matches(template.replaceAll("\\{[^/]+}", "[^/]+"), path)) {
        return Optional.of(template);
      }
    }
    return Optional.empty();
  }

  /** What in the exchange the document does not describe; empty if it all matches. */
  List<String> violations(Exchange x) {
    List<String> out = new ArrayList<>();
    Optional<String> template = template(x.path());
    String method = x.method().toLowerCase(Locale.ROOT);
    if (template.isEmpty() || !root.path("paths").path(template.get()).has(method)) {
      out.add("no operation " + x.method() + " " + x.path());
      return out;
    }
    String operation = "/paths/" + escape(template.get()) + "/" + method;
    checkQuery(x, operation, out);
    if (x.requestBody() != null && "application/json".equals(x.requestType())) {
      String schema = operation + "/requestBody/content/application~1json/schema";
      if (at(schema).isMissingNode()) {
        out.add("request: no JSON body described");
      } else {
        checkSchema("request body", schema, x.requestBody(), out);
      }
    }

    String response = operation + "/responses/" + x.status();
    if (at(response).isMissingNode()) {
      response = operation + "/responses/default";
      if (at(response).isMissingNode()) {
        out.add("response: status " + x.status() + " not described");
        return out;
      }
    }
    JsonNode described = resolve(at(response));
    described
        .path("headers")
        .fields()
        .forEachRemaining(
            h -> {
              if (resolve(h.getValue()).path("required").asBoolean(false)
                  && x.responseHeaders().stream().noneMatch(h.getKey()::equalsIgnoreCase)) {
                out.add("response: required header " + h.getKey() + " missing");
              }
            });
    JsonNode content = described.path("content");
    if (x.responseType() == null || x.responseType().isEmpty()) {
      if (content.size() > 0 && x.responseBody() != null && !x.responseBody().isEmpty()) {
        out.add("response: a body without a content type");
      }
      return out;
    }
    if (!content.has(x.responseType())) {
      out.add(
          "response: content type "
              + x.responseType()
              + " not described (described: "
              + content
              + ")");
    } else if (x.responseType().equals("application/json")) {
      String pointer = pointerOf(response, at(response)) + "/content/application~1json/schema";
      checkSchema("response body", pointer, x.responseBody(), out);
    }
    return out;
  }

  private void checkQuery(Exchange x, String operation, List<String> out) {
    List<JsonNode> params = new ArrayList<>();
    at(operation.substring(0, operation.lastIndexOf('/')) + "/parameters")
        .forEach(p -> params.add(resolve(p)));
    at(operation + "/parameters").forEach(p -> params.add(resolve(p)));
    for (Map.Entry<String, List<String>> sent : x.query().entrySet()) {
      boolean declared =
          params.stream()
              .anyMatch(
                  p ->
                      p.path("in").asText().equals("query")
                          && p.path("name").asText().equals(sent.getKey()));
      if (!declared) {
        out.add("request: query parameter '" + sent.getKey() + "' not described");
      }
    }
    for (JsonNode p : params) {
      if (p.path("in").asText().equals("query")
          && p.path("required").asBoolean(false)
          && !x.query().containsKey(p.path("name").asText())) {
        out.add("request: required query parameter '" + p.path("name").asText() + "' missing");
      }
    }
  }

  private void checkSchema(String what, String pointer, String body, List<String> out) {
    JsonNode value;
    try {
      value = JSON.readTree(body);
    } catch (IOException e) {
      out.add(what + ": not JSON: " + e.getMessage());
      return;
    }
    Schema schema = schemas.getSchema(SchemaLocation.of(location + "#" + pointer));
    for (Error e : schema.validate(value)) {
      out.add(what + ": " + e);
    }
  }

  /** Follows a {@code $ref} to a component (responses, parameters, headers), once. */
  private JsonNode resolve(JsonNode node) {
    String ref = node.path("$ref").asText("");
    return ref.startsWith("#") ? at(ref.substring(1)) : node;
  }

  /** The JSON pointer of a response object: its component's when it is a {@code $ref}. */
  private static String pointerOf(String pointer, JsonNode node) {
    String ref = node.path("$ref").asText("");
    return ref.startsWith("#") ? ref.substring(1) : pointer;
  }

  private JsonNode at(String pointer) {
    return root.at(pointer);
  }

  private static String escape(String token) {
    return token.replace("~", "~0").replace("/", "~1");
  }
}
