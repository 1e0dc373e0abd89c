#!/usr/bin/env bash
# npm run cluster:down — stops the test cluster and removes every trace of it (processes, mounts,
# netns, veth, cgroups, iptables rules, files outside the cache), then checks that nothing is
# left. The build cache ($PODLINK_CACHE) and the logs ($KCL_LOG) stay.
set -Eeuo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$KCL_TC/lib/net.sh"
. "$KCL_TC/lib/teardown.sh"
. "$KCL_TC/lib/lock.sh"

trap 'status=$?; [ "$status" -eq 0 ] || explain_failure' EXIT
[ "$(id -u)" = 0 ] || die "must run as root: sudo npm run cluster:down"
kcl_lock "cluster:down"
T0=$(date +%s.%N)
if [ -z "$(leftovers)" ] && ! net_exists; then
  say "not running, nothing to stop"
  exit 0
fi
mkdir -p "$KCL_LOG"
say "stopping (log: $KCL_LOG/teardown.log)"
teardown >"$KCL_LOG/teardown.log" 2>&1
left=$(leftovers)
if [ -n "$left" ]; then
  echo "$left" | sed 's/^/cluster: still there: /' >&2
  die "teardown left the items above behind; log: $KCL_LOG/teardown.log"
fi
say "down in $(since "$T0") s, nothing left"
