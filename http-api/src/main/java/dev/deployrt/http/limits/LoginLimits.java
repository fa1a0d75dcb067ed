package dev.deployrt.http.limits;

import com.typesafe.config.Config;
import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Limits on failed authentications ({@code deploy.limits.failed-logins-*}), applied before a
 * password is hashed or a token looked up, so a flood of wrong credentials costs neither CPU
 * (Argon2 takes ~20 MiB and tens of ms per check) nor database queries, and cannot queue real users
 * behind it.
 *
 * <p>Two budgets of failures, each a token bucket that refills over the window: one per client
 * address and one per user name. Every attempt takes one failure from each budget it is held to
 * when it starts ({@link #begin}), so attempts in flight at once cannot overdraw a budget, and
 * gives it back when it did not fail. With either budget empty the attempt is refused with 429
 * {@code TOO_MANY_REQUESTS} and {@code Retry-After}, right or wrong. So that guessing one user's
 * password from many addresses cannot lock that user out, an address from which the user signed in
 * successfully (in the last {@link #KNOWN_ADDRESS_TTL}) is held only to its own budget.
 *
 * <p>The client address is the TCP peer's, unless the peer is one of {@code
 * deploy.http.trusted-proxies}: then the nearest address in its {@code X-Forwarded-For} that is not
 * a trusted proxy ({@link #clientAddress}). A trusted proxy's own address is never a known address.
 *
 * <p>Per node: a cluster of n nodes allows n times the failures. Memory stays bounded: past {@link
 * #MAX_TRACKED} keys, buckets that have refilled (they say nothing) are dropped, and keys beyond
 * that share one overflow bucket; a bucket that still holds failures is never dropped. A full map
 * is swept at most once per {@link #SWEEP_EVERY}, so a flood of new keys does not scan it on every
 * attempt.
 */
public final class LoginLimits {
  static final int MAX_TRACKED = 10_000;
  static final Duration KNOWN_ADDRESS_TTL = Duration.ofHours(24);
  static final Duration SWEEP_EVERY = Duration.ofSeconds(1);

  private final Duration window;
  private final Set<String> trustedProxies;
  private final Budgets byAddress;
  private final Budgets byUser;

  /** "user\u0000address" → when that user last signed in from there (millis). */
  private final Map<String, Long> knownAddresses = new ConcurrentHashMap<>();

  private final SweepThrottle knownAddressSweeps = new SweepThrottle();

  public LoginLimits(long perAddress, long perUser, Duration window, Set<String> trustedProxies) {
    if (perAddress < 0 || perUser < 0 || window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException(
          "deploy.limits.failed-logins-*: counts 0 (off) or more, a positive window");
    }
    this.window = window;
    this.trustedProxies = Set.copyOf(trustedProxies);
    this.byAddress = new Budgets(perAddress);
    this.byUser = new Budgets(perUser);
  }

  /**
   * Reads {@code deploy.limits}' failed-login settings.
   *
   * @param trustedProxies {@code deploy.http.trusted-proxies}
   */
  public static LoginLimits fromConfig(Config config, List<String> trustedProxies) {
    Config c = config.getConfig("deploy.limits");
    return new LoginLimits(
        c.getLong("failed-logins-per-address"),
        c.getLong("failed-logins-per-user"),
        c.getDuration("failed-logins-window"),
        Set.copyOf(trustedProxies));
  }

  /**
   * The client's address: {@code peer}, or, when {@code peer} is a trusted proxy, the last address
   * of {@code forwardedFor} that is not one (a client can put anything first; each trusted proxy
   * appends the address it saw).
   */
  public String clientAddress(String peer, Optional<String> forwardedFor) {
    if (!trustedProxies.contains(peer) || forwardedFor.isEmpty()) {
      return peer;
    }
    String[] hops = forwardedFor.get().split(",");
    for (int i = hops.length - 1; i >= 0; i--) {
      String hop = hops[i].strip();
      if (!hop.isEmpty() && !trustedProxies.contains(hop)) {
        return hop;
      }
    }
    return peer;
  }

  /**
   * Starts a sign-in of {@code user} (null for a token) from {@code address}, taking one failure
   * from each budget it is held to; throws 429 if one is empty. End it with {@link Attempt#failed}
   * or {@link Attempt#succeeded}, or {@link Attempt#undecided} when the credentials were not
   * judged.
   */
  public Attempt begin(String user, String address) {
    Bucket addressBucket = byAddress.take(address);
    if (addressBucket == Budgets.EMPTY) {
      throw refused(byAddress.get(address), "from " + address);
    }
    Bucket userBucket = null;
    if (user != null && !isKnown(user, address)) {
      userBucket = byUser.take(user);
      if (userBucket == Budgets.EMPTY) {
        Budgets.giveBack(addressBucket);
        throw refused(byUser.get(user), "for user '" + user + "'");
      }
    }
    return new Attempt(user, address, addressBucket, userBucket);
  }

  /** One sign-in in progress, holding a failure from each budget it is counted against. */
  public final class Attempt {
    private final String user;
    private final String address;
    private final Bucket addressBucket;
    private final Bucket userBucket;

    private Attempt(String user, String address, Bucket addressBucket, Bucket userBucket) {
      this.user = user;
      this.address = address;
      this.addressBucket = addressBucket;
      this.userBucket = userBucket;
    }

    /** The credentials were wrong: the failures stay spent. */
    public void failed() {
      // nothing to give back
    }

    /** The credentials were right: the failures are given back, and the address becomes known. */
    public void succeeded() {
      undecided();
      if (user != null && !trustedProxies.contains(address)) {
        remember(user, address);
      }
    }

    /** The credentials were not judged (the store was unavailable, too busy): nothing is spent. */
    public void undecided() {
      Budgets.giveBack(addressBucket);
      Budgets.giveBack(userBucket);
    }
  }

  private void remember(String user, String address) {
    if (knownAddresses.size() >= MAX_TRACKED && knownAddressSweeps.due()) {
      long expired = System.currentTimeMillis() - KNOWN_ADDRESS_TTL.toMillis();
      knownAddresses.values().removeIf(t -> t < expired);
    }
    if (knownAddresses.size() >= MAX_TRACKED) {
      return; // full of recent sign-ins: this one is simply not remembered
    }
    knownAddresses.put(user + "\u0000" + address, System.currentTimeMillis());
  }

  private boolean isKnown(String user, String address) {
    Long at = knownAddresses.get(user + "\u0000" + address);
    return at != null && at > System.currentTimeMillis() - KNOWN_ADDRESS_TTL.toMillis();
  }

  private static ApiException refused(Bucket bucket, String whose) {
    long nanos =
        bucket == null
            ? TimeUnit.SECONDS.toNanos(1)
            : bucket.estimateAbilityToConsume(1).getNanosToWaitForRefill();
    long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(nanos + 999_999_999L));
    return new ApiException(
            ErrorCode.TOO_MANY_REQUESTS,
            "too many failed sign-ins " + whose + "; retry after " + seconds + " s")
        .with("retry_after", seconds);
  }

  /** One budget per key (an address, a user name), bounded in number. */
  private final class Budgets {
    /** Returned by {@link #take} when the budget is spent. */
    static final Bucket EMPTY =
        Bucket.builder().addLimit(l -> l.capacity(1).refillGreedy(1, Duration.ofDays(1))).build();

    private final long capacity;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final SweepThrottle sweeps = new SweepThrottle();
    private final Bucket overflow;

    Budgets(long capacity) {
      this.capacity = capacity;
      this.overflow = capacity == 0 ? null : newBucket();
    }

    /**
     * Takes one failure for {@code key}: its bucket (null when the limit is off), or {@link
     * #EMPTY}.
     */
    Bucket take(String key) {
      if (capacity == 0) {
        return null;
      }
      Bucket bucket = buckets.get(key);
      if (bucket == null) {
        if (buckets.size() >= MAX_TRACKED && sweeps.due()) {
          buckets.values().removeIf(b -> b.getAvailableTokens() >= capacity);
        }
        bucket =
            buckets.size() >= MAX_TRACKED
                ? overflow
                : buckets.computeIfAbsent(key, k -> newBucket());
      }
      return bucket.tryConsume(1) ? bucket : EMPTY;
    }

    Bucket get(String key) {
      return buckets.getOrDefault(key, overflow);
    }

    static void giveBack(Bucket bucket) {
      if (bucket != null && bucket != EMPTY) {
        bucket.addTokens(1);
      }
    }

    private Bucket newBucket() {
      return Bucket.builder()
          .addLimit(limit -> limit.capacity(capacity).refillGreedy(capacity, window))
          .build();
    }
  }

  /** Says when a full map may be swept: at most once per {@link #SWEEP_EVERY}, across threads. */
  private static final class SweepThrottle {
    private final AtomicLong nextAt = new AtomicLong(System.nanoTime());

    boolean due() {
      long now = System.nanoTime();
      long next = nextAt.get();
      return now - next >= 0 && nextAt.compareAndSet(next, now + SWEEP_EVERY.toNanos());
    }
  }
}
