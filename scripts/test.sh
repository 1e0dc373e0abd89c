#!/usr/bin/env bash
# Runs every test with node's test runner; its summary is the last thing printed.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob
files=(dist/test/**/*.test.js)
exec node --test --test-reporter=spec --test-concurrency=1 "${files[@]}"
