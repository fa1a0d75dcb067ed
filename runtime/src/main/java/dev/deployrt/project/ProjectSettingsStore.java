package dev.deployrt.project;

import dev.deployrt.persistence.sql.ProjectsSql;
import dev.deployrt.readmodel.SharedPool;
import dev.deployrt.rollout.Strategy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * The projects' settings, in the shared database ({@code deploy_project_settings}), so every node
 * applies the same ones. A project without a row, or a setting it never set, follows {@link
 * ProjectDefaults}. A change keeps the settings it does not name and records who made it and when.
 * Concurrent changes of one project end with one of them whole per setting (each writes the row in
 * one statement).
 *
 * <p>{@link #get} and {@link #change} run on {@code database}; {@link #read} blocks the caller.
 */
public final class ProjectSettingsStore {
  private final SharedPool pool;
  private final ProjectDefaults defaults;
  private final Executor database;

  public ProjectSettingsStore(SharedPool pool, ProjectDefaults defaults, Executor database) {
    this.pool = pool;
    this.defaults = defaults;
    this.database = database;
  }

  public CompletionStage<ProjectSettings> get(String project) {
    return CompletableFuture.supplyAsync(() -> unchecked(() -> read(project)), database);
  }

  /** Applies {@code change} (its null settings stay as they are) as {@code user}. */
  public CompletionStage<ProjectSettings> change(
      String project, ProjectSettings.Change change, String user) {
    return CompletableFuture.supplyAsync(
        () -> unchecked(() -> write(project, change, user)), database);
  }

  /** The project's settings now. Blocking. */
  public ProjectSettings read(String project) throws SQLException {
    try (Connection c = pool.connection()) {
      Stored stored = stored(c, project);
      return effective(project, stored);
    }
  }

  private ProjectSettings write(String project, ProjectSettings.Change change, String user)
      throws SQLException {
    try (Connection c = pool.connection()) {
      for (int attempt = 0; ; attempt++) {
        Stored before = stored(c, project);
        Integer releases =
            change.keepReleases() != null
                ? change.keepReleases()
                : before == null ? null : before.keepReleases();
        Integer payloads =
            change.keepPayloads() != null
                ? change.keepPayloads()
                : before == null ? null : before.keepPayloads();
        StoredRollout rollout = StoredRollout.of(before).with(change.rollout());
        Stored after = new Stored(releases, payloads, rollout, user, Instant.now().toEpochMilli());
        String sql = before == null ? ProjectsSql.INSERT_SETTINGS : ProjectsSql.UPDATE_SETTINGS;
        try (PreparedStatement s = c.prepareStatement(sql)) {
          setNullable(s, 1, after.keepReleases());
          setNullable(s, 2, after.keepPayloads());
          s.setString(3, rollout.strategy() == null ? null : rollout.strategy().apiName());
          setNullable(s, 4, rollout.canaryNodes());
          setNullable(s, 5, rollout.healthWindowS());
          if (rollout.autoRevert() == null) {
            s.setNull(6, Types.BOOLEAN);
          } else {
            s.setBoolean(6, rollout.autoRevert());
          }
          s.setString(7, user);
          s.setLong(8, after.updatedAtMs());
          s.setString(9, project);
          s.executeUpdate();
          return effective(project, after);
        } catch (SQLException raced) {
          // Another node inserted the row first: read it and update it instead (once).
          if (before != null || attempt > 0) {
            throw raced;
          }
        }
      }
    }
  }

  private ProjectSettings effective(String project, Stored stored) {
    if (stored == null) {
      return new ProjectSettings(
          project,
          defaults.keepReleases(),
          defaults.keepPayloads(),
          defaults.rollout(),
          null,
          null);
    }
    StoredRollout r = stored.rollout();
    return new ProjectSettings(
        project,
        stored.keepReleases() != null ? stored.keepReleases() : defaults.keepReleases(),
        stored.keepPayloads() != null ? stored.keepPayloads() : defaults.keepPayloads(),
        new ProjectSettings.RolloutChange(
                r.strategy(), r.canaryNodes(), r.healthWindowS(), r.autoRevert())
            .applyTo(defaults.rollout()),
        stored.updatedBy(),
        Instant.ofEpochMilli(stored.updatedAtMs()));
  }

  private record Stored(
      Integer keepReleases,
      Integer keepPayloads,
      StoredRollout rollout,
      String updatedBy,
      long updatedAtMs) {}

  /** The rollout settings a project set itself (null: the default's). */
  private record StoredRollout(
      Strategy strategy, Integer canaryNodes, Integer healthWindowS, Boolean autoRevert) {
    static StoredRollout of(Stored stored) {
      return stored == null ? new StoredRollout(null, null, null, null) : stored.rollout();
    }

    StoredRollout with(ProjectSettings.RolloutChange change) {
      return new StoredRollout(
          change.strategy() != null ? change.strategy() : strategy,
          change.canaryNodes() != null ? change.canaryNodes() : canaryNodes,
          change.healthWindowS() != null ? change.healthWindowS() : healthWindowS,
          change.autoRevert() != null ? change.autoRevert() : autoRevert);
    }
  }

  private static Stored stored(Connection c, String project) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(ProjectsSql.SELECT_SETTINGS)) {
      s.setString(1, project);
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        String strategy = rs.getString(3);
        return new Stored(
            (Integer) rs.getObject(1, Integer.class),
            (Integer) rs.getObject(2, Integer.class),
            new StoredRollout(
                strategy == null ? null : Strategy.fromApiName(strategy),
                (Integer) rs.getObject(4, Integer.class),
                (Integer) rs.getObject(5, Integer.class),
                (Boolean) rs.getObject(6, Boolean.class)),
            rs.getString(7),
            rs.getLong(8));
      }
    }
  }

  private static void setNullable(PreparedStatement s, int index, Integer value)
      throws SQLException {
    if (value == null) {
      s.setNull(index, Types.INTEGER);
    } else {
      s.setInt(index, value);
    }
  }

  private interface Query<T> {
    T run() throws SQLException;
  }

  private static <T> T unchecked(Query<T> query) {
    try {
      return query.run();
    } catch (SQLException e) {
      throw new CompletionException(e);
    }
  }
}
