#!/usr/bin/env bash
# npm run cluster:up — builds what is missing (cached in $PODLINK_CACHE), boots a single-node
# Kubernetes inside netns kcl, waits until the node is Ready, CoreDNS answers and the default
# ServiceAccount exists, deploys the seed demo, and prints the kubeconfig path (for netns
# kcl-laptop). If the cluster is already up it says so. On any failure it names the component
# and its log, stops everything it started and exits non-zero. docs/testcluster.md has the details.
set -Eeuo pipefail
. "$(dirname "$0")/lib/common.sh"
for part in lock build pki config net run teardown images users; do . "$KCL_TC/lib/$part.sh"; done

T0=$(date +%s.%N)
[ "$(id -u)" = 0 ] || die "must run as root (it creates network namespaces, mounts and cgroups): sudo npm run cluster:up"
kcl_lock "cluster:up"

# One line per missing piece, naming the Debian package that brings it.
preflight() {
  local need=(containerd:containerd containerd-shim-runc-v2:containerd ctr:containerd runc:runc etcd:etcd-server
    nsenter:util-linux setsid:util-linux ip:iproute2 iptables:iptables openssl:openssl curl:curl tar:tar sysctl:procps)
  local item cmd pkg
  for item in "${need[@]}"; do
    cmd=${item%%:*} pkg=${item#*:}
    command -v "$cmd" >/dev/null || die "missing prerequisite: $cmd not found in PATH (apt-get install $pkg)"
  done
  command -v node >/dev/null || die "missing prerequisite: node not found in PATH (install Node.js 20 or newer)"
  for cmd in bridge host-local loopback portmap; do
    [ -x "$KCL_CNI_BIN/$cmd" ] ||
      die "missing prerequisite: CNI plugin $cmd not found in $KCL_CNI_BIN (apt-get install containernetworking-plugins)"
  done
  [ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || die "missing prerequisite: no cgroup hierarchy mounted at /sys/fs/cgroup"
}

# Up means: a finished boot, every component it started still running, and the node Ready.
healthy() {
  [ -f "$KCL_RUN/up" ] && [ -e "/run/netns/$KCL_LAPTOP" ] || return 1
  local f
  for f in "$KCL_RUN"/pids/*; do alive "${f##*/}" || return 1; done
  node_ready
}

preflight
if healthy; then
  # A cluster booted by an older up.sh lacks the users and target workloads: add them.
  if [ ! -f "$KCL_RUN/kubeconfig-alice" ]; then
    users_write
    users_and_targets_apply
    write_env
    say "added users alice, bob, nobody and the target workloads"
  fi
  # …and the second laptop netns.
  if [ ! -e "/run/netns/$KCL_LAPTOP2" ]; then
    net_laptop2_up
    write_env
    say "added netns $KCL_LAPTOP2 (a second laptop)"
  fi
  say "already up (kubeconfig: $KCL_KUBECONFIG; run kubectl inside netns $KCL_LAPTOP)"
  exit 0
fi
if net_exists || [ -d "$KCL_RUN" ] || [ -d "$KCL_LIB" ] || [ -n "$(kubepods_dirs)" ]; then
  say "removing leftovers of an earlier run (log: $KCL_LOG/teardown.log)"
  mkdir -p "$KCL_LOG"
  teardown >"$KCL_LOG/teardown.log" 2>&1
fi

started=0
on_exit() {
  local status=$?
  [ "$status" -ne 0 ] && [ "$status" -ne 130 ] && explain_failure
  if [ "$status" -ne 0 ] && [ "$started" = 1 ]; then
    echo "cluster: stopping everything started so far (log: $KCL_LOG/teardown.log)" >&2
    teardown >"$KCL_LOG/teardown.log" 2>&1 || echo "cluster: teardown failed; log: $KCL_LOG/teardown.log" >&2
  fi
}
trap on_exit EXIT
trap 'echo "cluster: interrupted" >&2; exit 130' INT TERM

mkdir -p "$KCL_LOG"
build_all
images_build

started=1
record_preexisting
net_up
pki_make
config_write
users_write
say "network and PKI ready ($(since "$T0") s)"

k=$KCL_BIN/kcluster c=$KCL_RUN/config p=$KCL_RUN/pki
start_component containerd containerd --config "$c/containerd.toml"
wait_for containerd "containerd's socket" 30 ctr -a "$KCL_RUN/containerd.sock" version
images_import

start_component etcd etcd --name kcl --data-dir "$KCL_RUN/etcd" --unsafe-no-fsync \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster kcl=http://127.0.0.1:2380
wait_for etcd "etcd /health" 30 curl_kcl http://127.0.0.1:2379/health

# --advertise-address: the netns has no default route to derive it from. InternalIP: the node
# name does not resolve, and exec/logs/port-forward would time out looking it up.
start_component kube-apiserver "$k" apiserver --etcd-servers=http://127.0.0.1:2379 \
  --advertise-address="$KCL_NODE_IP" --bind-address=0.0.0.0 --secure-port=6443 \
  --service-cluster-ip-range="$KCL_SERVICE_CIDR" --cert-dir="$KCL_RUN/apiserver" \
  --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" --client-ca-file="$p/ca.crt" \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$p/sa.pub" --service-account-signing-key-file="$p/sa.key" \
  --kubelet-client-certificate="$p/apiserver-kubelet-client.crt" --kubelet-client-key="$p/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types=InternalIP --profiling=false
wait_for kube-apiserver "kube-apiserver /readyz" 90 api_ready
say "API server ready ($(since "$T0") s)"

start_component kube-controller-manager "$k" controller-manager --kubeconfig="$c/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$c/controller-manager.kubeconfig" --authorization-kubeconfig="$c/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
  --service-account-private-key-file="$p/sa.key" --root-ca-file="$p/ca.crt" \
  --cluster-signing-cert-file="$p/ca.crt" --cluster-signing-key-file="$p/ca.key" \
  --allocate-node-cidrs=true --cluster-cidr="$KCL_CLUSTER_CIDR" --node-cidr-mask-size=24 \
  --service-cluster-ip-range="$KCL_SERVICE_CIDR" --profiling=false
wait_for kube-controller-manager "kube-controller-manager /healthz" 60 curl_kcl -k https://127.0.0.1:10257/healthz
start_component kube-scheduler "$k" scheduler --kubeconfig="$c/scheduler.kubeconfig" \
  --authentication-kubeconfig="$c/scheduler.kubeconfig" --authorization-kubeconfig="$c/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --profiling=false
wait_for kube-scheduler "kube-scheduler /healthz" 60 curl_kcl -k https://127.0.0.1:10259/healthz

start_component kubelet "$k" kubelet --config="$c/kubelet.yaml" --kubeconfig="$c/kubelet.kubeconfig" \
  --root-dir="$KCL_LIB/kubelet" --cert-dir="$KCL_RUN/kubelet-pki" --node-ip="$KCL_NODE_IP" --hostname-override="$KCL_NODE"
wait_for kubelet "kubelet /healthz" 60 curl_kcl http://127.0.0.1:10248/healthz
wait_for kubelet "node $KCL_NODE Ready" 90 node_ready
# Ready implies the kubelet's one-time node setup ran, kernel tunables included; undo those.
restore_sysctls
say "node Ready ($(since "$T0") s)"

start_component kube-proxy "$k" proxy --config="$c/proxy.yaml"
wait_for kube-proxy "kube-proxy /healthz" 60 curl_kcl http://127.0.0.1:10256/healthz
# Pods created before the ServiceAccount controller made `default` are rejected.
wait_for kube-controller-manager "serviceaccount/default" 60 has_default_sa

kctl apply -f "$KCL_TC/manifests/coredns.yaml" >"$KCL_LOG/coredns-deploy.log" 2>&1 ||
  die "coredns could not be deployed; log: $KCL_LOG/coredns-deploy.log"
wait_workload coredns kube-system deployment/coredns 120
wait_for kube-proxy "CoreDNS answering at $KCL_DNS_IP" 60 dns_answers
say "CoreDNS answers ($(since "$T0") s)"

kctl apply -f "$KCL_TC/manifests/demo.yaml" >"$KCL_LOG/demo-deploy.log" 2>&1 ||
  die "the seed demo could not be deployed; log: $KCL_LOG/demo-deploy.log"
for svc in service-a service-b service-c; do wait_workload "$svc" default "deployment/$svc" 120; done
users_and_targets_apply
wait_for kubelet "the target workloads (manifests/targets.yaml) Ready" 120 targets_ready
say "target workloads and users alice, bob, nobody ready ($(since "$T0") s)"

write_env
touch "$KCL_RUN/up"
say "up in $(since "$T0") s"
say "kubeconfig: $KCL_KUBECONFIG (the API server $KCL_NODE_IP:6443 is reachable from netns $KCL_LAPTOP only:"
say "  nsenter --net=/run/netns/$KCL_LAPTOP kubectl --kubeconfig $KCL_KUBECONFIG get pods)"
