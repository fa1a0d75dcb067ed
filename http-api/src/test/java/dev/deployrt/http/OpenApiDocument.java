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
 * described, whether a request it refuses (query parameters and their values, the JSON body) was
 * refused by the node too (a 4xx), whether the response's status, content type, headers and JSON
 * body are what it promises. Schemas are checked with networknt's JSON Schema validator in its
 * OpenAPI 3.1 dialect ({@code $ref}s resolve in the document).
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
      Map<String, String> responseHeaders,
      String responseBody) {}

  /**
   * Statuses only the HTTP layer chooses (a wrong method, a URI or headers over the parser's
   * limits, a failure nobody expected): the only ones an operation may answer through its {@code
   * default}.
   */
  private static final Set<Integer> HTTP_LAYER_STATUSES = Set.of(405, 414, 431, 500);

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
    // A request the document refuses must be refused by the node too (a 4xx); one it accepts may
    // still be refused for what a schema cannot say (a conflict, a missing record).
    List<String> request = new ArrayList<>();
    checkQuery(x, operation, request);
    if (x.requestBody() != null && "application/json".equals(x.requestType())) {
      String schema = operation + "/requestBody/content/application~1json/schema";
      if (at(schema).isMissingNode()) {
        request.add("request: no JSON body described");
      } else {
        checkSchema("request body", schema, x.requestBody(), request);
      }
    }
    if (!request.isEmpty() && (x.status() < 400 || x.status() >= 500)) {
      out.addAll(request);
      out.add("the document refuses this request, but the node answered " + x.status());
    }

    String response = operation + "/responses/" + x.status();
    if (at(response).isMissingNode()) {
      response = operation + "/responses/default";
      if (at(response).isMissingNode() || !HTTP_LAYER_STATUSES.contains(x.status())) {
        out.add("response: status " + x.status() + " not described");
        return out;
      }
    }
    String responsePointer = pointerOf(response, at(response));
    JsonNode described = at(responsePointer);
    checkHeaders(x, responsePointer, described, out);
    JsonNode content = described.path("content");
    if (x.responseType() == null || x.responseType().isEmpty()) {
      if (x.responseBody() != null && !x.responseBody().isEmpty()) {
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
      String pointer = responsePointer + "/content/application~1json/schema";
      checkSchema("response body", pointer, x.responseBody(), out);
    }
    return out;
  }

  /** Every header the response describes: present if required, and its value as its schema says. */
  private void checkHeaders(
      Exchange x, String responsePointer, JsonNode described, List<String> out) {
    described
        .path("headers")
        .fields()
        .forEachRemaining(
            h -> {
              String pointer =
                  pointerOf(responsePointer + "/headers/" + escape(h.getKey()), h.getValue());
              String value =
                  x.responseHeaders().entrySet().stream()
                      .filter(e -> e.getKey().equalsIgnoreCase(h.getKey()))
                      .map(Map.Entry::getValue)
                      .findFirst()
                      .orElse(null);
              if (value == null) {
                if (at(pointer).path("required").asBoolean(false)) {
                  out.add("response: required header " + h.getKey() + " missing");
                }
              } else {
                checkValue("response header " + h.getKey(), pointer + "/schema", value, out);
              }
            });
  }

  /** The query's parameters: each one described, each value as its schema says, none missing. */
  private void checkQuery(Exchange x, String operation, List<String> out) {
    Map<String, String> queryParams = new java.util.HashMap<>(); // name -> pointer of the parameter
    for (String base : List.of(operation.substring(0, operation.lastIndexOf('/')), operation)) {
      JsonNode list = at(base + "/parameters");
      for (int i = 0; i < list.size(); i++) {
        String pointer = pointerOf(base + "/parameters/" + i, list.get(i));
        JsonNode p = at(pointer);
        if (p.path("in").asText().equals("query")) {
          queryParams.put(p.path("name").asText(), pointer);
        }
      }
    }
    for (Map.Entry<String, List<String>> sent : x.query().entrySet()) {
      String pointer = queryParams.get(sent.getKey());
      if (pointer == null) {
        out.add("request: query parameter '" + sent.getKey() + "' not described");
        continue;
      }
      for (String value : sent.getValue()) {
        checkValue(
            "request: query parameter '" + sent.getKey() + "'", pointer + "/schema", value, out);
      }
    }
    queryParams.forEach(
        (name, pointer) -> {
          if (at(pointer).path("required").asBoolean(false) && !x.query().containsKey(name)) {
            out.add("request: required query parameter '" + name + "' missing");
          }
        });
  }

  /**
   * A parameter's or header's text against its schema: as a number or boolean where the schema's
   * type (after a {@code $ref}) is one and the text reads as one, else as a string.
   */
  private void checkValue(String what, String schemaPointer, String text, List<String> out) {
    JsonNode schema = resolve(at(schemaPointer));
    String type = schema.path("type").asText("");
    JsonNode value = JSON.getNodeFactory().textNode(text);
    try {
      if (type.equals("integer") || type.equals("number")) {
        value = JSON.getNodeFactory().numberNode(new java.math.BigDecimal(text));
      } else if (type.equals("boolean") && (text.equals("true") || text.equals("false"))) {
        value = JSON.getNodeFactory().booleanNode(Boolean.parseBoolean(text));
      }
    } catch (NumberFormatException e) {
      // stays a string, which a numeric schema refuses
    }
    Schema compiled = schemas.getSchema(SchemaLocation.of(location + "#" + schemaPointer));
    for (Error e : compiled.validate(value)) {
      out.add(what + ": " + e);
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
