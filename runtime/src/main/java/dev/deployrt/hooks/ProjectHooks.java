package dev.deployrt.hooks;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One node's hooks for one project ({@code deploy.hooks.<project>}), each null when not configured.
 * They come only from the node's configuration, never from a payload or the API.
 *
 * @param check run in the new release's directory before the switch; failing it fails the node
 *     ({@code CHECK_FAILED}) and the release is never switched to
 * @param activate run after each switch (also a revert's); failing it fails the node ({@code
 *     ACTIVATE_FAILED})
 * @param health polled for the rollout's health window after the switch ({@code HEALTH_FAILED})
 */
public record ProjectHooks(Command check, Command activate, Health health) {
  public static final ProjectHooks NONE = new ProjectHooks(null, null, null);

  /**
   * A command: an argv list run without a shell, killed (with its children) after {@code timeout}.
   */
  public record Command(List<String> argv, Duration timeout) {
    public Command {
      argv = List.copyOf(argv);
    }
  }

  /**
   * A health hook: an HTTP URL ({@code GET}, healthy on 2xx) or a command (healthy on exit 0),
   * polled every {@code interval}; {@code failures} failed polls in a row fail the node. Each poll
   * may take {@code timeout}.
   */
  public record Health(
      URI url, Command command, Duration interval, int failures, Duration timeout) {
    /** What the hook polls, for messages. */
    public String describe() {
      return url != null ? url.toString() : String.join(" ", command.argv());
    }
  }

  /** The names of the hooks configured: {@code check}, {@code activate}, {@code health}. */
  public List<String> configured() {
    List<String> out = new ArrayList<>();
    if (check != null) {
      out.add("check");
    }
    if (activate != null) {
      out.add("activate");
    }
    if (health != null) {
      out.add("health");
    }
    return out;
  }
}
