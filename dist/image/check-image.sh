#!/usr/bin/env bash
# Runs a node from the container image that build-image.sh wrote, in a real container (runc, the OCI
# runtime under Docker and Podman), and checks what a user of the image relies on:
#   - the image's own entry point, user, environment, working directory and volume start a node;
#   - the image's health check command reports it ready;
#   - the image's deployctl deploys a directory to it, and the release is current in the volume,
#     written by the unprivileged `deploy` user;
#   - SIGTERM (what `docker stop` sends) makes the node leave and exit 0.
#
#   dist/image/check-image.sh [dist/target/deploy-runtime-VERSION-image.tar]
#
# Needs root, runc and jq (Debian packages). The container shares the host's network namespace, and the
# node listens on 127.0.0.1 only (ports CHECK_HTTP_PORT, default 19925, and CHECK_CLUSTER_PORT, 12551).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fail() { echo "check-image: FAILED: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (runc)"
for tool in runc jq curl; do command -v "$tool" >/dev/null || fail "needs $tool"; done
version="$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$root/pom.xml" | head -1)"
image="${1:-$root/dist/target/deploy-runtime-$version-image.tar}"
[ -f "$image" ] || fail "no image; run dist/image/build-image.sh first"
http_port="${CHECK_HTTP_PORT:-19925}"
cluster_port="${CHECK_CLUSTER_PORT:-12551}"
! curl -s -o /dev/null "http://127.0.0.1:$http_port/" || fail "port $http_port is in use"

bundle="$root/dist/target/image/check"
name="deploy-runtime-check-$$"
cleanup() {
  runc kill "$name" KILL >/dev/null 2>&1 || true
  runc delete --force "$name" >/dev/null 2>&1 || true
}
trap cleanup EXIT
rm -rf "$bundle" && mkdir -p "$bundle/archive" "$bundle/rootfs" "$bundle/volume"
tar xf "$image" -C "$bundle/archive"

# The filesystem: the layers in the manifest's order (they only add files, so no whiteouts to apply).
manifest="$bundle/archive/manifest.json"
for layer in $(jq -r '.[0].Layers[]' "$manifest"); do
  tar xf "$bundle/archive/$layer" -C "$bundle/rootfs"
done
config="$bundle/archive/$(jq -r '.[0].Config' "$manifest")"
user="$(jq -r '.config.User' "$config")"
uid="$(awk -F: -v u="$user" '$1 == u { print $3 }' "$bundle/rootfs/etc/passwd")"
gid="$(awk -F: -v u="$user" '$1 == u { print $4 }' "$bundle/rootfs/etc/passwd")"
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "the image's user '$user' is missing or root"
volume="$(jq -r '.config.Volumes | keys[0]' "$config")"
# A named volume starts as a copy of the image's directory: owned by the image's user, mode 700.
chown "$uid:$gid" "$bundle/volume" && chmod 700 "$bundle/volume"

# A payload for the CLI, readable by the image's user.
mkdir -p "$bundle/rootfs/tmp/site/web"
echo "hello from the image check" >"$bundle/rootfs/tmp/site/web/index.html"
chown -R "$uid:$gid" "$bundle/rootfs/tmp/site"

password="image-check-password"
(cd "$bundle" && runc spec)
jq --slurpfile image "$config" --argjson uid "$uid" --argjson gid "$gid" \
  --arg volume "$volume" --arg source "$bundle/volume" \
  --arg http "$http_port" --arg cluster "$cluster_port" --arg password "$password" '
  .root = {path: "rootfs", readonly: false}
  | .process.terminal = false
  | .process.args = ($image[0].config.Entrypoint + ($image[0].config.Cmd // []))
  | .process.env = $image[0].config.Env + [
      "DEPLOY_HTTP_HOST=127.0.0.1", "DEPLOY_HTTP_PORT=" + $http,
      "DEPLOY_CLUSTER_HOST=127.0.0.1", "DEPLOY_CLUSTER_PORT=" + $cluster,
      "DEPLOY_ADMIN_PASSWORD=" + $password]
  | .process.user = {uid: $uid, gid: $gid}
  | .process.cwd = $image[0].config.WorkingDir
  | .linux.namespaces |= map(select(.type != "network"))
  | .mounts += [{destination: $volume, type: "bind", source: $source, options: ["rbind", "rw"]}]
  ' "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

echo "check-image: starting a node from $(basename "$image")"
(cd "$bundle" && runc run "$name" >"$bundle/node.log" 2>&1; echo $? >"$bundle/exit-code") &

# The image's own health check, run inside the container, until it passes (60 s, its start period).
# Test is ["CMD", program, args...] or ["CMD-SHELL", "one shell command"], as Docker runs it.
mapfile -t health < <(jq -r '.config.Healthcheck.Test
  | if .[0] == "CMD" then .[1:][] elif .[0] == "CMD-SHELL" and length == 2 then "/bin/sh", "-c", .[1]
    else empty end' "$config")
[ "${#health[@]}" -gt 0 ] || fail "the image has no usable health check"
ready=false
for _ in $(seq 120); do
  if runc exec "$name" "${health[@]}" >/dev/null 2>&1; then ready=true; break; fi
  [ -f "$bundle/exit-code" ] && fail "the node exited early: $(tail -20 "$bundle/node.log")"
  sleep 0.5
done
$ready || fail "the health check did not pass within 60 s: $(tail -20 "$bundle/node.log")"
echo "check-image: health check passes"

out="$(runc exec --env DEPLOY_URL="http://127.0.0.1:$http_port" --env DEPLOY_USER=admin \
  --env DEPLOY_PASSWORD="$password" "$name" deployctl deploy /tmp/site --project web --json)" \
  || fail "deployctl deploy failed: $out"
[ "$(jq -r .status <<<"$out")" = succeeded ] || fail "the deployment did not succeed: $out"
id="$(jq -r .deployment_id <<<"$out")"
current="$bundle/volume/projects/web/current"
[ "$(readlink "$current")" = "releases/$id" ] || fail "current is $(readlink "$current"), not releases/$id"
[ "$(cat "$current/web/index.html")" = "hello from the image check" ] \
  || fail "the release is not current in the volume ($current)"
[ "$(stat -c %u "$(readlink -f "$current")")" = "$uid" ] || fail "the release is not owned by $user"
echo "check-image: deployctl deployed $id; the release is current in $volume"

runc kill "$name" TERM
for _ in $(seq 120); do [ -f "$bundle/exit-code" ] && break; sleep 0.5; done
[ "$(cat "$bundle/exit-code" 2>/dev/null)" = 0 ] || fail "the node did not exit 0 on SIGTERM"
echo "check-image: SIGTERM: the node left and exited 0"
echo "check-image: OK"
