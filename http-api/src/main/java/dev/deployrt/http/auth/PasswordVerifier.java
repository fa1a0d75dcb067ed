package dev.deployrt.http.auth;

import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Checks passwords against their Argon2id hashes on two threads of its own with a queue of 32: a
 * check costs ~20 MiB and tens of milliseconds, so past the queue a check is refused with 429
 * (retry shortly) instead of queueing without bound. The failed-login limits keep floods from
 * reaching it.
 */
final class PasswordVerifier {
  private static final int THREADS = 2;
  private static final int QUEUE = 32;

  private final ThreadPoolExecutor verifiers =
      new ThreadPoolExecutor(
          THREADS,
          THREADS,
          0,
          TimeUnit.SECONDS,
          new ArrayBlockingQueue<>(QUEUE),
          r -> {
            Thread t = new Thread(r, "password-verifier");
            t.setDaemon(true);
            return t;
          });
  private final AtomicLong checks = new AtomicLong();

  /** Whether {@code password} matches {@code hash} (false for a null hash, after as much work). */
  CompletionStage<Boolean> verify(String password, String hash) {
    try {
      return CompletableFuture.supplyAsync(
          () -> {
            checks.incrementAndGet();
            return PasswordHashing.verify(password, hash);
          },
          verifiers);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(
          new ApiException(
                  ErrorCode.TOO_MANY_REQUESTS,
                  "too many logins are being checked at once; retry shortly")
              .with("retry_after", 1));
    }
  }

  /** Passwords hashed for checking so far. */
  long checks() {
    return checks.get();
  }

  void shutdown() {
    verifiers.shutdown();
  }
}
