# Stopping the cluster and removing every trace of it. Used by down.sh, and by up.sh both for
# leftovers of an earlier run and when a boot fails half-way. Idempotent: every step tolerates
# finding nothing. Sourced after common.sh and net.sh.
#
# Where the cluster leaves state (each found on a real boot here, see docs/testcluster.md):
# processes in netns kcl (components, containerd shims) and in kubepods cgroups (pods); mounts
# under $KCL_RUN and $KCL_LIB (container rootfs, sandbox shm, pod volumes, the kubelet's root-dir
# bind mount); pod netns /run/netns/cni-*; netns kcl, kcl-laptop and kcl-laptop2 (with their veth, bridge and
# iptables rules); kubepods cgroups in every hierarchy; shim sockets in /run/containerd/s;
# /var/lib/cni result cache; /var/log/containers links; /var/lib/kubelet/device-plugins; kernel
# sysctls the kubelet rewrites.

KCL_PRE=$KCL_RUN/preexisting   # what was there before `up`, so teardown removes only its own

# Kernel-wide (not per-netns) settings the kubelet changes at start (protectKernelDefaults=false
# makes it write them; true makes it refuse to start unless they already have its values).
KCL_GLOBAL_SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops)

record_preexisting() {
  mkdir -p "$KCL_RUN"
  {
    local k n
    for k in "${KCL_GLOBAL_SYSCTLS[@]}"; do echo "sysctl $k $(sysctl -n "$k")"; done
    for n in /run/netns/cni-*; do [ -e "$n" ] && echo "netns ${n##*/}"; done
    for n in /run/containerd/s/*; do [ -e "$n" ] && echo "shim-socket $n"; done
    local d
    for d in /run/containerd /run/containerd/s /var/lib/cni /var/log/containers /var/lib/kubelet; do
      [ -e "$d" ] && echo "dir $d"
    done
    true
  } >"$KCL_PRE"
}

# The kubelet rewrites these once, when it starts; putting them back right after keeps the machine's
# kernel behaviour as it was while the cluster runs (kernel.panic_on_oops=1 would turn any oops into
# a panic of the whole machine). Teardown does it again in case the kubelet started later.
restore_sysctls() {
  [ -f "$KCL_PRE" ] || return 0
  local kind k v
  while read -r kind k v; do
    if [ "$kind" = sysctl ] && [ "$(sysctl -n "$k")" != "$v" ]; then sysctl -qw "$k=$v"; fi
  done <"$KCL_PRE"
}

was_there() { grep -qxF "$1" "$KCL_PRE" 2>/dev/null; }

# TERM, up to $1 seconds of grace, then KILL; only pids still inside the cluster netns $2, so a
# pid recycled by an unrelated process since a crash is never touched.
stop_pids() {
  local grace=$1 ns=$2 p alive_pids; shift 2
  local pids=()
  for p in "$@"; do [ -n "$p" ] && [ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$ns" ] && pids+=("$p"); done
  [ ${#pids[@]} -eq 0 ] && return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local end=$(($(date +%s) + grace))
  while [ "$(date +%s)" -lt "$end" ]; do
    alive_pids=()
    for p in "${pids[@]}"; do [ -d "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && alive_pids+=("$p"); done
    [ ${#alive_pids[@]} -eq 0 ] && return 0
    sleep 0.2
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

component_pids() { local n; for n in "$@"; do cat "$KCL_RUN/pids/$n" 2>/dev/null || true; done; }

kubepods_dirs() { find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d -name kubepods 2>/dev/null; }

kill_pods() {
  local d
  for d in $(kubepods_dirs); do
    find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u | xargs -r kill -KILL 2>/dev/null || true
  done
}

mounts_under() { # mount points at or below any of the given dirs, deepest first
  awk '{print $5}' /proc/self/mountinfo | sed 's/\\040/ /g' | while read -r m; do
    for d in "$@"; do case "$m" in "$d" | "$d"/*) echo "$m" ;; esac; done
  done | awk '{print length, $0}' | sort -rn | cut -d' ' -f2-
}

unmount_under() {
  local pass m
  for pass in 1 2 3 4 5; do
    [ -z "$(mounts_under "$@")" ] && return 0
    mounts_under "$@" | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  done
}

step() { echo "teardown: $* ($(since "$KCL_T0") s)"; }

teardown() {
  KCL_T0=$(date +%s.%N)
  local kcl_id laptop_id laptop2_id
  kcl_id=$(netns_id "$KCL_NETNS" || true)
  laptop_id=$(netns_id "$KCL_LAPTOP" || true)
  laptop2_id=$(netns_id "$KCL_LAPTOP2" || true)
  if [ -n "$kcl_id" ]; then
    # Clients first: with them connected the API server takes a minute to exit, without a few s.
    step "stopping the API server's clients"
    stop_pids 10 "$kcl_id" $(component_pids kubelet kube-proxy kube-scheduler kube-controller-manager)
    step "killing pods"
    kill_pods
    step "stopping kube-apiserver"
    stop_pids 15 "$kcl_id" $(component_pids kube-apiserver)
    step "stopping etcd and containerd"
    stop_pids 10 "$kcl_id" $(component_pids etcd containerd)
  fi
  # Whatever else lives in the netns: containerd shims, a crashed run's components, a test's
  # kubectl port-forward or podlink in a laptop netns.
  step "killing what else runs in the netns"
  local id i ids=()
  [ -n "$kcl_id" ] && ids+=("$kcl_id")
  [ -n "$laptop_id" ] && ids+=("$laptop_id")
  [ -n "$laptop2_id" ] && ids+=("$laptop2_id")
  for i in 1 2 3 4 5 6 7 8 9 10; do
    local rest=()
    for id in "${ids[@]}"; do mapfile -t -O "${#rest[@]}" rest < <(pids_in_netns "$id"); done
    kill_pods
    [ ${#rest[@]} -eq 0 ] && break
    kill -KILL "${rest[@]}" 2>/dev/null || true
    sleep 0.3
  done

  step "unmounting"
  unmount_under "$KCL_RUN" "$KCL_LIB"
  step "deleting network namespaces"
  local n
  for n in /run/netns/cni-*; do
    [ -e "$n" ] || continue
    was_there "netns ${n##*/}" || ip netns delete "${n##*/}" 2>/dev/null || true
  done
  for n in "$KCL_NETNS" "$KCL_LAPTOP" "$KCL_LAPTOP2"; do [ -e "/run/netns/$n" ] && ip netns delete "$n"; done

  step "removing cgroups"
  local d
  for i in 1 2 3 4 5 6 7 8 9 10; do
    for d in $(kubepods_dirs); do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; done
    [ -z "$(kubepods_dirs)" ] && break
    kill_pods
    sleep 0.3
  done

  step "removing files"
  # Other places outside our dirs, removed only when they were not there before `up`.
  for n in /run/containerd/s/*; do [ -e "$n" ] && ! was_there "shim-socket $n" && rm -f "$n"; done
  rm -f /var/lib/cni/results/podlink-kcl-* 2>/dev/null || true
  for n in /var/log/containers/*; do
    [ -L "$n" ] && case "$(readlink "$n")" in "$KCL_LIB"/*) rm -f "$n" ;; esac
  done
  # /var/lib/kubelet: the kubelet's device-plugin socket path is fixed, whatever --root-dir says.
  for d in /run/containerd/s /run/containerd /var/lib/cni/results /var/lib/cni /var/log/containers /var/lib/kubelet; do
    [ -f "$KCL_PRE" ] && ! was_there "dir $d" && [ -d "$d" ] && [ -z "$(mounts_under "$d")" ] && rm -rf --one-file-system "$d"
  done
  restore_sysctls
  # Never rm -rf a tree with something still mounted in it: a hostPath volume is a bind mount of
  # the machine's own files.
  for d in "$KCL_RUN" "$KCL_LIB"; do
    [ -d "$d" ] && [ -z "$(mounts_under "$d")" ] && rm -rf --one-file-system "$d"
  done
  step "done"
  return 0
}

# Everything of the cluster still on the machine, one line each; empty when it is really gone.
leftovers() {
  local n m p
  for n in "$KCL_NETNS" "$KCL_LAPTOP" "$KCL_LAPTOP2"; do [ -e "/run/netns/$n" ] && echo "netns $n"; done
  for m in $(mounts_under "$KCL_RUN" "$KCL_LIB"); do echo "mount $m"; done
  for n in $(kubepods_dirs); do echo "cgroup $n"; done
  for p in /proc/[0-9]*; do
    case "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" in
      *"$KCL_BIN/"* | *"$KCL_RUN"* | *"$KCL_LIB"*) echo "process ${p#/proc/}: $(tr '\0' ' ' 2>/dev/null <"$p/cmdline" | cut -c1-120)" ;;
    esac
  done
  for d in "$KCL_RUN" "$KCL_LIB"; do [ -e "$d" ] && echo "dir $d"; done
  return 0
}
