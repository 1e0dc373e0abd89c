#!/usr/bin/env bash
# One command for a fresh Debian machine: install what podlink and its tests need, build, then run
#   demo   the podlink exec demo against a "pod" made of network namespaces (default)
#   test   every test: unit, integration (network namespaces) and Kubernetes (a real local cluster)
# Needs root (network namespaces, nsenter, iptables). Node.js >= 20 and Go >= 1.24 must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-demo}

die() { echo "setup: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (sudo bash scripts/setup.sh $what): podlink's tests create network namespaces"
command -v node >/dev/null || die "Node.js is missing: install Node.js 20 or newer"
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || die "Node.js $(node --version) is too old: podlink needs 20 or newer"

# Debian packages: the network-namespace test world, the test programs, the cluster's parts, and the
# arm64 cross compiler the package's prebuilt layer is made with (scripts/prebuild-layer.sh). The last
# line is the real-program matrix (test/integration/real-programs*.test.ts): programs linked with
# jemalloc (redis-tools, bind9-dnsutils), jemalloc itself to preload, APR's ab, ruby and perl; then
# musl-gcc, for the static musl program the supervisor tests build (test/integration/supervisor-*).
pkgs=(iproute2 iptables nftables dnsmasq-base curl ca-certificates gcc make libc6-dev util-linux procps psmisc
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils
      python3 openjdk-17-jdk-headless containerd runc containernetworking-plugins etcd-server busybox-static
      openssl hyperfine wrk socat strace conntrack valgrind
      redis-tools bind9-dnsutils libjemalloc2 apache2-utils ruby perl
      musl-tools)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Build: TypeScript and the C layer (npm ci runs the `prepare` script, which builds).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm run -s build
fi

case "$what" in
  demo) exec bash scripts/demo.sh ;;
  test) exec bash scripts/test.sh ;;
  *) die "unknown action '$what' (use: demo | test)" ;;
esac
