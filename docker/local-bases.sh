#!/usr/bin/env bash
# Base images for a build host that cannot pull from Docker Hub but reaches Debian's packages (an air-gapped site, or
# this project's own CI machine). Builds local stand-ins for the two public images the CPU stack starts from:
#
#   ablate-local/node:20     Debian bookworm (debootstrap) + this machine's Node.js 20 and npm   (for node:20-bookworm-slim)
#   ablate-local/redis:7.0   Debian bookworm + Debian's redis-server 7.0                         (for redis:7.0)
#
# and tells docker compose to use them:
#
#   sudo bash docker/local-bases.sh
#   export NODE_IMAGE=ablate-local/node:20 REDIS_IMAGE=ablate-local/redis:7.0
#   docker compose build recorder && docker compose up -d redis recorder worker-cpu
#
# A site with its own registry mirror sets NODE_IMAGE / REDIS_IMAGE to the mirror's copies instead. The GPU image
# (nvidia/cuda) has no such stand-in: it needs NVIDIA's image from a registry or a mirror.
# Needs root (debootstrap), debootstrap, Docker, and a self-contained Node.js 20 binary on this machine (nodejs.org's
# tarball or NodeSource's package, not Debian's libnode-linked one), built for a glibc no newer than bookworm's 2.36
# (the binary is copied as it is). Safe to run again.
set -euo pipefail

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { echo "local-bases: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap needs it): sudo bash $0"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed): start dockerd first"
node_bin=$(command -v node) || die "Node.js 20 is missing on this machine"
[ "$(node -p 'process.versions.node.split(".")[0]')" = 20 ] || die "this machine's Node.js is $(node --version), expected 20.x"
if ldd "$node_bin" 2>/dev/null | grep -q 'libnode\.so'; then
  die "$node_bin is linked against libnode.so (Debian's nodejs), so it cannot be copied alone: install Node.js 20 from nodejs.org or NodeSource"
fi
command -v npm >/dev/null || die "npm is missing on this machine"
npm_dir="$(npm root -g)/npm"
[ -f "$npm_dir/bin/npm-cli.js" ] || die "npm not found at $npm_dir"
# Node's C headers: native addons (better-sqlite3) build against them instead of downloading them from nodejs.org.
node_include="$(dirname "$(dirname "$(readlink -f "$node_bin")")")/include/node"
[ -f "$node_include/node_api.h" ] || die "Node.js headers not found at $node_include (they come with nodejs.org's tarball and NodeSource's nodejs package)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! docker image inspect ablate-local/debian:bookworm >/dev/null 2>&1; then
  say "debootstrap bookworm (minbase) from $MIRROR"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -c . | docker import -c 'CMD ["bash"]' - ablate-local/debian:bookworm >/dev/null
  rm -rf "$work/rootfs"
fi

say "ablate-local/node:20 ($("$node_bin" --version) from $node_bin)"
mkdir -p "$work/node"
cp "$node_bin" "$work/node/node"
cp -a "$npm_dir" "$work/node/npm"
cp -a "$node_include" "$work/node/include"
cat >"$work/node/Dockerfile" <<'EOF'
FROM ablate-local/debian:bookworm
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY include /usr/local/include/node
ENV npm_config_nodedir=/usr/local
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
CMD ["node"]
EOF
docker build -q -t ablate-local/node:20 "$work/node" >/dev/null

say "ablate-local/redis:7.0 (Debian's redis-server)"
mkdir -p "$work/redis"
cat >"$work/redis/Dockerfile" <<EOF
FROM ablate-local/debian:bookworm
RUN printf 'deb $MIRROR bookworm main\n' >/etc/apt/sources.list \\
 && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /data && redis-server --version
WORKDIR /data
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
EOF
docker build -q -t ablate-local/redis:7.0 "$work/redis" >/dev/null

say "done: export NODE_IMAGE=ablate-local/node:20 REDIS_IMAGE=ablate-local/redis:7.0"
