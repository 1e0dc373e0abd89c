#!/usr/bin/env bash
# Runs the benchmarks (root needed: they build network-namespace worlds). Each prints ratios against
# a baseline measured in the same run, arms interleaved, the first round discarded. The cluster
# benchmark (node dist/bench/cluster.js) needs the test cluster up and is run on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
node dist/bench/outgoing.js "$@"
node dist/bench/many.js
node dist/bench/files.js
node dist/bench/node-start.js
node dist/bench/layer-overhead.js
node dist/bench/incoming.js
node dist/bench/supervisor.js
