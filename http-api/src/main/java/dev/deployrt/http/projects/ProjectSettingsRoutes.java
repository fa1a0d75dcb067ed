package dev.deployrt.http.projects;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.deployrt.deploy.DeployRequest;
import dev.deployrt.errors.ApiException;
import dev.deployrt.http.ApiJson;
import dev.deployrt.http.auth.Authentication;
import dev.deployrt.project.ProjectSettings;
import dev.deployrt.project.ProjectSettingsStore;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * {@code GET /projects/{project}/settings} (everyone) and {@code PUT} (admin): the project's
 * retention settings (API.md, "Projects"). A project needs no deployment to have settings; one
 * without its own shows the defaults with {@code updated_by}/{@code updated_at} null. A {@code PUT}
 * takes any subset of the settings and keeps the others.
 */
public final class ProjectSettingsRoutes extends AllDirectives {
  private static final long MAX_BODY = 16 * 1024;
  private static final Set<String> FIELDS = Set.of("keep_releases", "keep_payloads");

  private final ProjectSettingsStore store;
  private final Authentication auth;

  public ProjectSettingsRoutes(ProjectSettingsStore store, Authentication auth) {
    this.store = store;
    this.auth = auth;
  }

  public Route route() {
    return pathPrefix(
        "projects",
        () ->
            path(
                segment().slash("settings"),
                project ->
                    auth.authenticated(
                        user ->
                            concat(
                                get(() -> completeWithFuture(read(project))),
                                put(
                                    () ->
                                        auth.requireAdmin(
                                            user,
                                            () ->
                                                withSizeLimit(
                                                    MAX_BODY,
                                                    () ->
                                                        entity(
                                                            Unmarshaller.entityToString(),
                                                            body ->
                                                                completeWithFuture(
                                                                    change(
                                                                        project,
                                                                        body,
                                                                        user.name()))))))))));
  }

  private java.util.concurrent.CompletionStage<HttpResponse> read(String project) {
    requireProjectName(project);
    return store.get(project).thenApply(ProjectSettingsRoutes::answer);
  }

  private java.util.concurrent.CompletionStage<HttpResponse> change(
      String project, String body, String user) {
    requireProjectName(project);
    return store.change(project, parse(body), user).thenApply(ProjectSettingsRoutes::answer);
  }

  /** The change a body asks for; 400 for anything but the settings, in range. */
  static ProjectSettings.Change parse(String body) {
    Map<String, JsonNode> fields;
    try {
      fields = ApiJson.objectFields(body, FIELDS);
    } catch (ApiException e) {
      if ("rollout".equals(e.extra().get("field")) || "hooks".equals(e.extra().get("field"))) {
        throw ApiException.invalid(
                "rollout settings are not available in this version: only keep_releases and "
                    + "keep_payloads can be set")
            .with("field", e.extra().get("field"));
      }
      throw e;
    }
    try {
      return new ProjectSettings.Change(
          count(fields, "keep_releases"), count(fields, "keep_payloads"));
    } catch (IllegalArgumentException e) {
      throw ApiException.invalid(e.getMessage());
    }
  }

  private static Integer count(Map<String, JsonNode> fields, String name) {
    JsonNode v = fields.get(name);
    if (v == null) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw ApiException.invalid("field '" + name + "' must be a whole number").with("field", name);
    }
    return v.intValue();
  }

  private static void requireProjectName(String project) {
    if (!DeployRequest.PROJECT.matcher(project).matches()) {
      throw ApiException.invalid(
          "project name "
              + DeployRequest.printable(project)
              + " does not match "
              + DeployRequest.PROJECT.pattern());
    }
  }

  private static HttpResponse answer(ProjectSettings s) {
    ObjectNode out = ApiJson.MAPPER.createObjectNode();
    out.put("project", s.project());
    out.put("keep_releases", s.keepReleases());
    out.put("keep_payloads", s.keepPayloads());
    out.put("updated_by", s.updatedBy());
    out.put("updated_at", ApiJson.time(s.updatedAt()));
    return HttpResponse.create().withEntity(ApiJson.entity(out));
  }
}
