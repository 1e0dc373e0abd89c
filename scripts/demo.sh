#!/usr/bin/env bash
# The demos of `podlink exec`. Needs root.
#   bash scripts/demo.sh          both: the quick one, then the cluster one
#   bash scripts/demo.sh netns    a "pod" made of network namespaces (seconds; demo/run.ts)
#   bash scripts/demo.sh cluster  the project's own Kubernetes (demo/cluster.ts): boots it if needed —
#                                 the first build of Kubernetes takes 10–25 minutes on 2 cores, later
#                                 boots about 25 s — imports the agent image, then runs podlink
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
if [ "$what" = netns ] || [ "$what" = all ]; then
  node dist/demo/run.js
fi
if [ "$what" = cluster ] || [ "$what" = all ]; then
  if [ ! -f /run/podlink-cluster/up ]; then
    echo
    echo "demo: booting the test cluster. The first time this builds Kubernetes from the Go module proxy:"
    echo "demo: about 10–25 minutes on 2 cores (cached in ${PODLINK_CACHE:-/var/cache/podlink}; later boots take ~25 s)."
  fi
  bash testcluster/up.sh
  bash scripts/agent-image.sh --import
  node dist/demo/cluster.js
fi
