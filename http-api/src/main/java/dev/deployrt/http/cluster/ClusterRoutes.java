package dev.deployrt.http.cluster;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.deployrt.errors.ApiException;
import dev.deployrt.http.ApiJson;
import dev.deployrt.http.auth.Authentication;
import dev.deployrt.node.NodeConfig;
import dev.deployrt.peer.PeerDirectory;
import dev.deployrt.peer.PeerState;
import dev.deployrt.release.DesiredRelease;
import dev.deployrt.release.ReleaseRegister;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Leave;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Where the cluster stands: {@code GET /projects} (each project's current release and each node's
 * progress towards it), {@code GET /cluster/nodes} (members, their status and active releases), and
 * {@code POST /cluster/nodes/{node}/leave|down} (admin). Node progress comes from the peer
 * directory, which each node updates as it applies; it may lag a change by a gossip round.
 */
public final class ClusterRoutes extends AllDirectives {
  private final Duration askTimeout;

  private final ActorSystem<?> system;
  private final String nodeName;
  private final ActorRef<ReleaseRegister.Command> register;
  private final PeerDirectory directory;
  private final Supplier<Set<String>> upNodes;
  private final Authentication auth;

  /**
   * @param register the projects' desired releases
   * @param directory what each node holds and runs
   * @param upNodes the members that are up now
   */
  public ClusterRoutes(
      ActorSystem<?> system,
      String nodeName,
      ActorRef<ReleaseRegister.Command> register,
      PeerDirectory directory,
      Supplier<Set<String>> upNodes,
      Authentication auth,
      Duration askTimeout) {
    this.system = system;
    this.nodeName = nodeName;
    this.register = register;
    this.directory = directory;
    this.upNodes = upNodes;
    this.askTimeout = askTimeout;
    this.auth = auth;
  }

  public Route route() {
    return concat(
        path(
            "projects",
            () -> get(() -> auth.authenticated(user -> completeWithFuture(projects())))),
        pathPrefix(
            "cluster",
            () ->
                pathPrefix(
                    "nodes",
                    () ->
                        concat(
                            pathEndOrSingleSlash(
                                () -> get(() -> auth.authenticated(user -> complete(ok(nodes()))))),
                            path(
                                segment().slash(segment()),
                                (name, action) ->
                                    post(
                                        () ->
                                            auth.authenticated(
                                                user ->
                                                    auth.requireAdmin(
                                                        user,
                                                        () ->
                                                            complete(
                                                                removeNode(name, action))))))))));
  }

  private CompletionStage<HttpResponse> projects() {
    CompletionStage<Map<String, DesiredRelease>> desired =
        AskPattern.ask(register, ReleaseRegister.GetAll::new, askTimeout, system.scheduler());
    return desired.thenApply(
        all -> {
          Map<String, PeerState> peers = upPeers();
          ArrayNode list = ApiJson.MAPPER.createArrayNode();
          for (DesiredRelease registered : new TreeMap<>(all).values()) {
            // A release whose rollout is under way or stopped is not the project's current yet.
            DesiredRelease current = registered.current();
            DesiredRelease release = current != null ? current : registered;
            ObjectNode p = list.addObject();
            p.put("project", release.project());
            p.put("deployment_id", current == null ? null : release.deploymentId());
            p.put("sha256", current == null ? null : release.sha256());
            ObjectNode nodes = p.putObject("nodes");
            peers.forEach(
                (name, peer) -> {
                  PeerState.ProjectState state = peer.projects().get(release.project());
                  ObjectNode n = nodes.putObject(name);
                  n.put("deployment_id", state == null ? null : state.activeDeploymentId());
                  n.put("status", statusTowards(release, state));
                  Long bytes = peer.releaseBytes().get(release.project());
                  if (bytes == null) {
                    n.putNull("release_bytes");
                  } else {
                    n.put("release_bytes", bytes);
                  }
                });
          }
          ObjectNode out = ApiJson.MAPPER.createObjectNode();
          out.set("projects", list);
          return ok(out);
        });
  }

  /**
   * The node's status for the project's current release: its applier's, or pending if it has not
   * begun.
   */
  private static String statusTowards(DesiredRelease release, PeerState.ProjectState state) {
    if (state == null) {
      return "pending";
    }
    if (release.deploymentId().equals(state.activeDeploymentId())) {
      return "active";
    }
    return release.deploymentId().equals(state.deploymentId()) ? state.status() : "pending";
  }

  private ObjectNode nodes() {
    var cluster = Cluster.get(system);
    ClusterEvent.CurrentClusterState state = cluster.state();
    Set<Member> unreachable = state.getUnreachable();
    TreeMap<String, Member> byName = new TreeMap<>();
    for (Member m : state.getMembers()) {
      byName.put(nodeName(m).orElse(m.address().toString()), m);
    }
    ArrayNode list = ApiJson.MAPPER.createArrayNode();
    for (Map.Entry<String, Member> e : byName.entrySet()) {
      String name = e.getKey();
      Member m = e.getValue();
      ObjectNode n = list.addObject();
      n.put("node", name);
      n.put("address", m.address().toString());
      n.put(
          "status", unreachable.contains(m) ? "unreachable" : m.status().toString().toLowerCase());
      ArrayNode roles = n.putArray("roles");
      m.getRoles().stream()
          .sorted()
          .filter(r -> !r.startsWith(NodeConfig.NODE_ROLE_PREFIX) && !r.startsWith("dc-"))
          .forEach(roles::add);
      ObjectNode projects = n.putObject("projects");
      new TreeMap<>(directory.peer(name).projects())
          .forEach(
              (project, p) -> {
                if (p.activeDeploymentId() != null) {
                  projects.put(project, p.activeDeploymentId());
                }
              });
    }
    ObjectNode out = ApiJson.MAPPER.createObjectNode();
    out.put("self", nodeName);
    out.set("nodes", list);
    return out;
  }

  private HttpResponse removeNode(String name, String action) {
    if (!action.equals("leave") && !action.equals("down")) {
      throw ApiException.notFound("no such action '" + action + "': use leave or down");
    }
    Member member =
        java.util.stream.StreamSupport.stream(
                Cluster.get(system).state().getMembers().spliterator(), false)
            .filter(m -> nodeName(m).filter(name::equals).isPresent())
            .findFirst()
            .orElseThrow(
                () ->
                    ApiException.notFound("no node named '" + name + "' in the cluster")
                        .with("node", name));
    var manager = Cluster.get(system).manager();
    if (action.equals("leave")) {
      manager.tell(Leave.create(member.address()));
    } else {
      manager.tell(new Down(member.address()));
    }
    ObjectNode out = ApiJson.MAPPER.createObjectNode();
    out.put("node", name);
    out.put("action", action);
    out.put("address", member.address().toString());
    return HttpResponse.create().withStatus(202).withEntity(ApiJson.entity(out));
  }

  private Map<String, PeerState> upPeers() {
    TreeMap<String, PeerState> out = new TreeMap<>();
    for (String name : upNodes.get()) {
      out.put(name, directory.peer(name));
    }
    return out;
  }

  private static Optional<String> nodeName(Member m) {
    return m.getRoles().stream()
        .filter(r -> r.startsWith(NodeConfig.NODE_ROLE_PREFIX))
        .map(r -> r.substring(NodeConfig.NODE_ROLE_PREFIX.length()))
        .findFirst();
  }

  private static HttpResponse ok(ObjectNode body) {
    return HttpResponse.create().withStatus(200).withEntity(ApiJson.entity(body));
  }
}
