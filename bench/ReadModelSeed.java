import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.deployment.DeploymentEventHandler;
import dev.deployrt.deployment.DeploymentStatus;
import dev.deployrt.deployment.ErrorInfo;
import dev.deployrt.deployment.NodeStatus;
import dev.deployrt.persistence.DatabaseConfig;
import dev.deployrt.persistence.SchemaMigrations;
import dev.deployrt.readmodel.DeploymentRows;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Fills the read model with synthetic deployments for bench/readmodel-bench.sh: ROWS rows over
 * PROJECTS projects (named p0, p1, ...), one every 30 s back from now, three of four succeeded on
 * three nodes, the rest failed. Rows are built with the entity's own event handler and written with
 * the projection's own row code, so they are what the node itself would store.
 * Usage: java -cp <node classpath> bench/ReadModelSeed.java DATA_DIR DB_URL ROWS PROJECTS
 *        (DB_URL empty: the embedded H2 database under DATA_DIR, as the node uses it)
 */
public class ReadModelSeed {
  public static void main(String[] args) throws Exception {
    Path dataDir = Path.of(args[0]);
    String url = args[1];
    int rows = Integer.parseInt(args[2]);
    int projects = Integer.parseInt(args[3]);
    Config base = ConfigFactory.parseMap(Map.of("deploy.db.url", url, "deploy.db.user",
        url.isEmpty() ? "" : "postgres", "deploy.db.password", "", "deploy.db.max-connections", 2));
    Config db = DatabaseConfig.overlay(base, dataDir).withFallback(base);
    SchemaMigrations.migrate(db);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "seed");
    try (Connection c = DatabaseConfig.connect(db)) {
      c.setAutoCommit(false);
      DeploymentRows writer = new DeploymentRows(system);
      Random random = new Random(42);
      Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
      List<String> nodes = List.of("node-1", "node-2", "node-3");
      for (int i = 0; i < rows; i++) {
        String id = UUID.randomUUID().toString();
        Instant at = now.minusSeconds(30L * (rows - i));
        String project = "p" + random.nextInt(projects);
        Deployment d = DeploymentEventHandler.apply(Deployment.empty(id),
            new DeploymentEntity.Created(project, "seeded " + i, "admin", "node-1", null, at));
        if (i % 4 == 3) {
          d = DeploymentEventHandler.apply(d, new DeploymentEntity.UploadFailed(
              new ErrorInfo("bad archive", "INVALID_ARCHIVE", "upload", "node-1"), at.plusSeconds(1)));
        } else {
          String sha = String.format("%064x", i);
          d = DeploymentEventHandler.apply(d, new DeploymentEntity.PayloadStored(sha, 1_000_000L, nodes,
              at.plus(Duration.ofMinutes(10)), at.plusSeconds(1)));
          for (String node : nodes) {
            d = DeploymentEventHandler.apply(d,
                new DeploymentEntity.NodeStatusChanged(node, NodeStatus.ACTIVE, null, at.plusSeconds(2)));
          }
          d = DeploymentEventHandler.apply(d,
              new DeploymentEntity.Completed(DeploymentStatus.SUCCEEDED, null, at.plusSeconds(2)));
        }
        writer.save(c, d);
        if (i % 1000 == 999) {
          c.commit();
        }
      }
      c.commit();
    } finally {
      system.terminate();
    }
    System.out.println("seeded " + rows + " deployments over " + projects + " projects");
  }
}
