# Starting the components and waiting for them. Sourced after common.sh and net.sh.

# Extra flags for one component from the environment, for debugging (--v=4) and for the tests'
# bad-input cases: PODLINK_CLUSTER_ARGS_KUBE_APISERVER="--v=4" adds to kube-apiserver's flags.
extra_args() {
  local var="PODLINK_CLUSTER_ARGS_$(echo "$1" | tr 'a-z-' 'A-Z_')"
  echo "${!var:-}"
}

# $1 component name, then the command. Runs detached inside the cluster netns, stdio to its log,
# pid in $KCL_RUN/pids/<name>. Stays a job of this shell so that a crash can be told from a hang.
start_component() {
  local name=$1 log=$KCL_LOG/$1.log extra; shift
  extra=$(extra_args "$name")
  mkdir -p "$KCL_RUN/pids" "$KCL_LOG"
  # The cluster-script lock (lib/lock.sh) stays with this shell, not with the component.
  # shellcheck disable=SC2086 # extra flags are word-split on purpose
  if [ -n "${KCL_LOCK_FD:-}" ]; then
    setsid nsenter --net=/run/netns/$KCL_NETNS -- "$@" $extra </dev/null >"$log" 2>&1 {KCL_LOCK_FD}>&- &
  else
    setsid nsenter --net=/run/netns/$KCL_NETNS -- "$@" $extra </dev/null >"$log" 2>&1 &
  fi
  echo $! >"$KCL_RUN/pids/$name"
  say "started $name (pid $!, log: $log)"
}

pid_of() { cat "$KCL_RUN/pids/$1" 2>/dev/null; }

# Alive and not a zombie: a crashed component stays a zombie child of this shell until waited for.
alive() {
  local pid state
  pid=$(pid_of "$1") || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# The one line for a component that did not come up, with the likeliest cause from its log.
component_failed() {
  local name=$1 why=$2 log=$KCL_LOG/$1.log hint=""
  hint=$(grep -m1 -oE '(listen|bind)[^"]*address already in use|address already in use' "$log" 2>/dev/null || true)
  [ -z "$hint" ] && hint=$(grep -m1 -E 'unknown flag|Error: |[Ff]ailed to run|fatal' "$log" 2>/dev/null | cut -c1-200 || true)
  die "$name failed to start: $why${hint:+: $hint}; log: $log"
}

# $1 component, $2 what we wait for (for progress lines), $3 timeout in seconds, then a check
# command. Fails fast when the component dies; prints a progress line every 5 s.
wait_for() {
  local name=$1 what=$2 timeout=$3 t0 next=5 elapsed status; shift 3
  t0=$(date +%s)
  while ! "$@" >/dev/null 2>&1; do
    if ! alive "$name"; then
      status=0
      wait "$(pid_of "$name")" 2>/dev/null || status=$?
      component_failed "$name" "exited with status $status while waiting for $what"
    fi
    elapsed=$(($(date +%s) - t0))
    [ "$elapsed" -ge "$timeout" ] && component_failed "$name" "no $what after ${timeout} s"
    if [ "$elapsed" -ge "$next" ]; then
      say "waiting for $what ($elapsed s)"
      next=$((next + 5))
    fi
    sleep 0.3
  done
}

# Checks, each run from the cluster netns (or the laptop netns for the API, like a user would).
curl_kcl() { in_kcl curl -fsS --max-time 3 "$@"; }
api_ready() { [ "$(curl_kcl --cacert "$KCL_RUN/pki/ca.crt" "https://$KCL_NODE_IP:6443/readyz")" = ok ]; }
node_ready() {
  [ "$(kctl --request-timeout=5s get node "$KCL_NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
has_default_sa() { kctl -n default get serviceaccount default; }

# Pods that can never start: fail at once instead of waiting out the timeout.
HOPELESS='ErrImageNeverPull|InvalidImageName|CreateContainerConfigError|CreateContainerError|CrashLoopBackOff|RunContainerError'

# Describe and logs of a workload's pods, for the log file a failure line points at.
# label selector of a deployment, as key=value,... for -l
selector_of() { kctl -n "$1" get "$2" -o 'jsonpath={.spec.selector.matchLabels}' 2>/dev/null | tr -d '{}"' | tr : =; }

workload_diagnostics() {
  local ns=$1 ref=$2 sel
  sel=$(selector_of "$ns" "$ref")
  kctl -n "$ns" describe "$ref" 2>&1 || true
  kctl -n "$ns" describe pods -l "$sel" 2>&1 || true
  kctl -n "$ns" logs -l "$sel" --all-containers --tail=50 2>&1 || true
}

# $1 name for messages, $2 namespace, $3 deployment/<name>, $4 timeout: all replicas available.
wait_workload() {
  local name=$1 ns=$2 ref=$3 timeout=$4 t0 next=5 elapsed want have reasons log=$KCL_LOG/$1.log
  t0=$(date +%s)
  while :; do
    want=$(kctl -n "$ns" get "$ref" -o 'jsonpath={.spec.replicas}' 2>/dev/null || true)
    have=$(kctl -n "$ns" get "$ref" -o 'jsonpath={.status.availableReplicas}' 2>/dev/null || true)
    [ -n "$want" ] && [ "${have:-0}" = "$want" ] && return 0
    reasons=$(kctl -n "$ns" get pods -l "$(selector_of "$ns" "$ref")" \
      -o 'jsonpath={.items[*].status.containerStatuses[*].state.waiting.reason}' 2>/dev/null || true)
    elapsed=$(($(date +%s) - t0))
    if echo "$reasons" | grep -qE "$HOPELESS" || [ "$elapsed" -ge "$timeout" ]; then
      workload_diagnostics "$ns" "$ref" >"$log"
      die "$name failed to start: ${reasons:-not available after $elapsed s}; log: $log"
    fi
    if [ "$elapsed" -ge "$next" ]; then
      say "waiting for $name (${have:-0}/${want:-?} available, $elapsed s)"
      next=$((next + 5))
    fi
    sleep 0.5
  done
}

# A cluster name through the kube-dns Service: proves CoreDNS and kube-proxy's DNAT together.
dns_answers() {
  in_kcl node -e '
    const r = new (require("dns").promises.Resolver)({ timeout: 1500, tries: 1 });
    r.setServers([process.argv[1]]);
    r.resolve4("kubernetes.default.svc.cluster.local").then(
      (a) => process.exit(a.includes(process.argv[2]) ? 0 : 1), () => process.exit(1));' "$KCL_DNS_IP" "$KCL_API_SVC_IP"
}

# Facts tests and tools read (test.sh sources this file): where the cluster is and how to reach it.
write_env() {
  cat >"$KCL_ENV" <<EOT
PODLINK_CLUSTER_KUBECONFIG=$KCL_KUBECONFIG
PODLINK_CLUSTER_KUBECTL=$KCL_BIN/kubectl
PODLINK_CLUSTER_KUBECTL_CACHE=$KCL_KUBECTL_CACHE
PODLINK_CLUSTER_NETNS=$KCL_NETNS
PODLINK_CLUSTER_LAPTOP_NETNS=$KCL_LAPTOP
PODLINK_CLUSTER_LAPTOP2_NETNS=$KCL_LAPTOP2
PODLINK_CLUSTER_API=https://$KCL_NODE_IP:6443
PODLINK_CLUSTER_NODE=$KCL_NODE
PODLINK_CLUSTER_LOGS=$KCL_LOG
PODLINK_CLUSTER_DIR=$KCL_TC
PODLINK_CLUSTER_KUBECONFIG_ALICE=$KCL_RUN/kubeconfig-alice
PODLINK_CLUSTER_KUBECONFIG_BOB=$KCL_RUN/kubeconfig-bob
PODLINK_CLUSTER_KUBECONFIG_NOBODY=$KCL_RUN/kubeconfig-nobody
EOT
}
