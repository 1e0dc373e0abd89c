#!/usr/bin/env bash
# Runs every test with node's test runner; its summary is the last thing printed.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob
files=(dist/test/**/*.test.js)

# The Kubernetes tests (dist/test/cluster/) run against the real test cluster (testcluster/):
# boot it here (its build is cached in $PODLINK_CACHE) and stop it afterwards. The boot's progress
# is printed before the tests; the teardown goes to a log that is printed only if it fails. If the
# cluster cannot boot the tests still run, and the cluster tests fail saying why.
cluster_tests=(dist/test/cluster/*.test.js)
cluster_log=/var/log/podlink-cluster/test-sh.log
cluster_down() {
  [ "${PODLINK_KEEP_CLUSTER:-}" = 1 ] && return 0
  bash testcluster/down.sh >>"$cluster_log" 2>&1 || { echo "test cluster teardown failed:"; cat "$cluster_log"; }
}
if [ ${#cluster_tests[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    export PODLINK_CLUSTER_BOOT_ERROR="scripts/test.sh must run as root to boot the test cluster"
  else
    mkdir -p "$(dirname "$cluster_log")"
    : >"$cluster_log"
    # Start from a machine without the cluster, and remember it: the teardown test compares.
    bash testcluster/down.sh >>"$cluster_log" 2>&1 || true
    baseline=$(mktemp /tmp/podlink-cluster-baseline.XXXXXX)
    node dist/test/cluster/machine-state.js >"$baseline" && export PODLINK_CLUSTER_BASELINE=$baseline
    trap 'cluster_down; rm -f "$baseline"' EXIT
    # The agent image is built from dist/ (just compiled) and imported for podlink's own cluster tests.
    if bash testcluster/up.sh 2>&1 | tee -a "$cluster_log" && bash scripts/agent-image.sh --import 2>&1 | tee -a "$cluster_log"; then
      export PODLINK_CLUSTER_ENV=/run/podlink-cluster/env
    else
      export PODLINK_CLUSTER_BOOT_ERROR="cluster:up failed: $(grep -m1 -E 'failed|missing|must' "$cluster_log" || echo "see $cluster_log")"
    fi
  fi
fi

status=0
node --test --test-reporter=spec --test-concurrency=1 "${files[@]}" || status=$?
exit "$status"
