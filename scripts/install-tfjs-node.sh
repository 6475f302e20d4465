#!/usr/bin/env bash
# Installs the native TensorFlow backend: runs @tensorflow/tfjs-node-gpu's (or tfjs-node's) own install step against a
# libtensorflow mirror, then checks that libtensorflow and the binding both arrived.
#
#   TFJS_NODE_CDN_STORAGE=https://mirror.example/ bash scripts/install-tfjs-node.sh gpu   # or: cpu
#   TFJS_NODE_BASE_URI=https://mirror.example/libtensorflow- bash scripts/install-tfjs-node.sh gpu
#
# Why a script: both packages are optional dependencies whose install script downloads libtensorflow. pnpm 10 runs no
# dependency's build script unless it is listed in onlyBuiltDependencies, and `pnpm rebuild <pkg>` skips it for the same
# reason, silently (exit 0, nothing downloaded). Listing them would make every `pnpm install` fail where no mirror is
# reachable, so they stay off that list and this script runs the step on the machines that want it.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "install-tfjs-node: $*" >&2; exit 1; }

flavour=${1:-gpu}
case $flavour in
  gpu) pkg=@tensorflow/tfjs-node-gpu; args=(gpu download) ;;
  cpu) pkg=@tensorflow/tfjs-node; args=() ;;
  *) echo "usage: bash scripts/install-tfjs-node.sh [gpu|cpu]   (with TFJS_NODE_CDN_STORAGE or TFJS_NODE_BASE_URI set to a mirror)" >&2; exit 2 ;;
esac
if [ -z "${TFJS_NODE_CDN_STORAGE:-}${TFJS_NODE_BASE_URI:-}" ]; then
  echo "install-tfjs-node: neither TFJS_NODE_CDN_STORAGE nor TFJS_NODE_BASE_URI is set: trying Google's storage, which answers 403 since 2026-08 (tensorflow/tfjs#8742)" >&2
fi
dir=$(cd packages/backend && node -p "require('node:path').dirname(require.resolve('$pkg/package.json'))" 2>/dev/null) \
  || die "$pkg is not installed under packages/backend: run pnpm install first"

echo "install-tfjs-node: $pkg in $dir"
# The package's own bins (node-pre-gyp) must be on PATH, as they are when a package manager runs the script.
(cd "$dir" && PATH="$dir/node_modules/.bin:$PATH" node scripts/install.js ${args[@]+"${args[@]}"}) \
  || die "$pkg's install step failed (output above): is the mirror laid out like <mirror>/tensorflow/libtensorflow/libtensorflow-${flavour}-linux-x86_64-2.9.1.tar.gz? Without a prebuilt binding it compiles one, which needs g++, make and python3"
compgen -G "$dir/deps/lib/libtensorflow.so*" >/dev/null || die "libtensorflow did not arrive in $dir/deps/lib"
compgen -G "$dir/lib/napi-v*/tfjs_binding.node" >/dev/null || die "the binding (tfjs_binding.node) was neither downloaded nor built in $dir/lib"
echo "install-tfjs-node: done; 'pnpm run doctor' shows whether the tensorflow backend now loads"
