# Shared by up.sh, down.sh and build.sh: where the test cluster keeps things, its addresses, and the
# one-line error style. Sourced, not run.

# Slow, reusable outputs (Go caches, binaries, image tarballs) survive `down` and are keyed by a hash
# of their inputs. Everything else is recreated by every `up` and removed by `down`.
KCL_CACHE=${PODLINK_CACHE:-/var/cache/podlink}
KCL_BIN=$KCL_CACHE/bin
KCL_IMAGES=$KCL_CACHE/images
KCL_RUN=/run/podlink-cluster          # PKI, configs, kubeconfig, pid files, etcd data, containerd state
KCL_LIB=/var/lib/podlink-cluster      # containerd's images/snapshots and the kubelet's root dir
KCL_LOG=/var/log/podlink-cluster      # one log per component; kept after `down` for debugging
KCL_KUBECONFIG=$KCL_RUN/kubeconfig
KCL_ENV=$KCL_RUN/env                  # shell-sourceable facts about the running cluster, for tests
KCL_CNI_BIN=${PODLINK_CLUSTER_CNI_BIN:-/usr/lib/cni}

# Network: the cluster netns holds every component and every pod; the laptop netns reaches the
# API server over a veth and nothing else (no default route anywhere).
KCL_NETNS=kcl
KCL_LAPTOP=kcl-laptop
KCL_NODE_IP=10.88.0.2                 # cluster side of the veth: API server, kubelet, node
KCL_LAPTOP_IP=10.88.0.1
# A second laptop (two developers on one cluster, issue 15): its own veth and /24, and a route to
# the node IP only, so it too reaches the API server and nothing else.
KCL_LAPTOP2=kcl-laptop2
KCL_LAPTOP2_IP=10.88.1.1
KCL_NODE_IP2=10.88.1.2
KCL_POD_CIDR=10.244.0.0/24
KCL_CLUSTER_CIDR=10.244.0.0/16
KCL_SERVICE_CIDR=10.96.0.0/16
KCL_API_SVC_IP=10.96.0.1
KCL_DNS_IP=10.96.0.10
KCL_NODE=kcl-node
KCL_K8S_VERSION=v1.34.4
KCL_COREDNS_VERSION=v1.12.1          # for messages; the pin is in coredns/go.mod (what kubeadm 1.34 deploys)

KCL_TC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)   # testcluster/ in the clone

say() { echo "cluster: $*"; }
# One clear line on stderr; callers' traps stop whatever was started.
die() { KCL_DIED=1; echo "cluster: $*" >&2; exit 1; }
KCL_DIED=0

# For failures that no die() explains (a bug, or a tool failing in a way not foreseen), so that
# they too end with one line saying what failed. Needs `set -E` to reach into functions.
on_err() {
  local i where=""
  for ((i = 1; i < ${#BASH_SOURCE[@]} && i < 4; i++)); do where+=" ${BASH_SOURCE[i]##*/}:${BASH_LINENO[i - 1]}"; done
  KCL_ERR="'$BASH_COMMAND' failed (at$where)"
}
trap on_err ERR
explain_failure() { [ "$KCL_DIED" = 1 ] || echo "cluster: ${KCL_ERR:-failed}" >&2; }

# Runs a command inside the cluster netns. nsenter --net, not `ip netns exec`: the latter also
# unshares the mount namespace and remounts /sys, which hides the cgroup mounts from kubelet/runc.
in_kcl() { nsenter --net=/run/netns/$KCL_NETNS -- "$@"; }
in_laptop() { nsenter --net=/run/netns/$KCL_LAPTOP -- "$@"; }
in_laptop2() { nsenter --net=/run/netns/$KCL_LAPTOP2 -- "$@"; }
KCL_KUBECTL_CACHE=$KCL_RUN/kubectl-cache   # not ~/.kube/cache: nothing of the cluster in $HOME
kctl() { in_laptop "$KCL_BIN/kubectl" --kubeconfig "$KCL_KUBECONFIG" --cache-dir "$KCL_KUBECTL_CACHE" "$@"; }

# sha256 of every named file's content and of extra strings, for "rebuild when inputs change".
inputs_hash() {
  local files=() strs=() a
  for a in "$@"; do if [ -f "$a" ]; then files+=("$a"); else strs+=("$a"); fi; done
  { [ ${#files[@]} -eq 0 ] || sha256sum "${files[@]}"; printf '%s\n' "${strs[@]}"; } | sha256sum | cut -c1-64
}

# Seconds since $1 (a `date +%s.%N` stamp), one decimal.
since() { awk -v s="$1" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }'; }
