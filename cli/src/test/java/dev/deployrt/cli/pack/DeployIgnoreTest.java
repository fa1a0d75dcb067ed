package dev.deployrt.cli.pack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeployIgnoreTest {
  private static boolean file(DeployIgnore rules, String path) {
    return rules.excludes(Path.of(path), false);
  }

  private static boolean dir(DeployIgnore rules, String path) {
    return rules.excludes(Path.of(path), true);
  }

  @Test
  void aNameWithoutSlashMatchesAtAnyDepth() {
    DeployIgnore rules = DeployIgnore.parse(List.of("*.log", "node_modules"));
    assertEquals(true, file(rules, "a.log"));
    assertEquals(true, file(rules, "deep/er/b.log"));
    assertEquals(false, file(rules, "a.log.txt"));
    assertEquals(true, dir(rules, "web/node_modules"));
  }

  @Test
  void aSlashAnchorsThePatternAtTheTop() {
    DeployIgnore rules = DeployIgnore.parse(List.of("/build", "docs/*.md"));
    assertEquals(true, dir(rules, "build"));
    assertEquals(false, dir(rules, "src/build"));
    assertEquals(true, file(rules, "docs/readme.md"));
    assertEquals(false, file(rules, "docs/api/readme.md"), "* stays within one segment");
  }

  @Test
  void doubleStarCrossesSegments() {
    DeployIgnore rules = DeployIgnore.parse(List.of("assets/**/*.map"));
    assertEquals(true, file(rules, "assets/js/app.js.map"));
    assertEquals(true, file(rules, "assets/js/vendor/lib.js.map"));
    assertEquals(false, file(rules, "assets/js/app.js"));
  }

  @Test
  void aTrailingSlashMatchesDirectoriesOnly() {
    DeployIgnore rules = DeployIgnore.parse(List.of("tmp/"));
    assertEquals(true, dir(rules, "tmp"));
    assertEquals(false, file(rules, "tmp"));
  }

  @Test
  void theLastMatchingLineWinsAndBangReincludes() {
    DeployIgnore rules =
        DeployIgnore.parse(List.of("# comment", "", "*.env", "!production.env", "secret.*"));
    assertEquals(true, file(rules, "local.env"));
    assertEquals(false, file(rules, "production.env"));
    assertEquals(true, file(rules, "secret.env"), "a later rule excludes it again");
    assertEquals(false, file(rules, "# comment"));
  }

  @Test
  void aBrokenPatternSaysWhichLine() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> DeployIgnore.parse(List.of("ok", "bad[")));
    assertEquals(true, e.getMessage().contains("bad["), e.getMessage());
  }
}
