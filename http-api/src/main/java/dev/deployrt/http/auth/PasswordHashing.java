package dev.deployrt.http.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Passwords are hashed with Argon2id (Bouncy Castle's implementation), salted, with OWASP's minimum
 * parameters: 19 MiB of memory, 2 passes, 1 lane. The result is a self-describing PHC string
 * ({@code $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>}, unpadded Base64), so stronger parameters
 * can be introduced later and older hashes still verify; hashes written by earlier versions
 * (password4j, the same format) verify too. Deliberately slow (tens of milliseconds): callers cache
 * verified credentials and bound how many verifications run at once. The 19 MiB are allocated per
 * call and released after it (password4j kept a 19 MiB template per parameter set in the heap for
 * good).
 */
final class PasswordHashing {
  private static final int MEMORY_KIB = 19 * 1024;
  private static final int ITERATIONS = 2;
  private static final int LANES = 1;
  private static final int SALT_BYTES = 16;
  private static final int HASH_BYTES = 32;

  /** Refused beyond this, so a planted hash cannot make a login allocate without bound. */
  private static final int MAX_MEMORY_KIB = 1024 * 1024;

  private static final int MAX_ITERATIONS = 64;
  private static final int MAX_LANES = 16;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();

  /** Verified against when the user does not exist, so timing does not tell which names exist. */
  private static final String DUMMY = hash("not a password of anyone");

  private PasswordHashing() {}

  static String hash(String password) {
    byte[] salt = new byte[SALT_BYTES];
    RANDOM.nextBytes(salt);
    byte[] hash = argon2id(password, salt, MEMORY_KIB, ITERATIONS, LANES, HASH_BYTES);
    return "$argon2id$v=19$m="
        + MEMORY_KIB
        + ",t="
        + ITERATIONS
        + ",p="
        + LANES
        + "$"
        + B64.encodeToString(salt)
        + "$"
        + B64.encodeToString(hash);
  }

  /** False for a wrong password and for a stored hash this cannot read (never throws for it). */
  static boolean verify(String password, String storedHash) {
    if (storedHash == null) {
      verify(password, DUMMY);
      return false;
    }
    // $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
    String[] parts = storedHash.split("\\$", -1);
    if (parts.length != 6
        || !parts[0].isEmpty()
        || !parts[1].equals("argon2id")
        || !parts[2].equals("v=19")) {
      return false;
    }
    try {
      int memory = -1;
      int iterations = -1;
      int lanes = -1;
      for (String param : parts[3].split(",", -1)) {
        int value = Integer.parseInt(param.substring(param.indexOf('=') + 1));
        switch (param.substring(0, Math.max(0, param.indexOf('=')))) {
          case "m" -> memory = value;
          case "t" -> iterations = value;
          case "p" -> lanes = value;
          default -> {
            return false;
          }
        }
      }
      if (lanes < 1
          || lanes > MAX_LANES
          || iterations < 1
          || iterations > MAX_ITERATIONS
          || memory < 8 * lanes
          || memory > MAX_MEMORY_KIB) {
        return false;
      }
      byte[] salt = Base64.getDecoder().decode(parts[4]);
      byte[] expected = Base64.getDecoder().decode(parts[5]);
      if (salt.length < 8 || expected.length < 4) {
        return false;
      }
      byte[] actual = argon2id(password, salt, memory, iterations, lanes, expected.length);
      return MessageDigest.isEqual(actual, expected);
    } catch (IllegalArgumentException e) { // a number or Base64 that does not parse
      return false;
    }
  }

  private static byte[] argon2id(
      String password, byte[] salt, int memoryKib, int iterations, int lanes, int length) {
    Argon2BytesGenerator generator = new Argon2BytesGenerator();
    generator.init(
        new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
            .withVersion(Argon2Parameters.ARGON2_VERSION_13)
            .withMemoryAsKB(memoryKib)
            .withIterations(iterations)
            .withParallelism(lanes)
            .withSalt(salt)
            .build());
    byte[] out = new byte[length];
    generator.generateBytes(password.getBytes(StandardCharsets.UTF_8), out);
    return out;
  }
}
