package dev.deployrt.http.projects;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.deployrt.deploy.DeployRequest;
import dev.deployrt.errors.ApiException;
import dev.deployrt.http.ApiJson;
import dev.deployrt.http.auth.Authentication;
import dev.deployrt.peer.PeerState;
import dev.deployrt.project.ProjectSettings;
import dev.deployrt.project.ProjectSettingsStore;
import dev.deployrt.rollout.Strategy;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * {@code GET /projects/{project}/settings} (everyone) and {@code PUT} (admin): the project's
 * retention and rollout settings (API.md, "Projects"), and which hooks each node that is up has
 * configured for it (never their commands: hooks come only from each node's configuration, so a
 * {@code PUT} naming them is refused). A project needs no deployment to have settings; one without
 * its own shows the defaults with {@code updated_by}/{@code updated_at} null. A {@code PUT} takes
 * any subset of the settings (and of {@code rollout}'s) and keeps the others.
 */
public final class ProjectSettingsRoutes extends AllDirectives {
  private static final long MAX_BODY = 16 * 1024;
  private static final Set<String> FIELDS = Set.of("keep_releases", "keep_payloads", "rollout");
  private static final Set<String> ROLLOUT_FIELDS =
      Set.of("strategy", "canary_nodes", "health_window_s", "auto_revert");

  private final ProjectSettingsStore store;
  private final Authentication auth;
  private final Supplier<Map<String, PeerState>> upPeers;

  /**
   * @param upPeers what each node that is up says of itself (for the hooks it has configured)
   */
  public ProjectSettingsRoutes(
      ProjectSettingsStore store, Authentication auth, Supplier<Map<String, PeerState>> upPeers) {
    this.store = store;
    this.auth = auth;
    this.upPeers = upPeers;
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
    return store.get(project).thenApply(this::answer);
  }

  private java.util.concurrent.CompletionStage<HttpResponse> change(
      String project, String body, String user) {
    requireProjectName(project);
    return store.change(project, parse(body), user).thenApply(this::answer);
  }

  /** The change a body asks for; 400 for anything but the settings, in range. */
  static ProjectSettings.Change parse(String body) {
    Map<String, JsonNode> fields;
    try {
      fields = ApiJson.objectFields(body, FIELDS);
    } catch (ApiException e) {
      if ("hooks".equals(e.extra().get("field"))) {
        throw ApiException.invalid(
                "hooks cannot be set through the API: each node reads its own from its "
                    + "configuration (deploy.hooks."
                    + "<project>); GET shows which nodes have which")
            .with("field", "hooks");
      }
      throw e;
    }
    try {
      return new ProjectSettings.Change(
          count(fields, "keep_releases"), count(fields, "keep_payloads"), rollout(fields));
    } catch (IllegalArgumentException e) {
      throw ApiException.invalid(e.getMessage());
    }
  }

  private static ProjectSettings.RolloutChange rollout(Map<String, JsonNode> fields) {
    JsonNode given = fields.get("rollout");
    if (given == null) {
      return null;
    }
    Map<String, JsonNode> r = ApiJson.objectFields(given, ROLLOUT_FIELDS, "rollout.");
    JsonNode strategy = r.get("strategy");
    if (strategy != null && !strategy.isTextual()) {
      throw ApiException.invalid("field 'rollout.strategy' must be a string")
          .with("field", "rollout.strategy");
    }
    JsonNode autoRevert = r.get("auto_revert");
    if (autoRevert != null && !autoRevert.isBoolean()) {
      throw ApiException.invalid("field 'rollout.auto_revert' must be true or false")
          .with("field", "rollout.auto_revert");
    }
    return new ProjectSettings.RolloutChange(
        strategy == null ? null : Strategy.fromApiName(strategy.textValue()),
        count(r, "canary_nodes"),
        count(r, "health_window_s"),
        autoRevert == null ? null : autoRevert.booleanValue());
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

  private HttpResponse answer(ProjectSettings s) {
    ObjectNode out = ApiJson.MAPPER.createObjectNode();
    out.put("project", s.project());
    out.put("keep_releases", s.keepReleases());
    out.put("keep_payloads", s.keepPayloads());
    ObjectNode rollout = out.putObject("rollout");
    rollout.put("strategy", s.rollout().strategy().apiName());
    rollout.put("canary_nodes", s.rollout().canaryNodes());
    rollout.put("health_window_s", s.rollout().healthWindowS());
    rollout.put("auto_revert", s.rollout().autoRevert());
    ObjectNode hooks = out.putObject("hooks");
    new TreeMap<>(upPeers.get())
        .forEach(
            (node, peer) -> {
              List<String> configured = peer.hooks().getOrDefault(s.project(), List.of());
              ObjectNode n = hooks.putObject(node);
              for (String kind : List.of("check", "activate", "health")) {
                n.put(kind, configured.contains(kind));
              }
            });
    out.put("updated_by", s.updatedBy());
    out.put("updated_at", ApiJson.time(s.updatedAt()));
    return HttpResponse.create().withEntity(ApiJson.entity(out));
  }
}
