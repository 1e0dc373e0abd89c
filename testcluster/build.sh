#!/usr/bin/env bash
# Builds (or finds in the cache) everything the test cluster runs that Debian does not ship.
# up.sh calls the same functions; this is for building ahead of time, e.g. to warm a CI cache.
set -Eeuo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$KCL_TC/lib/build.sh"
. "$KCL_TC/lib/lock.sh"
trap 'status=$?; [ "$status" -eq 0 ] || explain_failure' EXIT
kcl_lock "testcluster/build.sh"
build_all
say "binaries in $KCL_BIN"
