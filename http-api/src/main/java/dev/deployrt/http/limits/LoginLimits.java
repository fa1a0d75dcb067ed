package dev.deployrt.http.limits;

import com.typesafe.config.Config;
import dev.deployrt.http.ApiException;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Limits on failed authentications ({@code deploy.limits.failed-logins-*}), checked before a password
 * is hashed or a token looked up, so a flood of wrong credentials costs neither CPU (Argon2 takes
 * ~20 MiB and tens of ms per check) nor database queries, and cannot queue real users behind it.
 *
 * <p>Two budgets of failures, each a token bucket that refills over the window: one per client address
 * (the TCP peer, never a header a client could set) and one per user name. Past either, the attempt is
 * refused with 429 {@code TOO_MANY_REQUESTS} and {@code Retry-After}, right or wrong, until the bucket
 * refills. Only failures spend from them. So that guessing one user's password from many addresses
 * cannot lock that user out, an address from which the user signed in successfully (in the last
 * {@link #KNOWN_ADDRESS_TTL}) is not held to that user's budget, only to its own.
 *
 * <p>Per node: a cluster of n nodes allows n times the failures. Memory stays bounded: a bucket that has
 * refilled says nothing and is dropped when the maps grow past {@link #MAX_TRACKED}.
 */
public final class LoginLimits {
  static final int MAX_TRACKED = 10_000;
  static final Duration KNOWN_ADDRESS_TTL = Duration.ofHours(24);

  private final long perAddress;
  private final long perUser;
  private final Duration window;
  private final Map<String, Bucket> byAddress = new ConcurrentHashMap<>();
  private final Map<String, Bucket> byUser = new ConcurrentHashMap<>();
  /** "user\u0000address" → when that user last signed in from there (millis). */
  private final Map<String, Long> knownAddresses = new ConcurrentHashMap<>();

  public LoginLimits(long perAddress, long perUser, Duration window) {
    if (perAddress < 0 || perUser < 0 || window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("deploy.limits.failed-logins-*: counts 0 (off) or more, a positive window");
    }
    this.perAddress = perAddress;
    this.perUser = perUser;
    this.window = window;
  }

  public static LoginLimits fromConfig(Config config) {
    Config c = config.getConfig("deploy.limits");
    return new LoginLimits(c.getLong("failed-logins-per-address"), c.getLong("failed-logins-per-user"),
        c.getDuration("failed-logins-window"));
  }

  /** Throws 429 if {@code address}, or {@code user} (null for a token) from there, is out of failures. */
  public void check(String user, String address) {
    refuseIfEmpty(byAddress.get(address), "from " + address);
    if (user != null && !isKnown(user, address)) {
      refuseIfEmpty(byUser.get(user), "for user '" + user + "'");
    }
  }

  /** Spends one failure of {@code address} and of {@code user} (null for a token). */
  public void failed(String user, String address) {
    spend(byAddress, address, perAddress);
    if (user != null) {
      spend(byUser, user, perUser);
    }
  }

  /** Remembers that {@code user} signed in from {@code address}. */
  public void succeeded(String user, String address) {
    if (knownAddresses.size() >= MAX_TRACKED) {
      long expired = System.currentTimeMillis() - KNOWN_ADDRESS_TTL.toMillis();
      knownAddresses.values().removeIf(t -> t < expired);
      if (knownAddresses.size() >= MAX_TRACKED) {
        knownAddresses.clear();
      }
    }
    knownAddresses.put(user + "\u0000" + address, System.currentTimeMillis());
  }

  private boolean isKnown(String user, String address) {
    Long at = knownAddresses.get(user + "\u0000" + address);
    return at != null && at > System.currentTimeMillis() - KNOWN_ADDRESS_TTL.toMillis();
  }

  private void refuseIfEmpty(Bucket bucket, String whose) {
    if (bucket == null || bucket.getAvailableTokens() > 0) {
      return;
    }
    long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(bucket.estimateAbilityToConsume(1).getNanosToWaitForRefill()
        + 999_999_999L));
    throw new ApiException(429, "TOO_MANY_REQUESTS", "too many failed sign-ins " + whose + "; retry after " + seconds
        + " s").with("retry_after", seconds);
  }

  private void spend(Map<String, Bucket> buckets, String key, long capacity) {
    if (capacity == 0) {
      return;
    }
    if (buckets.size() >= MAX_TRACKED && !buckets.containsKey(key)) {
      buckets.values().removeIf(b -> b.getAvailableTokens() >= capacity);
      if (buckets.size() >= MAX_TRACKED) {
        buckets.clear(); // flooded with distinct keys: start over rather than grow
      }
    }
    buckets.computeIfAbsent(key, k -> Bucket.builder()
            .addLimit(limit -> limit.capacity(capacity).refillGreedy(capacity, window))
            .build())
        .tryConsume(1);
  }
}
