package dev.deployrt.deploy;

import dev.deployrt.blob.BlobStore;
import dev.deployrt.errors.ApiException;
import dev.deployrt.text.ClientText;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The parameters of one {@code POST /deployments}, validated (API.md, "Deploy").
 *
 * <p>Validation never throws: a request with a problem still gets a deployment record (every
 * attempt is on record), so the caller needs whatever could be read ({@link #project} only if
 * valid, {@link #description} cut to its limit) and the first {@link #problem}, if any. Fields a
 * client must never set ({@code deployment_id}, {@code status}, {@code user}, {@code origin_node},
 * anything starting with {@code _}) and unknown fields are problems.
 */
public record DeployRequest(
    String project,
    String sha256,
    String description,
    String rollbackOf,
    boolean waitForResult,
    Duration timeout,
    ApiException problem) {

  public static final Pattern PROJECT = Pattern.compile("^[a-z0-9][a-z0-9._-]{0,63}$");
  public static final Pattern DEPLOYMENT_ID =
      Pattern.compile("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  public static final int MAX_DESCRIPTION = 512;
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);

  /** Fields a client can never set, whatever the form of the request. */
  public static final Set<String> RESERVED =
      Set.of("deployment_id", "status", "user", "origin_node");

  /** Query parameters that steer the response, allowed with every form. */
  public static final Set<String> RESPONSE_OPTIONS = Set.of("wait", "timeout");

  public static final Set<String> PAYLOAD_FIELDS = Set.of("project", "sha256", "description");
  public static final Set<String> ROLLBACK_FIELDS = Set.of("project", "rollback_of", "description");

  /**
   * @param fields the deploy parameters as sent (query for a raw body, text fields for multipart,
   *     the JSON object for a rollback)
   * @param allowedFields which of {@code fields} this form accepts
   * @param options the query's {@code wait} and {@code timeout}, and anything else found in the
   *     query that the form does not accept there
   */
  public static DeployRequest parse(
      Map<String, String> fields,
      Set<String> allowedFields,
      Map<String, String> options,
      Duration maxTimeout) {
    FirstProblem problem = new FirstProblem();
    for (String name : fields.keySet()) {
      problem.add(checkName(name, allowedFields));
    }
    for (String name : options.keySet()) {
      problem.add(checkName(name, RESPONSE_OPTIONS));
    }
    // In this order: the first problem found is the one reported.
    String project = project(fields.get("project"), problem);
    String sha256 = sha256(fields.get("sha256"), problem);
    String description = description(fields.get("description"), problem);
    String rollbackOf =
        allowedFields.contains("rollback_of")
            ? rollbackOf(fields.get("rollback_of"), problem)
            : null;
    boolean wait = waitForResult(options.get("wait"), problem);
    Duration timeout = timeout(options.get("timeout"), maxTimeout, problem);
    return new DeployRequest(
        project, sha256, description, rollbackOf, wait, timeout, problem.first);
  }

  /** The first problem found; the ones after it are not reported. */
  private static final class FirstProblem {
    private ApiException first;

    void add(ApiException problem) {
      if (first == null) {
        first = problem;
      }
    }
  }

  private static ApiException invalid(String message, String field) {
    return ApiException.invalid(message).with("field", field);
  }

  /** The project, if valid. */
  private static String project(String project, FirstProblem problem) {
    if (project == null) {
      problem.add(invalid("parameter 'project' is required", "project"));
    } else if (!PROJECT.matcher(project).matches()) {
      problem.add(invalid("parameter 'project' must match " + PROJECT.pattern(), "project"));
      return null;
    }
    return project;
  }

  /** The declared digest, if valid. */
  private static String sha256(String sha256, FirstProblem problem) {
    if (sha256 != null && !BlobStore.isValidDigest(sha256)) {
      problem.add(invalid("parameter 'sha256' must be 64 lowercase hex characters", "sha256"));
      return null;
    }
    return sha256;
  }

  /** The description, cut to its limit and escaped if it holds control characters. */
  private static String description(String description, FirstProblem problem) {
    if (description != null && description.length() > MAX_DESCRIPTION) {
      problem.add(
          invalid(
                  "parameter 'description' is longer than " + MAX_DESCRIPTION + " characters",
                  "description")
              .with("limit", MAX_DESCRIPTION));
      description = description.substring(0, MAX_DESCRIPTION);
    }
    if (description != null && ClientText.hasControlCharacters(description)) {
      problem.add(
          invalid(
              "parameter 'description' must not contain control characters "
                  + "(line breaks, tabs, escape sequences, bidirectional overrides)",
              "description"));
      description = ClientText.printable(description, MAX_DESCRIPTION);
    }
    return description;
  }

  /** The earlier deployment a rollback names, if valid. */
  private static String rollbackOf(String rollbackOf, FirstProblem problem) {
    if (rollbackOf == null) {
      problem.add(invalid("field 'rollback_of' is required", "rollback_of"));
    } else if (!DEPLOYMENT_ID.matcher(rollbackOf).matches()) {
      problem.add(invalid("field 'rollback_of' must be a deployment id", "rollback_of"));
      return null;
    }
    return rollbackOf;
  }

  private static boolean waitForResult(String wait, FirstProblem problem) {
    if (wait == null || wait.equals("true")) {
      return true;
    }
    if (!wait.equals("false")) {
      problem.add(invalid("parameter 'wait' must be true or false", "wait"));
      return true;
    }
    return false;
  }

  private static Duration timeout(String timeout, Duration maxTimeout, FirstProblem problem) {
    if (timeout == null) {
      return DEFAULT_TIMEOUT;
    }
    long seconds = timeout.matches("[0-9]{1,9}") ? Long.parseLong(timeout) : -1;
    if (seconds < 1 || seconds > maxTimeout.toSeconds()) {
      problem.add(
          invalid(
              "parameter 'timeout' must be a whole number of seconds from 1 to "
                  + maxTimeout.toSeconds(),
              "timeout"));
      return DEFAULT_TIMEOUT;
    }
    return Duration.ofSeconds(seconds);
  }

  private static ApiException checkName(String name, Set<String> allowed) {
    if (RESERVED.contains(name) || name.startsWith("_")) {
      return ApiException.invalid(
              "field '" + printable(name) + "' is set by the server and cannot be sent")
          .with("field", printable(name));
    }
    if (!allowed.contains(name)) {
      return ApiException.invalid("unknown parameter '" + printable(name) + "'")
          .with("field", printable(name));
    }
    return null;
  }

  /** Client text for a message: escaped ({@link ClientText}), at most 100 characters. */
  public static String printable(String s) {
    return ClientText.printable(s, 100);
  }
}
