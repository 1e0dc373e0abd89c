#!/usr/bin/env bash
# The demo of `podlink exec` against a "pod" made of network namespaces (see demo/run.ts). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node dist/demo/run.js
