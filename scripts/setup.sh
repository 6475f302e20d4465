#!/usr/bin/env bash
# One-time set-up of a fresh Debian/Ubuntu machine with Node.js 20: pnpm, Redis, the workspace, a build.
# Safe to run again. Honours REDIS_URL (default redis://127.0.0.1:6379).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if ! command -v pnpm >/dev/null 2>&1; then
  say "installing pnpm 10 (npm install -g pnpm@10; corepack's download fails its signature check on Node 20)"
  as_root npm install -g pnpm@10
fi

REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
# Exit 0: PONG; 1: nothing answers; 3: a Redis answers but refuses us (it needs a password, or a different one).
# The password is REDIS_URL's, else REDIS_PASSWORD (as every command does).
redis_answers() { node -e '
  const net = require("node:net"), tls = require("node:tls"); const u = new URL(process.argv[1]);
  const host = u.hostname.replace(/^\[|\]$/g, ""), port = Number(u.port || 6379);
  const password = u.password ? decodeURIComponent(u.password) : (process.env.REDIS_PASSWORD || "");
  const s = u.protocol === "rediss:" ? tls.connect({ host, port, servername: host }) : net.connect(port, host);
  const bye = (c) => { s.destroy(); process.exit(c); };
  let got = "";
  s.setTimeout(1500, () => bye(1)); s.on("error", () => bye(1));
  s.on(u.protocol === "rediss:" ? "secureConnect" : "connect", () => s.write(password ? `AUTH ${decodeURIComponent(u.username || "default")} ${password}\r\nPING\r\n` : "PING\r\n"));
  s.on("data", (d) => { got += d; if (got.includes("PONG")) bye(0); if (/^-(NOAUTH|WRONGPASS)/m.test(got)) bye(3); });' "$REDIS_URL"; }
redacted_url=$(node -p 'const u = new URL(process.argv[1]); if (u.password) u.password = "***"; u.toString()' "$REDIS_URL")

rc=0; redis_answers || rc=$?
if [ "$rc" = 3 ]; then
  echo "setup: a Redis answers at $redacted_url but refuses the password (or needs one): set REDIS_PASSWORD, or put it in REDIS_URL" >&2
  exit 1
fi
if [ "$rc" != 0 ]; then
  host=$(node -p 'new URL(process.argv[1]).hostname' "$REDIS_URL")
  port=$(node -p 'new URL(process.argv[1]).port || 6379' "$REDIS_URL")
  if [ "$host" != 127.0.0.1 ] && [ "$host" != localhost ]; then
    echo "setup: Redis at $redacted_url does not answer, and it is not local, so I will not start it. Check REDIS_URL." >&2
    exit 1
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    say "installing Debian's redis-server"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  say "starting redis-server on 127.0.0.1:$port"
  mkdir -p data/redis && redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --appendonly yes --dir "$PWD/data/redis" >/dev/null
  for _ in $(seq 1 50); do redis_answers && break; sleep 0.1; done
  redis_answers || { echo "setup: redis-server did not start on port $port" >&2; exit 1; }
fi

# The report's browser test drives Debian's chromium with playwright-core (never a downloaded browser).
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && command -v apt-get >/dev/null 2>&1; then
  say "installing Debian's chromium (for the report's browser test)"
  { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
    || echo "setup: could not install chromium; the report's browser test needs it (apt-get install chromium, or set CHROMIUM_PATH)" >&2
fi

# CPU workers run their matmuls on OpenBLAS (@ablate/blas, built by `pnpm build` with node-gyp): the library,
# its headers, pkg-config and a C compiler. Without them the workers fall back to plain wasm (and say so).
if ! pkg-config --exists openblas 2>/dev/null || ! command -v cc >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    say "installing OpenBLAS and a C toolchain (for the CPU workers' BLAS matmuls)"
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev libopenblas0-pthread pkg-config gcc g++ make python3 >/dev/null; } \
      || echo "setup: could not install OpenBLAS; CPU workers will use plain wasm matmuls (apt-get install libopenblas-dev pkg-config gcc make)" >&2
  else
    echo "setup: no OpenBLAS (pkg-config openblas) and no apt-get; CPU workers will use plain wasm matmuls" >&2
  fi
fi

say "installing dependencies (pnpm install)"
if [ -n "${CI:-}" ]; then pnpm install --frozen-lockfile --reporter=append-only; else pnpm install --reporter=append-only; fi

say "building"
pnpm -s build
say "set-up done"
