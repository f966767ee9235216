#!/bin/sh
# The GPU figures in one run, on a machine with a GPU but no Node (the lent H100 / H200), from
# the repository's root with .gpu/ (node scripts/gpu-bundle.js) beside it. Unpacks Node, the
# compiled project and its node_modules; builds the native kernels for this CPU; then runs the
# WebGPU dispatch probe (where bundled), `npm run bench -- webgpu-dispatch` and
# `npm run bench -- gpu`. Logs go to $OUT (or ./gpu-figures/).
#   sh scripts/gpu-figures.sh [trainSteps] [batchSizes]
set -u
steps=${1:-10}
sizes=${2:-32,256}
out=${OUT:-gpu-figures}
mkdir -p "$out"
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
  # Dawn needs the Vulkan loader; the NVIDIA driver's ICD where the image keeps it aside.
  if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
    for f in .gpu/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; fi
  if command -v xz > /dev/null; then
    tar -xJf .gpu/fairdiff-gpu.tar.xz
  else # an image without xz: Python's tarfile reads it
    python3 -c 'import tarfile; tarfile.open(".gpu/fairdiff-gpu.tar.xz").extractall(".")'
  fi
  PATH="$PWD/.gpu-node/bin:$PATH"
  export PATH
  node --version
  node scripts/build-native.js
} > "$out/setup.txt" 2>&1
cat "$out/setup.txt"
if [ -f .gpu-node/webgpu-dispatch-probe.js ]; then
  node .gpu-node/webgpu-dispatch-probe.js 500 2>&1 | tee "$out/probe.txt"
fi
# What each of tfjs-webgpu's per-op steps costs on this GPU (bench/webgpuDispatch.ts).
node dist/bench/run.js webgpu-dispatch 500 2>&1 | tee "$out/dispatch.txt"
FAIRDIFF_PYTHON="${FAIRDIFF_PYTHON:-$(command -v python3)}" \
  node dist/bench/run.js gpu "$steps" "$sizes" 2>&1 | tee "$out/bench-gpu.txt"
