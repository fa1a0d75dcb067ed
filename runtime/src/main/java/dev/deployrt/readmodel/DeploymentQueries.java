package dev.deployrt.readmodel;

import dev.deployrt.deployment.Deployment;
import dev.deployrt.persistence.sql.ReadModelSql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * List queries over the read model. Every filter is a column with an index that ends in the sort
 * order, so the database reads one index range for a page and counts the same range for the total;
 * nothing is sorted in memory and the journal is never scanned. Blocking: run on a blocking
 * executor.
 */
public final class DeploymentQueries {
  /**
   * What to list. Null filters are not applied; {@code since} and {@code until} bound {@code
   * created_at}, both inclusive.
   */
  public record Filter(
      String project, String status, Instant since, Instant until, int limit, int offset) {
    /** Whether {@code d} matches, as the SQL of {@link Where} decides it for its row. */
    boolean matches(Deployment d) {
      long created = d.createdAt().toEpochMilli();
      return (project == null || project.equals(d.project()))
          && (status == null || status.equals(d.status().apiName()))
          && (since == null || created >= since.toEpochMilli())
          && (until == null || created <= until.toEpochMilli());
    }
  }

  /** One page, newest first, and how many deployments match the filter in all. */
  public record Page(List<Deployment> deployments, long total) {}

  /** Sort order of every list: newest first, then by id. */
  static final Comparator<Deployment> LIST_ORDER =
      Comparator.comparingLong((Deployment d) -> -d.createdAt().toEpochMilli())
          .thenComparing(Deployment::deploymentId);

  private final SharedPool pool;
  private final DeploymentRows rows;
  private final RecentWrites recentWrites = new RecentWrites();

  public DeploymentQueries(SharedPool pool, DeploymentRows rows) {
    this.pool = pool;
    this.rows = rows;
  }

  /**
   * Notes a deployment as this node just answered with it, so that this node's lists show it in
   * that state at least until the read model has caught up with it ({@link RecentWrites}).
   */
  public void answered(Deployment d) {
    recentWrites.remember(d);
  }

  /**
   * One page of the read model, with what this node answered recently and the read model does not
   * show yet merged in exactly: such a deployment appears at its place in the order, in the newer
   * of the two states (leaving a filter it no longer matches), and the total counts it once.
   */
  public Page list(Filter f) throws SQLException {
    try (Connection c = pool.connection()) {
      List<Deployment> recent = recentWrites.snapshot();
      if (recent.isEmpty()) {
        return page(c, Where.of(f, List.of()), f.offset(), f.limit());
      }
      Map<String, Deployment> inTable =
          loadAll(c, recent.stream().map(Deployment::deploymentId).toList());
      List<String> recentIds = new ArrayList<>();
      List<Deployment> added = new ArrayList<>();
      for (Deployment mine : recent) {
        Deployment row = inTable.get(mine.deploymentId());
        Deployment newer = mine;
        if (row != null && row.eventCount() >= mine.eventCount()) {
          recentWrites.caughtUp(row);
          newer = row;
        }
        recentIds.add(mine.deploymentId());
        if (f.matches(newer)) {
          added.add(newer);
        }
      }
      return merged(c, Where.of(f, recentIds), f, added);
    }
  }

  /**
   * The page of (the table's rows, without the recent deployments) + {@code added} (the recent
   * ones, in their newer state, that match). The recent ones are kept out of the table's queries,
   * so a row the projection writes meanwhile is never counted twice nor missed. Reads the table's
   * rows from {@code offset - |added|} to {@code offset + limit}: every row that can land on the
   * page is among them. The first row read stands in the merged order after the rows before it and
   * the added ones that sort before it; sorted together with the other added ones, each one stands
   * at that place plus its index (an added one past the last row read lands past the page).
   */
  private Page merged(Connection c, Where where, Filter f, List<Deployment> added)
      throws SQLException {
    int lo = Math.max(0, f.offset() - added.size());
    Page window = page(c, where, lo, f.offset() + f.limit() - lo);
    List<Deployment> rowsRead = window.deployments();
    long total = window.total() + added.size();
    if (lo > 0 && rowsRead.isEmpty()) {
      return new Page(
          List.of(), total); // fewer than offset - |added| rows: the page is past the end
    }
    List<Deployment> merged = new ArrayList<>(rowsRead);
    long firstAt = lo;
    for (Deployment mine : added) {
      if (lo > 0 && LIST_ORDER.compare(mine, rowsRead.get(0)) < 0) {
        firstAt++;
      } else {
        merged.add(mine);
      }
    }
    merged.sort(LIST_ORDER);
    int from = (int) Math.min(merged.size(), f.offset() - firstAt);
    int to = (int) Math.min(merged.size(), (long) from + f.limit());
    return new Page(new ArrayList<>(merged.subList(from, to)), total);
  }

  private Page page(Connection c, Where where, int offset, int limit) throws SQLException {
    List<Deployment> page = new ArrayList<>();
    try (PreparedStatement s = c.prepareStatement(ReadModelSql.listPage(where.sql()))) {
      int i = bind(s, where.args());
      s.setInt(i++, limit);
      s.setInt(i, offset);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          page.add(rows.parse(rs.getString(1)));
        }
      }
    }
    long total;
    if (offset == 0 && page.size() < limit) {
      total = page.size(); // the page holds every match: no need to count
    } else {
      try (PreparedStatement s = c.prepareStatement(ReadModelSql.count(where.sql()))) {
        bind(s, where.args());
        try (ResultSet rs = s.executeQuery()) {
          rs.next();
          total = rs.getLong(1);
        }
      }
    }
    return new Page(page, total);
  }

  private Map<String, Deployment> loadAll(Connection c, List<String> ids) throws SQLException {
    Map<String, Deployment> out = new HashMap<>();
    try (PreparedStatement s = c.prepareStatement(ReadModelSql.selectStatesByIds(ids.size()))) {
      for (int i = 0; i < ids.size(); i++) {
        s.setString(i + 1, ids.get(i));
      }
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          Deployment d = rows.parse(rs.getString(1));
          out.put(d.deploymentId(), d);
        }
      }
    }
    return out;
  }

  /**
   * A filter as SQL: the WHERE clause and its arguments, leaving out the deployments {@code
   * except}.
   */
  private record Where(String sql, List<Object> args) {
    static Where of(Filter f, List<String> except) {
      StringBuilder where = new StringBuilder(ReadModelSql.WHERE_ALL);
      List<Object> args = new ArrayList<>();
      if (f.project() != null) {
        where.append(ReadModelSql.AND_PROJECT);
        args.add(f.project());
      }
      if (f.status() != null) {
        where.append(ReadModelSql.AND_STATUS);
        args.add(f.status());
      }
      if (f.since() != null) {
        where.append(ReadModelSql.AND_CREATED_SINCE);
        args.add(f.since().toEpochMilli());
      }
      if (f.until() != null) {
        where.append(ReadModelSql.AND_CREATED_UNTIL);
        args.add(f.until().toEpochMilli());
      }
      if (!except.isEmpty()) {
        where.append(ReadModelSql.andDeploymentIdNotIn(except.size()));
        args.addAll(except);
      }
      return new Where(where.toString(), args);
    }
  }

  /**
   * Whether any other deployment still holding its payload, or still running, uses the blob {@code
   * sha256}: then the bytes must stay although {@code exceptDeploymentId} gave its payload up.
   */
  public boolean blobStillNeeded(String sha256, String exceptDeploymentId) throws SQLException {
    try (Connection c = pool.connection();
        PreparedStatement s = c.prepareStatement(ReadModelSql.COUNT_OTHER_BLOB_KEEPERS)) {
      s.setString(1, sha256);
      s.setString(2, exceptDeploymentId);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1) > 0;
      }
    }
  }

  /**
   * The ids of the deployments the read model shows still pending or distributing, oldest first (at
   * most {@code limit}).
   */
  public List<String> unfinished(int limit) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = pool.connection();
        PreparedStatement s = c.prepareStatement(ReadModelSql.UNFINISHED_IDS)) {
      s.setInt(1, limit);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  /** A deployment and the payload it stored. */
  public record StoredPayload(String deploymentId, String sha256) {}

  /**
   * The deployments of {@code project} past its newest {@code keep} that stored a payload, still
   * hold it and have finished: the ones payload retention reclaims (at most {@code limit}).
   */
  public List<StoredPayload> payloadsPastKeep(String project, int keep, int limit)
      throws SQLException {
    List<StoredPayload> out = new ArrayList<>();
    try (Connection c = pool.connection();
        PreparedStatement s = c.prepareStatement(ReadModelSql.STORED_PAYLOADS_PAST)) {
      s.setString(1, project);
      s.setInt(2, limit);
      s.setInt(3, keep);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          String status = rs.getString(3);
          if (rs.getBoolean(2) && !status.equals("pending") && !status.equals("distributing")) {
            out.add(new StoredPayload(rs.getString(1), rs.getString(4)));
          }
        }
      }
    }
    return out;
  }

  /** How the deployments the read model shows use one blob. */
  public record BlobUse(long naming, long keeping) {
    /**
     * At least one deployment named the bytes, and every one that did gave its payload up and
     * finished.
     */
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
    try (Connection c = pool.connection();
        PreparedStatement s = c.prepareStatement(ReadModelSql.COUNT_BLOB_USE)) {
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
