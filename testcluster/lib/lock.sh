# One test-cluster script at a time: up, down, build and image take the same lock, so two
# `cluster:up` (a test run and a manual one) never build into the same output or boot twice — the
# second waits, saying for whom, and then finds the cluster up. Sourced after common.sh.
#
# flock(1) on a file in the cache dir (it survives `down`, and is no state of the cluster). The lock
# is held on a descriptor of the script's shell; start_component closes it in the components, so a
# kube-apiserver left running does not keep the lock after `up` exits. The file holds the holder's
# pid and script name, for the waiting message only.

KCL_LOCK=${PODLINK_CLUSTER_LOCK:-$KCL_CACHE/cluster.lock}
KCL_LOCK_FD=

# $1 what this script is (for the other side's message). Waits as long as it takes: a cold build
# runs for minutes, and giving up would leave the caller with nothing to do but try again.
kcl_lock() {
  local what=$1 holder
  command -v flock >/dev/null || die "missing prerequisite: flock not found in PATH (apt-get install util-linux)"
  mkdir -p "$(dirname "$KCL_LOCK")"
  exec {KCL_LOCK_FD}<>"$KCL_LOCK"
  if ! flock -n "$KCL_LOCK_FD"; then
    holder=$(head -c 200 "$KCL_LOCK" 2>/dev/null | tr -d '\n' || true)
    say "waiting for another test-cluster script to finish (${holder:-unknown holder}; lock: $KCL_LOCK)"
    flock "$KCL_LOCK_FD"
    say "got the lock after waiting"
  fi
  # Truncate through our own descriptor's path: waiters only read the file, never write it.
  printf '%s (pid %s)\n' "$what" "$$" >"$KCL_LOCK"
}
