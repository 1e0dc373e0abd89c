#!/usr/bin/env bash
# Builds the layer's runtime files (libpodlink.so, podlink-regcheck) and the supervisor
# (podlink-supervisor, static) and the mirror's capture helper (podlink-capture) for every architecture the package ships, into
# layer/, supervisor/ and agent/capture/ prebuilt/linux-<arch>/ (Node's process.arch names): x64 with the system
# compiler, arm64 with Debian's cross compiler (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross; both
# link against this machine's glibc version, so neither needs a newer one than the other).
# common/paths.ts picks the copy for the running machine; `npm pack` runs this (prepack).
set -euo pipefail
cd "$(dirname "$0")/../layer"
declare -A cc=([x64]=x86_64-linux-gnu-gcc [arm64]=aarch64-linux-gnu-gcc)
for arch in x64 arm64; do
  command -v "${cc[$arch]}" >/dev/null || { echo "prebuild-layer: ${cc[$arch]} is missing (scripts/setup.sh installs it)" >&2; exit 1; }
  make -s runtime CC="${cc[$arch]}" BUILD="build/prebuild-$arch"
  mkdir -p "prebuilt/linux-$arch"
  cp "build/prebuild-$arch/libpodlink.so" "build/prebuild-$arch/podlink-regcheck" "prebuilt/linux-$arch/"
  make -s -C ../supervisor runtime CC="${cc[$arch]}" BUILD="build/prebuild-$arch"
  mkdir -p "../supervisor/prebuilt/linux-$arch"
  cp "../supervisor/build/prebuild-$arch/podlink-supervisor" "../supervisor/prebuilt/linux-$arch/"
  make -s -C ../agent/capture CC="${cc[$arch]}" BUILD="build/prebuild-$arch"
  mkdir -p "../agent/capture/prebuilt/linux-$arch"
  cp "../agent/capture/build/prebuild-$arch/podlink-capture" "../agent/capture/prebuilt/linux-$arch/"
done
