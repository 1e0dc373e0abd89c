# Builds the cluster's images from local files (testcluster/images/specs/*.json, see
# images/oci-image.ts) and imports them into the cluster's containerd. Sourced after common.sh.

KCL_REPO=$(cd "$KCL_TC/.." && pwd)
KCL_IMAGE_TOOL=$KCL_REPO/dist/testcluster/images/build-image.js

# The image tool is TypeScript; compile just testcluster/ when its output is missing or stale, so
# a half-finished change elsewhere in the tree cannot stop the cluster from booting.
image_tool() {
  local tsc=$KCL_REPO/node_modules/.bin/tsc
  if [ -f "$KCL_IMAGE_TOOL" ] && [ -z "$(find "$KCL_TC/images" -name '*.ts' -newer "$KCL_IMAGE_TOOL")" ]; then
    return 0
  fi
  [ -x "$tsc" ] || die "missing prerequisite: TypeScript compiler $tsc (run npm ci in $KCL_REPO)"
  "$tsc" -p "$KCL_TC/tsconfig.json" >"$KCL_LOG/build-image-tool.log" 2>&1 ||
    die "compiling testcluster/ failed; log: $KCL_LOG/build-image-tool.log"
}

images_build() {
  mkdir -p "$KCL_IMAGES" "$KCL_LOG"
  image_tool
  KCL_BIN=$KCL_BIN node "$KCL_IMAGE_TOOL" --out-dir "$KCL_IMAGES" "$KCL_TC"/images/specs/*.json >"$KCL_LOG/images.log" 2>&1 ||
    { tail -n 5 "$KCL_LOG/images.log" >&2; die "building images failed; log: $KCL_LOG/images.log"; }
  grep ' built ' "$KCL_LOG/images.log" | sed 's/^/cluster: /' || true
}

# Into namespace k8s.io: the only one the CRI (and so the kubelet) looks at.
images_import() {
  local tar
  for tar in "$KCL_IMAGES"/*.tar; do
    ctr -a "$KCL_RUN/containerd.sock" -n k8s.io images import "$tar" >>"$KCL_LOG/images.log" 2>&1 ||
      die "containerd could not import $tar; log: $KCL_LOG/images.log"
  done
}
