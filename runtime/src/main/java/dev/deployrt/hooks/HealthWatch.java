package dev.deployrt.hooks;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Watches a node's health hook after a switch: polls it every {@code interval} for the health
 * window, and fails once {@code failures} polls in a row failed (a poll fails on a non-2xx answer,
 * no answer within the hook's timeout, or a command's non-zero exit). A service that is still
 * starting gets {@code failures - 1} polls of grace. Blocking; stops early when the caller cancels.
 */
public final class HealthWatch {
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(5))
          .followRedirects(HttpClient.Redirect.NEVER)
          .build();

  private final HookRunner runner;

  public HealthWatch(HookRunner runner) {
    this.runner = runner;
  }

  /** How a watch ended: passed, or failed with the last poll's reason. */
  public record Result(boolean healthy, int polls, String reason) {}

  /** One poll's failure, or null if it passed. */
  @FunctionalInterface
  interface Probe {
    String poll() throws IOException;
  }

  public Result watch(
      ProjectHooks.Health hook,
      Duration window,
      Path cwd,
      Map<String, String> env,
      BooleanSupplier cancelled)
      throws IOException {
    Probe probe =
        hook.url() != null ? () -> pollUrl(hook) : () -> pollCommand(hook, cwd, env, cancelled);
    return watch(probe, hook.interval(), hook.failures(), window, cancelled);
  }

  static Result watch(
      Probe probe, Duration interval, int failures, Duration window, BooleanSupplier cancelled)
      throws IOException {
    long end = System.nanoTime() + window.toNanos();
    int polls = 0;
    int failedInARow = 0;
    while (true) {
      long next = System.nanoTime() + interval.toNanos();
      String failure = probe.poll();
      polls++;
      failedInARow = failure == null ? 0 : failedInARow + 1;
      if (failedInARow >= failures) {
        return new Result(false, polls, failure);
      }
      if (System.nanoTime() - end >= 0) {
        return new Result(true, polls, null);
      }
      while (System.nanoTime() - next < 0) {
        if (cancelled.getAsBoolean()) {
          throw new CancellationException("cancelled during the health watch");
        }
        LockSupport.parkNanos(
            Math.min(next - System.nanoTime(), TimeUnit.MILLISECONDS.toNanos(50)));
      }
    }
  }

  private static String pollUrl(ProjectHooks.Health hook) {
    HttpRequest request = HttpRequest.newBuilder(hook.url()).timeout(hook.timeout()).GET().build();
    try {
      HttpResponse<Void> response = HTTP.send(request, HttpResponse.BodyHandlers.discarding());
      int status = response.statusCode();
      return status >= 200 && status < 300 ? null : hook.url() + " answered " + status;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CancellationException("interrupted during the health watch");
    } catch (IOException e) {
      return hook.url() + " did not answer: " + e;
    }
  }

  private String pollCommand(
      ProjectHooks.Health hook, Path cwd, Map<String, String> env, BooleanSupplier cancelled)
      throws IOException {
    HookRunner.Run run = runner.run("health", hook.command(), cwd, env, cancelled);
    if (run.ok()) {
      return null;
    }
    String said =
        run.lastLines().isEmpty() ? "" : ": " + run.lastLines().get(run.lastLines().size() - 1);
    return run.summary() + said;
  }
}
