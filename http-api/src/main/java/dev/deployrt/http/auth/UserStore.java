package dev.deployrt.http.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.spec.KeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * The node's users, with passwords hashed by PBKDF2-HMAC-SHA256 (JDK, salted, 210,000 iterations as
 * OWASP recommends), kept in {@code <data>/users.json} (mode 0600).
 *
 * <p>On first start with no users file, creates {@code admin} with the given password, or with a
 * random one written to {@code <data>/initial-admin-password} (mode 0600) and never logged.
 *
 * <p>Verified credentials are remembered (by a SHA-256 of name and password, never the password
 * itself) so that each request does not pay for the slow hash. Thread-safe.
 */
public final class UserStore {
  private static final int ITERATIONS = 210_000;
  private static final int MAX_REMEMBERED = 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  private record Entry(String name, Role role, byte[] salt, byte[] hash, int iterations) {}

  private final Map<String, Entry> users;
  private final Map<String, User> verified = new ConcurrentHashMap<>();

  private UserStore(Map<String, Entry> users) {
    this.users = users;
  }

  /** Opens the store under {@code dataDir}, creating {@code admin} if there is none yet. */
  public static UserStore openOrBootstrap(Path dataDir, String adminPassword) {
    Path file = dataDir.resolve("users.json");
    try {
      Files.createDirectories(dataDir);
      if (!Files.exists(file)) {
        String password = adminPassword;
        if (password == null || password.isEmpty()) {
          password = randomPassword();
          writePrivate(dataDir.resolve("initial-admin-password"), password + "\n");
        }
        Map<String, Entry> initial = new LinkedHashMap<>();
        initial.put("admin", hashed("admin", Role.ADMIN, password));
        save(file, initial);
      }
      return new UserStore(load(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open users at " + file, e);
    }
  }

  public Optional<User> authenticate(String name, String password) {
    if (name == null || password == null) {
      return Optional.empty();
    }
    String key = fingerprint(name, password);
    User known = verified.get(key);
    if (known != null) {
      return Optional.of(known);
    }
    Entry entry = users.get(name);
    // Hash even for unknown users, so timing does not reveal which names exist.
    Entry against = entry != null ? entry : new Entry(name, Role.VIEWER, new byte[16], new byte[32], ITERATIONS);
    byte[] actual = pbkdf2(password, against.salt(), against.iterations());
    if (entry == null || !MessageDigest.isEqual(actual, entry.hash())) {
      return Optional.empty();
    }
    User user = new User(entry.name(), entry.role());
    if (verified.size() >= MAX_REMEMBERED) {
      verified.clear();
    }
    verified.put(key, user);
    return Optional.of(user);
  }

  private static Entry hashed(String name, Role role, String password) {
    byte[] salt = new byte[16];
    new SecureRandom().nextBytes(salt);
    return new Entry(name, role, salt, pbkdf2(password, salt, ITERATIONS), ITERATIONS);
  }

  private static byte[] pbkdf2(String password, byte[] salt, int iterations) {
    try {
      KeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, 256);
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String fingerprint(String name, String password) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(name.getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(password.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(md.digest());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String randomPassword() {
    byte[] bytes = new byte[18];
    new SecureRandom().nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static Map<String, Entry> load(Path file) throws IOException {
    Map<String, Entry> out = new ConcurrentHashMap<>();
    for (var node : JSON.readTree(file.toFile()).get("users")) {
      Base64.Decoder b64 = Base64.getDecoder();
      out.put(node.get("name").asText(), new Entry(node.get("name").asText(),
          Role.valueOf(node.get("role").asText().toUpperCase(java.util.Locale.ROOT)),
          b64.decode(node.get("salt").asText()), b64.decode(node.get("hash").asText()),
          node.get("iterations").asInt()));
    }
    return out;
  }

  private static void save(Path file, Map<String, Entry> users) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode list = root.putArray("users");
    Base64.Encoder b64 = Base64.getEncoder();
    for (Entry e : users.values()) {
      list.addObject()
          .put("name", e.name())
          .put("role", e.role().apiName())
          .put("algorithm", "PBKDF2WithHmacSHA256")
          .put("iterations", e.iterations())
          .put("salt", b64.encodeToString(e.salt()))
          .put("hash", b64.encodeToString(e.hash()));
    }
    writePrivate(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
  }

  /** Writes a file readable by its owner only, atomically. */
  private static void writePrivate(Path file, String content) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, content, StandardOpenOption.WRITE);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
  }
}
