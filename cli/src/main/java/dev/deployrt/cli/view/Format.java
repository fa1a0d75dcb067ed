package dev.deployrt.cli.view;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Text shared by the views and the read commands: sizes, event lines, outcomes and tables. */
public final class Format {
  private Format() {}

  public static String bytes(long n) {
    if (n < 0) {
      return "?";
    }
    if (n < 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = n;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(java.util.Locale.ROOT, v >= 100 ? "%.0f %s" : "%.1f %s", v, units[u]);
  }

  /**
   * A field of the server's answer, made safe for a terminal ({@link #printable}); "" when absent.
   */
  public static String text(JsonNode node, String field) {
    JsonNode v = node == null ? null : node.get(field);
    return v == null || v.isNull() ? "" : printable(v.asText());
  }

  /**
   * Server text as the terminal should show it: control characters (escape sequences, line breaks,
   * C1 controls) and the characters that reorder a line (bidirectional overrides) written as {@code
   * \\uXXXX}, so that text a client once sent (a description, an archive entry's name in an error)
   * cannot move the cursor, retitle the window or hide a line.
   */
  public static String printable(String s) {
    StringBuilder out = new StringBuilder(s.length());
    s.codePoints()
        .forEach(
            c -> {
              boolean unsafe =
                  Character.getType(c) == Character.CONTROL
                      || (c >= 0x202a && c <= 0x202e)
                      || (c >= 0x2066 && c <= 0x2069)
                      || c == 0x200e
                      || c == 0x200f;
              if (unsafe) {
                out.append(String.format("\\u%04x", c));
              } else {
                out.appendCodePoint(c);
              }
            });
    return out.toString();
  }

  /** {@code 14:03:07.123 node-1 phase extract: message} — the time part of the ISO timestamp. */
  public static String eventLine(JsonNode e) {
    String time = text(e, "time");
    int t = time.indexOf('T');
    if (t >= 0) {
      time = time.substring(t + 1).replace("Z", "");
    }
    StringBuilder line = new StringBuilder(time);
    String node = text(e, "node");
    line.append(' ').append(node.isEmpty() ? "-" : node).append(' ').append(text(e, "type"));
    String phase = text(e, "phase");
    if (!phase.isEmpty()) {
      line.append(' ').append(phase);
    }
    line.append(": ").append(text(e, "message"));
    return line.toString();
  }

  /**
   * One sentence per failure of a deployment: the overall error, then each node that did not get
   * active.
   */
  public static List<String> failures(JsonNode d) {
    List<String> lines = new ArrayList<>();
    JsonNode error = d.get("error");
    if (error != null && !error.isNull()) {
      lines.add(errorText(error));
    }
    JsonNode nodes = d.get("nodes");
    if (nodes != null) {
      for (Iterator<Map.Entry<String, JsonNode>> it = nodes.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> n = it.next();
        JsonNode nodeError = n.getValue().get("error");
        if (nodeError != null && !nodeError.isNull()) {
          String line =
              printable(n.getKey())
                  + " "
                  + text(n.getValue(), "status")
                  + " in "
                  + errorTextWithoutNode(nodeError);
          if (!lines.contains(line)) {
            lines.add(line);
          }
        } else if (!"active".equals(text(n.getValue(), "status"))) {
          lines.add(printable(n.getKey()) + " " + text(n.getValue(), "status"));
        }
      }
    }
    return lines;
  }

  private static String errorText(JsonNode error) {
    String node = text(error, "node");
    return "failed in "
        + orUnknown(text(error, "phase"))
        + (node.isEmpty() ? "" : " on " + node)
        + ": "
        + text(error, "code")
        + ": "
        + text(error, "message");
  }

  private static String errorTextWithoutNode(JsonNode error) {
    return orUnknown(text(error, "phase"))
        + ": "
        + text(error, "code")
        + ": "
        + text(error, "message");
  }

  private static String orUnknown(String phase) {
    return phase.isEmpty() ? "an unknown phase" : phase;
  }

  /** {@code succeeded on 3 of 3 nodes} and the like. */
  public static String outcome(JsonNode d) {
    JsonNode nodes = d.get("nodes");
    int total = nodes == null ? 0 : nodes.size();
    int active = 0;
    if (nodes != null) {
      for (JsonNode n : nodes) {
        active += "active".equals(text(n, "status")) ? 1 : 0;
      }
    }
    return "deployment "
        + text(d, "deployment_id")
        + " of "
        + text(d, "project")
        + " "
        + text(d, "status")
        + (total > 0
            ? ": active on " + active + " of " + total + " node" + (total == 1 ? "" : "s")
            : "");
  }

  /** Left-aligned columns, two spaces apart, header first. */
  public static String table(List<String> header, List<List<String>> rows) {
    int[] width = new int[header.size()];
    for (int i = 0; i < width.length; i++) {
      width[i] = header.get(i).length();
      for (List<String> row : rows) {
        width[i] = Math.max(width[i], row.get(i).length());
      }
    }
    StringBuilder out = new StringBuilder();
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    for (List<String> row : all) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < width.length; i++) {
        line.append(i == width.length - 1 ? row.get(i) : pad(row.get(i), width[i] + 2));
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
    return out.toString();
  }

  private static String pad(String s, int width) {
    return s + " ".repeat(Math.max(0, width - s.length()));
  }
}
