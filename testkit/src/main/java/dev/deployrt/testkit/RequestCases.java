package dev.deployrt.testkit;

import dev.deployrt.testkit.BadInputCorpus.Credentials;
import dev.deployrt.testkit.BadInputCorpus.Ending;
import java.util.List;

/** Bad requests around a payload: parameters, reserved fields, JSON rollbacks, credentials. */
final class RequestCases extends CorpusWriter {
  RequestCases(Sink sink) {
    super(sink);
  }

  @Override
  void write() {
    parameters();
    descriptions();
    rollbackBodies();
    credentials();
    internalCredentials();
  }

  private void parameters() {
    byte[] ok = Tarball.builder().file("index.html", "hi").toBytes();
    for (String bad : List.of("Web", "-web", "web!", "w".repeat(65), "..", "a/b", "%2e%2e", "")) {
      adminPost(
          "bad project name '" + bad + "'",
          "/deployments?project=" + bad,
          "application/gzip",
          ok,
          400,
          "INVALID_REQUEST");
    }
    adminPost("missing project", "/deployments", "application/gzip", ok, 400, "INVALID_REQUEST");
    for (String sha : List.of("xyz", "A".repeat(64), "0".repeat(63))) {
      query(
          "bad sha256 '" + sha.substring(0, 3) + "…' (" + sha.length() + ")",
          "sha256=" + sha,
          ok,
          400,
          "INVALID_REQUEST");
    }
    query("sha256 that does not match", "sha256=" + "0".repeat(64), ok, 400, "DIGEST_MISMATCH");
    for (String field :
        List.of(
            "user=mallory",
            "status=succeeded",
            "deployment_id=x",
            "origin_node=n",
            "_x=1",
            "colour=red")) {
      query("query field " + field, field, ok, 400, "INVALID_REQUEST");
    }
    query("a parameter given twice", "project=" + project(), ok, 400, "INVALID_REQUEST");
    query("bad wait", "wait=sometimes", ok, 400, "INVALID_REQUEST");
    query("bad timeout", "timeout=-5", ok, 400, "INVALID_REQUEST");
  }

  private void descriptions() {
    byte[] ok = Tarball.builder().file("index.html", "hi").toBytes();
    query(
        "description over 512 characters",
        "description=" + "d".repeat(513),
        ok,
        400,
        "INVALID_REQUEST");
    query(
        "description with a terminal escape",
        "description=%1B%5B31mred",
        ok,
        400,
        "INVALID_REQUEST");
    query("description with a line break", "description=one%0Atwo", ok, 400, "INVALID_REQUEST");
    query(
        "description with a bidirectional override",
        "description=%E2%80%AEevil",
        ok,
        400,
        "INVALID_REQUEST");
  }

  private void rollbackBodies() {
    json(
        "rollback with a reserved field",
        "{\"project\":\""
            + project()
            + "\",\"rollback_of\":\""
            + "00000000-0000-0000-0000-000000000000\",\"user\":\"mallory\"}",
        400,
        "INVALID_REQUEST");
    json(
        "rollback with an underscore field",
        "{\"project\":\"" + project() + "\",\"_origin\":\"x\"}",
        400,
        "INVALID_REQUEST");
    json("rollback body that is not JSON", "{\"project\": ", 400, "INVALID_REQUEST");
    json(
        "rollback with a key given twice",
        "{\"project\":\""
            + project()
            + "\",\"project\":\"other\","
            + "\"rollback_of\":\"00000000-0000-0000-0000-000000000000\"}",
        400,
        "INVALID_REQUEST");
    json(
        "rollback naming the server's internal body key",
        "{\"\\u0000body\":\"forged error text\"}",
        400,
        "INVALID_REQUEST");
  }

  private void credentials() {
    byte[] ok = Tarball.builder().file("index.html", "hi").toBytes();
    String deploy =
        post("/deployments?project=" + project(), "application/gzip")
            + "Content-Length: "
            + ok.length
            + "\r\n";
    add(
        "no credentials",
        Credentials.NONE,
        deploy,
        ok,
        Ending.COMPLETE,
        401,
        "UNAUTHORIZED",
        false);
    add(
        "wrong password",
        Credentials.WRONG_PASSWORD,
        deploy,
        ok,
        Ending.COMPLETE,
        401,
        "UNAUTHORIZED",
        false);
    add(
        "a viewer deploying",
        Credentials.VIEWER,
        deploy,
        ok,
        Ending.COMPLETE,
        403,
        "FORBIDDEN",
        false);
    add(
        "a revoked token",
        Credentials.REVOKED_TOKEN,
        deploy,
        ok,
        Ending.COMPLETE,
        401,
        "UNAUTHORIZED",
        false);
  }

  private void internalCredentials() {
    byte[] ok = Tarball.builder().file("index.html", "hi").toBytes();
    add(
        "a user token on the internal blob endpoint",
        Credentials.USER_TOKEN,
        "GET /internal/blobs/" + "ab".repeat(32) + " HTTP/1.1\r\n",
        new byte[0],
        Ending.COMPLETE,
        403,
        "FORBIDDEN",
        false);
    add(
        "a user token pushing a blob to the internal endpoint",
        Credentials.USER_TOKEN,
        "PUT /internal/blobs/"
            + "cd".repeat(32)
            + " HTTP/1.1\r\nContent-Type: application/gzip\r\nContent-Length: "
            + ok.length
            + "\r\n",
        ok,
        Ending.COMPLETE,
        403,
        "FORBIDDEN",
        false);
    add(
        "admin credentials on the internal endpoint",
        Credentials.ADMIN,
        "GET /internal/blobs/" + "ef".repeat(32) + " HTTP/1.1\r\n",
        new byte[0],
        Ending.COMPLETE,
        403,
        "FORBIDDEN",
        false);
  }
}
