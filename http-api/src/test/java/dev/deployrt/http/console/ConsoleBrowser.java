package dev.deployrt.http.console;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A headless Chromium, from Debian's {@code chromium} and {@code chromium-driver} packages, driven
 * through its chromedriver: nothing is downloaded (Selenium Manager is never asked, because both
 * paths are given). Where they are not installed, the tests using it are skipped with a message,
 * except under {@code CI=true}, where they fail ({@code .ci/run} installs them).
 *
 * <p>Every message the page logs at error level (a failed script, a CSP violation, a request that
 * failed) is collected; {@link #assertNoConsoleErrors} fails the test on any that it was not told
 * to expect.
 */
public final class ConsoleBrowser implements AutoCloseable {
  static final Path CHROMIUM =
      Path.of(System.getenv().getOrDefault("DEPLOY_TEST_CHROMIUM", "/usr/bin/chromium"));
  static final Path CHROMEDRIVER =
      Path.of(System.getenv().getOrDefault("DEPLOY_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"));
  static final Duration WAIT = Duration.ofSeconds(60);
  static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

  public final ChromeDriver driver;
  private final ChromeDriverService service;
  private final Path profile;
  private final List<String> errors = new ArrayList<>();

  /** Skips (or, under CI, fails) when Chromium or its driver is not installed. */
  public static void requireChromium() {
    boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    if (!present && "true".equals(System.getenv("CI"))) {
      fail(
          "CI=true but "
              + CHROMIUM
              + " or "
              + CHROMEDRIVER
              + " is missing: install Debian's chromium and chromium-driver (.ci/run does)");
    }
    Assumptions.assumeTrue(
        present,
        "the console's browser tests need Debian's chromium and chromium-driver "
            + "(apt-get install chromium chromium-driver)");
  }

  public ConsoleBrowser() {
    this(false);
  }

  /**
   * @param trustAnyCertificate accept the node's self-signed test certificate (tests over https)
   */
  public ConsoleBrowser(boolean trustAnyCertificate) {
    try {
      profile = Files.createTempDirectory("console-chromium-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--user-data-dir=" + profile,
        "--window-size=1280,900");
    if (trustAnyCertificate) {
      options.addArguments("--ignore-certificate-errors");
    }
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .build();
    driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
  }

  public void open(String url) {
    driver.get(url);
  }

  public WebElement find(String testId) {
    return driver.findElement(testId(testId));
  }

  public List<WebElement> findAll(String testId) {
    return driver.findElements(testId(testId));
  }

  public static By testId(String id) {
    return By.cssSelector("[data-testid='" + id + "']");
  }

  public <T> T await(String what, Function<WebDriver, T> condition) {
    try {
      return new WebDriverWait(driver, WAIT, Duration.ofMillis(100)).until(condition);
    } catch (org.openqa.selenium.TimeoutException e) {
      throw new AssertionError(
          "timed out waiting for " + what + "; page text:\n" + bodyText() + "\n" + errors, e);
    }
  }

  /** Waits until an element with this test id is on the page and returns it. */
  public WebElement awaitVisible(String testId) {
    return await(
        testId,
        d -> {
          List<WebElement> found = d.findElements(testId(testId));
          return found.isEmpty() || !found.get(0).isDisplayed() ? null : found.get(0);
        });
  }

  public void awaitText(String testId, String text) {
    await(
        testId + " = " + text,
        d -> {
          List<WebElement> found = d.findElements(testId(testId));
          return !found.isEmpty() && found.get(0).getText().strip().equals(text);
        });
  }

  public String bodyText() {
    try {
      return driver.findElement(By.tagName("body")).getText();
    } catch (RuntimeException e) {
      return "(no body: " + e + ")";
    }
  }

  public Object script(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  public Object asyncScript(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeAsyncScript(script, args);
  }

  /**
   * Saves a screenshot at {@code width} px as {@code target/console-screenshots/<name>-<w>.png}.
   */
  public Path screenshot(String name, int width) {
    driver.manage().window().setSize(new Dimension(width, width < 600 ? 844 : 900));
    await(
        "a " + width + " px wide window",
        d -> ((Number) script("return window.innerWidth")).intValue() <= width);
    try {
      Files.createDirectories(SCREENSHOTS);
      Path file = SCREENSHOTS.resolve(name + "-" + width + ".png");
      Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Collects what the page logged since the last call. */
  private void collect() {
    for (LogEntry entry : driver.manage().logs().get(LogType.BROWSER)) {
      if (entry.getLevel().intValue() >= Level.SEVERE.intValue()) {
        errors.add(entry.getMessage());
      }
    }
  }

  /**
   * Fails on any error the page logged (script errors, CSP violations, failed requests) except
   * those matching one of {@code expected}; forgets them afterwards.
   */
  public void assertNoConsoleErrors(Pattern... expected) {
    collect();
    List<String> unexpected = new ArrayList<>();
    for (String e : errors) {
      boolean allowed = false;
      for (Pattern p : expected) {
        allowed |= p.matcher(e).find();
      }
      if (!allowed) {
        unexpected.add(e);
      }
    }
    errors.clear();
    if (!unexpected.isEmpty()) {
      fail("the console logged errors:\n" + String.join("\n", unexpected));
    }
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      service.stop();
      try (var files = Files.walk(profile)) {
        files
            .sorted(java.util.Comparator.reverseOrder())
            .forEach(p -> p.toFile().delete()); // best effort: Chromium may still be writing
      } catch (IOException e) {
        // a leftover temp profile is harmless
      }
    }
  }
}
