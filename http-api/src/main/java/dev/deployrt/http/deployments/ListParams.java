package dev.deployrt.http.deployments;

import dev.deployrt.deploy.DeployRequest;
import dev.deployrt.deployment.DeploymentStatus;
import dev.deployrt.errors.ApiException;
import dev.deployrt.readmodel.DeploymentQueries;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The query of {@code GET /deployments}: {@code project}, {@code status}, {@code since}, {@code
 * until} (ISO-8601 times or whole UTC days, inclusive), {@code limit} (1–1000, default 50), {@code
 * offset} (default 0); an empty one is as if absent. Any other parameter, a repeated one or a bad
 * value is a 400 {@code INVALID_REQUEST} naming it.
 */
final class ListParams {
  static final int DEFAULT_LIMIT = 50;
  static final int MAX_LIMIT = 1000;
  private static final Set<String> NAMES =
      Set.of("project", "status", "since", "until", "limit", "offset");

  private ListParams() {}

  static DeploymentQueries.Filter parse(Map<String, List<String>> query) {
    for (Map.Entry<String, List<String>> e : query.entrySet()) {
      if (!NAMES.contains(e.getKey())) {
        throw invalid(
            e.getKey(),
            "unknown parameter '"
                + DeployRequest.printable(e.getKey())
                + "': use project, status, since, until, limit or offset");
      }
      if (e.getValue().size() > 1) {
        throw invalid(e.getKey(), "parameter '" + e.getKey() + "' is given more than once");
      }
    }
    String project = one(query, "project");
    if (project != null && !DeployRequest.PROJECT.matcher(project).matches()) {
      throw invalid("project", "parameter 'project' must match " + DeployRequest.PROJECT.pattern());
    }
    String status = one(query, "status");
    if (status != null && DeploymentStatus.fromApiName(status) == null) {
      throw invalid(
          "status",
          "parameter 'status' must be one of "
              + Arrays.stream(DeploymentStatus.values())
                  .map(DeploymentStatus::apiName)
                  .collect(Collectors.joining(", ")));
    }
    Instant since = time(query, "since");
    Instant until = time(query, "until");
    if (since != null && until != null && since.isAfter(until)) {
      throw invalid("since", "parameter 'since' is after 'until'");
    }
    int limit = number(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
    int offset = number(query, "offset", 0, 0, Integer.MAX_VALUE);
    return new DeploymentQueries.Filter(project, status, since, until, limit, offset);
  }

  /** The parameter's value; null if it is absent or empty ({@code ?project=&limit=10}). */
  private static String one(Map<String, List<String>> query, String name) {
    List<String> values = query.get(name);
    return values == null || values.get(0).isEmpty() ? null : values.get(0);
  }

  /**
   * An ISO-8601 time with an offset, or a whole UTC day ({@code 2026-11-22}): from its first
   * millisecond for {@code since}, to its last for {@code until}.
   */
  private static Instant time(Map<String, List<String>> query, String name) {
    String value = one(query, name);
    if (value == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(value).toInstant();
    } catch (DateTimeParseException notATime) {
      try {
        LocalDate day = LocalDate.parse(value);
        return name.equals("until")
            ? day.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().minusMillis(1)
            : day.atStartOfDay(ZoneOffset.UTC).toInstant();
      } catch (DateTimeParseException notADay) {
        throw invalid(
            name,
            "parameter '"
                + name
                + "' must be an ISO-8601 time such as 2026-11-22T14:03:07.123Z or a day such as"
                + " 2026-11-22, not '"
                + DeployRequest.printable(value)
                + "'");
      }
    }
  }

  private static int number(
      Map<String, List<String>> query, String name, int fallback, int min, int max) {
    String value = one(query, name);
    if (value == null) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(value);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw invalid(
        name,
        "parameter '"
            + name
            + "' must be a whole number from "
            + min
            + (max == Integer.MAX_VALUE ? " up" : " to " + max)
            + ", not '"
            + DeployRequest.printable(value)
            + "'");
  }

  private static ApiException invalid(String field, String message) {
    return ApiException.invalid(message).with("field", DeployRequest.printable(field));
  }
}
