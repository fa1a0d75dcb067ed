package dev.deployrt.http.auth;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PasswordHashingTest {
  /**
   * Written by password4j 1.8.4 (the hashing library of earlier versions) for the same parameters.
   */
  private static final String EARLIER_VERSION_HASH =
      "$argon2id$v=19$m=19456,t=2,p=1$ReVdMCREKAuu9255R2Im4Q$SgSbbNtN0nxEGYlc0foIx9vIgHF9h9sAEq08Qp5UECA";

  @Test
  void aHashVerifiesItsPasswordOnly() {
    String hash = PasswordHashing.hash("s3cret pass");
    assertTrue(
        hash.matches(
            "\\$argon2id\\$v=19\\$m=19456,t=2,p=1\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}"),
        hash);
    assertTrue(PasswordHashing.verify("s3cret pass", hash));
    assertFalse(PasswordHashing.verify("s3cret pasS", hash));
    assertNotEquals(hash, PasswordHashing.hash("s3cret pass"), "a fresh salt each time");
  }

  @Test
  void hashesWrittenByTheEarlierLibraryStillVerify() {
    assertTrue(PasswordHashing.verify("correct horse battery staple", EARLIER_VERSION_HASH));
    assertFalse(PasswordHashing.verify("correct horse battery stapl", EARLIER_VERSION_HASH));
  }

  @Test
  void aStoredHashThatCannotBeReadNeverMatches() {
    String good = EARLIER_VERSION_HASH;
    for (String bad :
        new String[] {
          "",
          "plain",
          good.replace("argon2id", "argon2i"),
          good.replace("v=19", "v=16"),
          good.replace("m=19456", "m=99999999"),
          good.replace("t=2", "t=x"),
          good.replace("p=1", "q=1"),
          good.replace("$ReVd", "$!!!d"),
          good + "$extra",
          good.substring(0, good.lastIndexOf('$'))
        }) {
      assertFalse(PasswordHashing.verify("correct horse battery staple", bad), bad);
    }
    assertFalse(PasswordHashing.verify("anything", null), "no such user");
  }
}
