#!/usr/bin/env bash
# Builds the device-index Vulkan layer (device_index.c) into packages/backend/vk-layer/build/, where the webgpu backend
# finds it (or set ABLATE_VK_LAYER_DIR). Needs a C compiler and the Vulkan headers (/usr/include/vulkan, from
# libvulkan-dev; if they are missing they are taken from Debian's libvulkan-dev package without installing it).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/build}
CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "vk-layer: needs a C compiler ($CC)" >&2; exit 1; }
inc=()
if [ ! -f /usr/include/vulkan/vk_layer.h ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download libvulkan-dev >/dev/null 2>&1 && dpkg-deb -x libvulkan-dev_*.deb root) \
    || { echo "vk-layer: no Vulkan headers: apt-get install libvulkan-dev" >&2; exit 1; }
  inc=(-I "$tmp/root/usr/include")
fi
mkdir -p "$OUT"
"$CC" -O2 -shared -fPIC -fvisibility=hidden -Wall -Wextra -Werror "${inc[@]}" -o "$OUT/libVkLayer_ABLATE_device_index.so" "$HERE/device_index.c" -lpthread
cat >"$OUT/VkLayer_ABLATE_device_index.json" <<'JSON'
{
  "file_format_version": "1.1.0",
  "layer": {
    "name": "VK_LAYER_ABLATE_device_index",
    "type": "GLOBAL",
    "library_path": "./libVkLayer_ABLATE_device_index.so",
    "api_version": "1.3.0",
    "implementation_version": "1",
    "description": "Shows only physical device $ABLATE_VK_DEVICE_INDEX (one process per GPU for dawn.node)",
    "functions": { "vkGetInstanceProcAddr": "ablate_GetInstanceProcAddr", "vkGetDeviceProcAddr": "ablate_GetDeviceProcAddr" }
  }
}
JSON
echo "vk-layer: built $OUT/libVkLayer_ABLATE_device_index.so"
