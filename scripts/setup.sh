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
redis_answers() { node -e '
  const net = require("node:net"); const u = new URL(process.argv[1]);
  const s = net.connect(Number(u.port || 6379), u.hostname.replace(/^\[|\]$/g, ""));
  const bye = (c) => { s.destroy(); process.exit(c); };
  s.setTimeout(1500, () => bye(1)); s.on("error", () => bye(1));
  s.on("connect", () => s.write(u.password ? `AUTH ${decodeURIComponent(u.username || "default")} ${decodeURIComponent(u.password)}\r\nPING\r\n` : "PING\r\n"));
  s.on("data", (d) => bye(String(d).includes("PONG") ? 0 : 1));' "$REDIS_URL"; }

if ! redis_answers; then
  host=$(node -p 'new URL(process.argv[1]).hostname' "$REDIS_URL")
  port=$(node -p 'new URL(process.argv[1]).port || 6379' "$REDIS_URL")
  if [ "$host" != 127.0.0.1 ] && [ "$host" != localhost ]; then
    echo "setup: Redis at $REDIS_URL does not answer, and it is not local, so I will not start it. Check REDIS_URL." >&2
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

say "installing dependencies (pnpm install)"
if [ -n "${CI:-}" ]; then pnpm install --frozen-lockfile --reporter=append-only; else pnpm install --reporter=append-only; fi

say "building"
pnpm -s build
say "set-up done"
