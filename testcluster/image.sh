#!/usr/bin/env bash
# Builds images from specs and imports them into the running test cluster, for images that are
# not part of the boot (the podlink agent image, a test's own app):
#   bash testcluster/image.sh path/to/agent.json...
# Tarballs go to $PODLINK_CACHE/images/<spec name>.tar and are rebuilt only when inputs change;
# pods then use the spec's "name" with imagePullPolicy: Never. See docs/testcluster.md.
set -Eeuo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$KCL_TC/lib/images.sh"
. "$KCL_TC/lib/lock.sh"
trap 'status=$?; [ "$status" -eq 0 ] || explain_failure' EXIT

[ $# -gt 0 ] || die "usage: bash testcluster/image.sh SPEC.json..."
[ "$(id -u)" = 0 ] || die "must run as root (it talks to the cluster's containerd)"
kcl_lock "testcluster/image.sh $*"
[ -S "$KCL_RUN/containerd.sock" ] || die "the test cluster is not up (no $KCL_RUN/containerd.sock): npm run cluster:up"
mkdir -p "$KCL_IMAGES" "$KCL_LOG"
image_tool
KCL_BIN=$KCL_BIN node "$KCL_IMAGE_TOOL" --out-dir "$KCL_IMAGES" "$@" | sed 's/^/cluster: /'
for spec in "$@"; do
  tar=$KCL_IMAGES/$(basename "$spec" .json).tar
  ctr -a "$KCL_RUN/containerd.sock" -n k8s.io images import "$tar" >>"$KCL_LOG/images.log" 2>&1 ||
    die "containerd could not import $tar; log: $KCL_LOG/images.log"
  say "imported $tar"
done
