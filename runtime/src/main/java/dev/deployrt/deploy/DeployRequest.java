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
    ApiException problem = null;
    for (String name : fields.keySet()) {
      problem = first(problem, checkName(name, allowedFields));
    }
    for (String name : options.keySet()) {
      problem = first(problem, checkName(name, RESPONSE_OPTIONS));
    }

    String project = fields.get("project");
    if (project == null) {
      problem =
          first(
              problem,
              ApiException.invalid("parameter 'project' is required").with("field", "project"));
    } else if (!PROJECT.matcher(project).matches()) {
      problem =
          first(
              problem,
              ApiException.invalid("parameter 'project' must match " + PROJECT.pattern())
                  .with("field", "project"));
      project = null;
    }

    String sha256 = fields.get("sha256");
    if (sha256 != null && !BlobStore.isValidDigest(sha256)) {
      problem =
          first(
              problem,
              ApiException.invalid("parameter 'sha256' must be 64 lowercase hex characters")
                  .with("field", "sha256"));
      sha256 = null;
    }

    String description = fields.get("description");
    if (description != null && description.length() > MAX_DESCRIPTION) {
      problem =
          first(
              problem,
              ApiException.invalid(
                      "parameter 'description' is longer than " + MAX_DESCRIPTION + " characters")
                  .with("field", "description")
                  .with("limit", MAX_DESCRIPTION));
      description = description.substring(0, MAX_DESCRIPTION);
    }
    if (description != null && ClientText.hasControlCharacters(description)) {
      problem =
          first(
              problem,
              ApiException.invalid(
                      "parameter 'description' must not contain control characters "
                          + "(line breaks, tabs, escape sequences, bidirectional overrides)")
                  .with("field", "description"));
      description = ClientText.printable(description, MAX_DESCRIPTION);
    }

    String rollbackOf = null;
    if (allowedFields.contains("rollback_of")) {
      rollbackOf = fields.get("rollback_of");
      if (rollbackOf == null) {
        problem =
            first(
                problem,
                ApiException.invalid("field 'rollback_of' is required")
                    .with("field", "rollback_of"));
      } else if (!DEPLOYMENT_ID.matcher(rollbackOf).matches()) {
        problem =
            first(
                problem,
                ApiException.invalid("field 'rollback_of' must be a deployment id")
                    .with("field", "rollback_of"));
        rollbackOf = null;
      }
    }

    boolean wait = true;
    String waitText = options.get("wait");
    if (waitText != null) {
      if (waitText.equals("true") || waitText.equals("false")) {
        wait = waitText.equals("true");
      } else {
        problem =
            first(
                problem,
                ApiException.invalid("parameter 'wait' must be true or false")
                    .with("field", "wait"));
      }
    }
    Duration timeout = DEFAULT_TIMEOUT;
    String timeoutText = options.get("timeout");
    if (timeoutText != null) {
      long seconds = timeoutText.matches("[0-9]{1,9}") ? Long.parseLong(timeoutText) : -1;
      if (seconds < 1 || seconds > maxTimeout.toSeconds()) {
        problem =
            first(
                problem,
                ApiException.invalid(
                        "parameter 'timeout' must be a whole number of seconds from 1 to "
                            + maxTimeout.toSeconds())
                    .with("field", "timeout"));
      } else {
        timeout = Duration.ofSeconds(seconds);
      }
    }
    return new DeployRequest(project, sha256, description, rollbackOf, wait, timeout, problem);
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

  private static ApiException first(ApiException current, ApiException candidate) {
    return current != null ? current : candidate;
  }

  /** Client text for a message: escaped ({@link ClientText}), at most 100 characters. */
  public static String printable(String s) {
    return ClientText.printable(s, 100);
  }
}
