#!/usr/bin/env bash
# Runs the benchmarks (root needed: they build network-namespace worlds). Each prints ratios against
# a baseline measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
node dist/bench/http-latency.js "$@"
node dist/bench/layer-overhead.js
node dist/bench/incoming.js
node dist/bench/supervisor.js
