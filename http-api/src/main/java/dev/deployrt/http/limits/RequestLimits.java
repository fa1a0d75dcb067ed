package dev.deployrt.http.limits;

import com.typesafe.config.Config;
import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Per-node request limits of the operations API ({@code deploy.limits}): a request rate per user (a
 * token bucket each: {@code requests-per-second} refilled continuously up to {@code request-burst})
 * and the number of uploads in progress, on the node and per user. Over a limit the request is
 * refused with 429 {@code TOO_MANY_REQUESTS} and {@code Retry-After} before anything is recorded or
 * read, so a flood costs neither journal writes nor disk.
 *
 * <p>The limits hold per node: a client spreading requests over n nodes gets n times the rate. The
 * user is the authenticated one, never a value from the request.
 */
public final class RequestLimits {
  private final long requestsPerSecond;
  private final long burst;
  private final int maxUploads;
  private final int maxUploadsPerUser;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final AtomicInteger uploads = new AtomicInteger();
  private final Map<String, AtomicInteger> uploadsByUser = new ConcurrentHashMap<>();

  public RequestLimits(long requestsPerSecond, long burst, int maxUploads, int maxUploadsPerUser) {
    if (requestsPerSecond < 0 || burst < 0 || maxUploads < 1 || maxUploadsPerUser < 1) {
      throw new IllegalArgumentException(
          "deploy.limits: rates must be 0 (off) or more, upload limits 1 or more");
    }
    this.requestsPerSecond = requestsPerSecond;
    this.burst = Math.max(burst, requestsPerSecond);
    this.maxUploads = maxUploads;
    this.maxUploadsPerUser = maxUploadsPerUser;
  }

  /** Reads {@code deploy.limits}. */
  public static RequestLimits fromConfig(Config config) {
    Config c = config.getConfig("deploy.limits");
    return new RequestLimits(
        c.getLong("requests-per-second-per-user"),
        c.getLong("request-burst-per-user"),
        c.getInt("max-concurrent-uploads"),
        c.getInt("max-concurrent-uploads-per-user"));
  }

  /** Counts one request of {@code user}; throws 429 when their bucket is empty. */
  public void admitRequest(String user) {
    if (requestsPerSecond == 0) {
      return;
    }
    Bucket bucket =
        buckets.computeIfAbsent(
            user,
            u ->
                Bucket.builder()
                    .addLimit(
                        limit ->
                            limit
                                .capacity(burst)
                                .refillGreedy(requestsPerSecond, Duration.ofSeconds(1)))
                    .build());
    ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
    if (!probe.isConsumed()) {
      long seconds =
          Math.max(
              1, TimeUnit.NANOSECONDS.toSeconds(probe.getNanosToWaitForRefill() + 999_999_999L));
      throw new ApiException(
              ErrorCode.TOO_MANY_REQUESTS,
              "more than "
                  + requestsPerSecond
                  + " requests per second from user '"
                  + user
                  + "'; retry after "
                  + seconds
                  + " s")
          .with("limit", requestsPerSecond)
          .with("retry_after", seconds);
    }
  }

  /**
   * Takes an upload slot for {@code user}, or throws 429 when the node or the user is at the limit.
   * The slot must be released exactly once; {@link UploadSlot#release()} is idempotent.
   */
  public UploadSlot startUpload(String user) {
    AtomicInteger mine = uploadsByUser.computeIfAbsent(user, u -> new AtomicInteger());
    if (mine.incrementAndGet() > maxUploadsPerUser) {
      mine.decrementAndGet();
      throw new ApiException(
              ErrorCode.TOO_MANY_REQUESTS,
              "user '"
                  + user
                  + "' already has "
                  + maxUploadsPerUser
                  + " uploads in progress on this node")
          .with("limit", maxUploadsPerUser)
          .with("retry_after", 2);
    }
    if (uploads.incrementAndGet() > maxUploads) {
      uploads.decrementAndGet();
      mine.decrementAndGet();
      throw new ApiException(
              ErrorCode.TOO_MANY_REQUESTS,
              "this node already takes " + maxUploads + " uploads at once")
          .with("limit", maxUploads)
          .with("retry_after", 2);
    }
    return new UploadSlot(mine);
  }

  /** One upload's place in the limits. */
  public final class UploadSlot {
    private final AtomicInteger mine;
    private final AtomicBoolean released = new AtomicBoolean();

    private UploadSlot(AtomicInteger mine) {
      this.mine = mine;
    }

    public void release() {
      if (released.compareAndSet(false, true)) {
        mine.decrementAndGet();
        uploads.decrementAndGet();
      }
    }
  }
}
