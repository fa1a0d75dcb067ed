package dev.deployrt.text;

/**
 * Text that came from a client (a description, an archive's entry name, a field name) on its way
 * into a record, a message or a log line. Control characters (C0, DEL, C1) and the Unicode
 * characters that reorder a line (bidirectional overrides and isolates) can rewrite a terminal or a
 * log viewer's display, so a record refuses them ({@link #hasControlCharacters}) and a message
 * shows them escaped ({@link #printable}).
 */
public final class ClientText {
  private ClientText() {}

  /** Whether {@code s} holds a character that must not reach a terminal as it is. */
  public static boolean hasControlCharacters(String s) {
    return s.codePoints().anyMatch(ClientText::unsafe);
  }

  /**
   * {@code s} with every unsafe character written as {@code \\uXXXX}, cut to {@code max} characters
   * (then ending in "…"); null becomes "".
   */
  public static String printable(String s, int max) {
    if (s == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(Math.min(s.length(), max + 8));
    s.codePoints()
        .forEach(
            c -> {
              if (unsafe(c)) {
                out.append(String.format("\\u%04x", c));
              } else {
                out.appendCodePoint(c);
              }
            });
    return out.length() > max ? out.substring(0, max) + "…" : out.toString();
  }

  private static boolean unsafe(int c) {
    return Character.getType(c) == Character.CONTROL
        || (c >= 0x202a && c <= 0x202e)
        || (c >= 0x2066 && c <= 0x2069)
        || c == 0x200e
        || c == 0x200f;
  }
}
