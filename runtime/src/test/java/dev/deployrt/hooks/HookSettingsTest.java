package dev.deployrt.hooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HookSettingsTest {
  private static HookSettings parse(String hocon) {
    return HookSettings.fromConfig(ConfigFactory.parseString(hocon));
  }

  @Test
  void readsEachProjectsHooksWithDefaults() {
    HookSettings s =
        parse(
            "hooks.web { check { command = [\"bin/selftest\", \"--quick\"] }\n"
                + "activate { command = [\"systemctl\", \"reload\", \"web\"], timeout = 5s }\n"
                + "health { url = \"http://127.0.0.1:8080/healthz\" } }\n"
                + "hooks.api.health { command = [\"bin/ping\"], interval = 500ms, failures = 2 }");
    ProjectHooks web = s.of("web");
    assertEquals(List.of("bin/selftest", "--quick"), web.check().argv());
    assertEquals(Duration.ofSeconds(60), web.check().timeout());
    assertEquals(Duration.ofSeconds(5), web.activate().timeout());
    assertEquals("http://127.0.0.1:8080/healthz", web.health().url().toString());
    assertEquals(Duration.ofSeconds(2), web.health().interval());
    assertEquals(3, web.health().failures());
    ProjectHooks api = s.of("api");
    assertNull(api.check());
    assertEquals(List.of("bin/ping"), api.health().command().argv());
    assertEquals(2, api.health().failures());
    assertEquals(ProjectHooks.NONE, s.of("other"));
    assertEquals(
        Map.of("web", List.of("check", "activate", "health"), "api", List.of("health")),
        s.configured());
  }

  @Test
  void mistakesAreRefusedNamingTheSetting() {
    for (String[] bad :
        new String[][] {
          {"hooks.web.check.command = \"bin/selftest --quick\"", "deploy.hooks.web.check.command"},
          {"hooks.web.check.command = []", "must name a program"},
          {"hooks.web.deploy.command = [\"x\"]", "deploy.hooks.web.deploy: unknown hook"},
          {"hooks.web.check { command = [\"x\"], shell = true }", "deploy.hooks.web.check.shell"},
          {"hooks.web.health { url = \"http://x/\", command = [\"x\"] }", "exactly one of url"},
          {"hooks.web.health { url = \"file:///etc/passwd\" }", "http or https"},
          {"hooks.web.health { url = \"http://x/\", failures = 0 }", "failures must be"},
          {"hooks.Web.check.command = [\"x\"]", "not a project name"},
        }) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> parse(bad[0]), bad[0]);
      assertTrue(e.getMessage().contains(bad[1]), bad[0] + " → " + e.getMessage());
    }
  }
}
