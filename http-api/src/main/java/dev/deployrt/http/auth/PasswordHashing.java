package dev.deployrt.http.auth;

import com.password4j.Argon2Function;
import com.password4j.Password;
import com.password4j.types.Argon2;

/**
 * Passwords are hashed with Argon2id (password4j), salted, with OWASP's minimum parameters: 19 MiB of
 * memory, 2 passes, 1 lane. The result is a self-describing PHC string, so stronger parameters can be
 * introduced later and older hashes still verify. Deliberately slow (tens of milliseconds): callers
 * cache verified credentials and bound how many verifications run at once.
 */
final class PasswordHashing {
  private static final Argon2Function ARGON2 = Argon2Function.getInstance(19 * 1024, 2, 1, 32, Argon2.ID);
  /** Verified against when the user does not exist, so timing does not tell which names exist. */
  private static final String DUMMY = hash("not a password of anyone");

  private PasswordHashing() {}

  static String hash(String password) {
    return Password.hash(password).addRandomSalt(16).with(ARGON2).getResult();
  }

  static boolean verify(String password, String storedHash) {
    if (storedHash == null) {
      Argon2Function.getInstanceFromHash(DUMMY).check(password, DUMMY);
      return false;
    }
    return Argon2Function.getInstanceFromHash(storedHash).check(password, storedHash);
  }
}
