package dev.deployrt.readmodel;

import dev.deployrt.deployment.Deployment;
import dev.deployrt.persistence.ReadModelSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * List queries over the read model. Every filter is a column with an index that ends in the sort
 * order, so the database reads one index range for a page and counts the same range for the total;
 * nothing is sorted in memory and the journal is never scanned. Blocking: run on a blocking executor.
 */
public final class DeploymentQueries {
  private static final String T = ReadModelSchema.TABLE;

  /**
   * What to list. Null filters are not applied; {@code since} and {@code until} bound {@code
   * created_at}, both inclusive.
   */
  public record Filter(String project, String status, Instant since, Instant until, int limit, int offset) {}

  /** One page, newest first, and how many deployments match the filter in all. */
  public record Page(List<Deployment> deployments, long total) {}

  private final SharedPool pool;
  private final DeploymentRows rows;

  public DeploymentQueries(SharedPool pool, DeploymentRows rows) {
    this.pool = pool;
    this.rows = rows;
  }

  public Page list(Filter f) throws SQLException {
    StringBuilder where = new StringBuilder(" WHERE 1 = 1");
    List<Object> args = new ArrayList<>();
    if (f.project() != null) {
      where.append(" AND project = ?");
      args.add(f.project());
    }
    if (f.status() != null) {
      where.append(" AND status = ?");
      args.add(f.status());
    }
    if (f.since() != null) {
      where.append(" AND created_at_ms >= ?");
      args.add(f.since().toEpochMilli());
    }
    if (f.until() != null) {
      where.append(" AND created_at_ms <= ?");
      args.add(f.until().toEpochMilli());
    }
    try (Connection c = pool.connection()) {
      List<Deployment> page = new ArrayList<>();
      try (PreparedStatement s = c.prepareStatement("SELECT state FROM " + T + where
          + " ORDER BY created_at_ms DESC, deployment_id LIMIT ? OFFSET ?")) {
        int i = bind(s, args);
        s.setInt(i++, f.limit());
        s.setInt(i, f.offset());
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            page.add(rows.parse(rs.getString(1)));
          }
        }
      }
      long total;
      if (f.offset() == 0 && page.size() < f.limit()) {
        total = page.size(); // the page holds every match: no need to count
      } else {
        try (PreparedStatement s = c.prepareStatement("SELECT COUNT(*) FROM " + T + where)) {
          bind(s, args);
          try (ResultSet rs = s.executeQuery()) {
            rs.next();
            total = rs.getLong(1);
          }
        }
      }
      return new Page(page, total);
    }
  }

  /**
   * Whether any other deployment still holding its payload, or still running, uses the blob {@code
   * sha256}: then the bytes must stay although {@code exceptDeploymentId} gave its payload up.
   */
  public boolean blobStillNeeded(String sha256, String exceptDeploymentId) throws SQLException {
    try (Connection c = pool.connection(); PreparedStatement s = c.prepareStatement("SELECT COUNT(*) FROM " + T
        + " WHERE sha256 = ? AND deployment_id <> ? AND (payload_present OR status IN ('pending', 'distributing'))")) {
      s.setString(1, sha256);
      s.setString(2, exceptDeploymentId);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1) > 0;
      }
    }
  }

  /** How the deployments the read model shows use one blob. */
  public record BlobUse(long naming, long keeping) {
    /** At least one deployment named the bytes, and every one that did gave its payload up and finished. */
    public boolean pruned() {
      return naming > 0 && keeping == 0;
    }

    /** No deployment keeps the bytes: none names them, or every one that does gave them up. */
    public boolean unkept() {
      return keeping == 0;
    }
  }

  /**
   * The deployments naming the blob {@code sha256}, and those of them that keep it (the payload is
   * present, or the deployment is still pending or distributing).
   */
  public BlobUse blobUse(String sha256) throws SQLException {
    try (Connection c = pool.connection(); PreparedStatement s = c.prepareStatement("SELECT COUNT(*), "
        + "SUM(CASE WHEN payload_present OR status IN ('pending', 'distributing') THEN 1 ELSE 0 END) FROM " + T
        + " WHERE sha256 = ?")) {
      s.setString(1, sha256);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return new BlobUse(rs.getLong(1), rs.getLong(2));
      }
    }
  }

  private static int bind(PreparedStatement s, List<Object> args) throws SQLException {
    int i = 1;
    for (Object a : args) {
      if (a instanceof Long l) {
        s.setLong(i++, l);
      } else {
        s.setString(i++, (String) a);
      }
    }
    return i;
  }
}
