package dev.deployrt.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Runs a child JVM as an ordinary user, so file-system permission bugs show in tests even where the
 * build runs as root (CI does; root ignores every permission bit). As root the child runs as uid
 * and gid {@value #UID} ("nobody") through {@code setpriv}; as any other user it runs as that user,
 * who is ordinary already.
 *
 * <p>Such a child cannot read root's files: {@link #classpath} gives it a copy of this JVM's class
 * path that anyone can read (hard links where it can), and {@link #handOver} gives it the
 * directories it works in.
 */
public final class Unprivileged {
  /** The user a root test runs its child as. */
  public static final int UID = 65534;

  private Unprivileged() {}

  /** Whether this JVM runs as root (then the child is switched to {@link #UID}). */
  public static boolean isRoot() {
    try {
      return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A command line for {@code java} with the given arguments, run as an ordinary user. Its working
   * directory and home must be ones the child can use ({@link #handOver}).
   */
  public static List<String> javaCommand(
      Path classpathCopy, List<String> jvmOptions, String mainClass, List<String> args) {
    List<String> command = new ArrayList<>();
    if (isRoot()) {
      command.addAll(
          List.of("setpriv", "--reuid=" + UID, "--regid=" + UID, "--clear-groups", "--"));
    }
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-Duser.home=" + classpathCopy);
    command.add("-cp");
    command.add(classpath(classpathCopy));
    command.add(mainClass);
    command.addAll(args);
    return command;
  }

  /**
   * Copies this JVM's class path into {@code dir} (created if needed) so that anyone can read it,
   * and returns the class path of the copy. Jars are hard-linked where the file system allows it.
   * Idempotent: a copy already there is reused.
   */
  public static String classpath(Path dir) {
    try {
      Files.createDirectories(dir);
      openToAll(dir);
      List<String> out = new ArrayList<>();
      int i = 0;
      for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
        Path source = Path.of(entry);
        if (!Files.exists(source)) {
          continue;
        }
        Path copy = dir.resolve(i++ + "-" + source.getFileName());
        if (!Files.exists(copy, LinkOption.NOFOLLOW_LINKS)) {
          if (Files.isDirectory(source)) {
            copyTree(source, copy);
          } else {
            boolean linked;
            try {
              Files.createLink(copy, source);
              // A link shares its file's mode: only good if anyone may read it.
              linked =
                  Files.getPosixFilePermissions(copy)
                      .contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ);
              if (!linked) {
                Files.delete(copy);
              }
            } catch (IOException | UnsupportedOperationException e) {
              linked = false;
            }
            if (!linked) {
              Files.copy(source, copy);
              Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
            }
          }
        }
        out.add(copy.toString());
      }
      return String.join(java.io.File.pathSeparator, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Gives {@code dir} and everything in it to the child's user (when running as root) and lets that
   * user reach it: every ancestor up to the file system's root gets {@code o+x} if it lacks it.
   */
  public static Path handOver(Path dir) {
    try {
      for (Path p = dir.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
        var permissions = Files.getPosixFilePermissions(p);
        if (permissions.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
          Files.setPosixFilePermissions(p, permissions);
        }
      }
      if (isRoot()) {
        run("chown", "-R", UID + ":" + UID, dir.toString());
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs a command to its end and fails if it fails. */
  public static void run(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes());
      if (p.waitFor() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void copyTree(Path source, Path target) throws IOException {
    try (Stream<Path> all = Files.walk(source)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Path to = target.resolve(source.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
          openToAll(to);
        } else {
          try {
            Files.copy(p, to, StandardCopyOption.COPY_ATTRIBUTES);
          } catch (FileAlreadyExistsException e) {
            // copied before
          }
          Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
        }
      }
    }
  }

  private static void openToAll(Path dir) throws IOException {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
  }
}
