#!/usr/bin/env bash
# Builds podlink's agent image (agent/image/agent.json: node, nsenter and the agent's compiled code)
# as an OCI image tarball, without Docker or a registry:
#   bash scripts/agent-image.sh            build $PODLINK_CACHE/images/agent.tar (cached; rebuilt when inputs change)
#   bash scripts/agent-image.sh --import   also import it into the running test cluster (npm run cluster:up)
# The image is named ghcr.io/podlink/agent:<podlink version> (the CLI's default `agent.image`), or
# $PODLINK_AGENT_IMAGE. To run it on your own cluster, push the tarball to your registry, e.g.
#   skopeo copy oci-archive:/var/cache/podlink/images/agent.tar docker://registry.example.com/podlink/agent:0.1.0
# and set `agent.image` to that reference. Run `npm run build` first.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/agent/main.js ] || { echo "agent-image: dist/ is not built; run npm run build" >&2; exit 1; }
export PODLINK_AGENT_IMAGE=${PODLINK_AGENT_IMAGE:-$(node dist/agent/image.js)}
if [ "${1:-}" = --import ]; then
  exec bash testcluster/image.sh agent/image/agent.json
fi
cache=${PODLINK_CACHE:-/var/cache/podlink}
mkdir -p "$cache/images"
node dist/testcluster/images/build-image.js --out-dir "$cache/images" agent/image/agent.json
