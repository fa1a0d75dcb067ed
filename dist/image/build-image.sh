#!/usr/bin/env bash
# Builds the node's container image without a Docker daemon, from the release artifact.
#
#   dist/image/build-image.sh            # -> dist/target/deploy-runtime-VERSION-image.tar
#   dist/image/build-image.sh --check    # the same, then runs a node from the image and deploys to it
#
# The result is a `docker save` archive: `docker load -i` or `podman load -i` takes it, and skopeo can push
# it to a registry (`skopeo copy docker-archive:FILE docker://REGISTRY/deploy-runtime:VERSION`).
#
# Three layers, from the one that changes least to the one that changes with every build:
#   1. Debian bookworm (debootstrap's minbase, with curl for the health check and a `deploy` user);
#   2. a Java 17 runtime trimmed with jlink to the modules the node and the CLI use (~60 MB, CDS archive);
#   3. the release (dist/target/deploy-runtime-VERSION.tar.gz) in /opt/deploy.
# It runs as `deploy` with its data in the volume /var/lib/deploy; bin/deploy-node is the entry point and
# the DEPLOY_* environment configures it (docs/operations.md), the same as anywhere else.
#
# Needs: root (debootstrap and buildah's storage), debootstrap and buildah (Debian packages of those
# names), a JDK 17 with jmods (jlink; JAVA_HOME or the java on PATH) and a Debian mirror
# (DEBIAN_MIRROR, default http://deb.debian.org/debian). Builds the release first if it is missing.
# buildah keeps its storage under dist/target/image/storage, never in the machine's own.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
check=false
[ "${1:-}" = "--check" ] && check=true

fail() { echo "build-image: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (debootstrap and buildah's storage)"
for tool in debootstrap buildah; do
  command -v "$tool" >/dev/null || fail "needs $tool (apt-get install $tool)"
done
java_home="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
[ -x "$java_home/bin/jlink" ] && [ -f "$java_home/jmods/java.base.jmod" ] \
  || fail "needs a JDK with jlink and jmods (set JAVA_HOME); $java_home has none"
"$java_home/bin/java" -version 2>&1 | grep -q 'version "17' || fail "needs JDK 17 (JAVA_HOME=$java_home)"

version="$(cd "$root" && sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -1)"
release="$root/dist/target/deploy-runtime-$version.tar.gz"
if [ ! -f "$release" ]; then
  echo "build-image: building the release first" >&2
  (cd "$root" && ./mvnw -B -q -DskipTests package)
fi

work="$root/dist/target/image"
image="$root/dist/target/deploy-runtime-$version-image.tar"
mkdir -p "$work"
bah() { BUILDAH_FORMAT=docker buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs "$@"; }

# 1. The base system. debootstrap takes ~30 s, so its tree is kept between builds (mvn clean drops it).
rootfs="$work/rootfs-bookworm"
if [ ! -f "$rootfs/.complete" ]; then
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include=curl bookworm "$rootfs" \
    "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 \
    || fail "debootstrap failed; see $work/debootstrap.log"
  chroot "$rootfs" useradd --system --user-group --create-home --home-dir /var/lib/deploy \
    --shell /usr/sbin/nologin deploy
  chmod 700 "$rootfs/var/lib/deploy"
  # What only the build needed: package caches and lists (apt-get update brings the lists back).
  rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/log/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
  touch "$rootfs/.complete"
fi

# 2. The Java runtime: the modules jdeps finds in the node's and the CLI's jars, plus TLS's elliptic
#    curves (loaded by name) and jcmd for operators' heap and thread dumps.
modules=java.base,java.compiler,java.desktop,java.instrument,java.logging,java.management,java.naming
modules+=,java.net.http,java.scripting,java.security.jgss,java.sql,java.sql.rowset,java.xml,jdk.jfr
modules+=,jdk.management,jdk.net,jdk.unsupported,jdk.crypto.ec,jdk.jcmd
jre="$work/jre"
rm -rf "$jre"
"$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --generate-cds-archive --output "$jre"

# 3. The release, unpacked.
unpacked="$work/release"
rm -rf "$unpacked" && mkdir -p "$unpacked"
tar xzf "$release" -C "$unpacked" --strip-components=1

# The layers, one commit each so a new release only replaces the last one.
for name in base java node; do
  bah rmi -f "deploy-runtime-$name:$version" >/dev/null 2>&1 || true
done
ctr="$(bah from scratch)"
trap 'bah rm "$ctr" >/dev/null 2>&1 || true' EXIT
bah copy "$ctr" "$rootfs/" / >/dev/null
bah commit --quiet --rm "$ctr" "deploy-runtime-base:$version" >/dev/null
ctr="$(bah from "deploy-runtime-base:$version")"
bah copy "$ctr" "$jre/" /opt/java >/dev/null
bah commit --quiet --rm "$ctr" "deploy-runtime-java:$version" >/dev/null
ctr="$(bah from "deploy-runtime-java:$version")"
bah copy --chown 0:0 "$ctr" "$unpacked/" /opt/deploy >/dev/null
bah config \
  --env JAVA_HOME=/opt/java \
  --env PATH=/opt/java/bin:/opt/deploy/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env DEPLOY_DATA_DIR=/var/lib/deploy \
  --env DEPLOY_HTTP_HOST=0.0.0.0 \
  --env DEPLOY_HTTP_PORT=9925 \
  --env DEPLOY_CLUSTER_PORT=2551 \
  --env "JAVA_OPTS=-Xms64m -Xmx256m -XX:+UseSerialGC" \
  --user deploy --workingdir /var/lib/deploy \
  --volume /var/lib/deploy --port 9925 --port 2551 \
  --healthcheck "CMD /bin/sh -c 'curl -sf http://127.0.0.1:\${DEPLOY_HTTP_PORT}/health/ready || exit 1'" \
  --healthcheck-interval 5s --healthcheck-timeout 3s --healthcheck-start-period 60s \
  --entrypoint '["/opt/deploy/bin/deploy-node"]' \
  --label "org.opencontainers.image.title=deploy-runtime" \
  --label "org.opencontainers.image.version=$version" \
  "$ctr"
# The health check is part of Docker's image format, not OCI's.
bah commit --quiet --rm --format docker "$ctr" "deploy-runtime:$version" >/dev/null
trap - EXIT
rm -f "$image"
bah push --quiet "deploy-runtime:$version" "docker-archive:$image:deploy-runtime:$version" >/dev/null
echo "build-image: $image ($(du -h "$image" | cut -f1)); docker load -i $(basename "$image")"

if $check; then
  exec "$root/dist/image/check-image.sh" "$image"
fi
