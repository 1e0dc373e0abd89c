# Test users besides the admin, and the workloads of every target kind. Sourced after common.sh,
# pki.sh and run.sh.
#
#   alice   the namespaced Role `podlink` of docs/rbac.md, bound in namespace default only
#   bob     the ClusterRole `podlink-developer` of docs/rbac.md, bound in every namespace
#   nobody  authenticated (a client cert of this CA) with no binding at all: every call is forbidden
#
# Each gets a client cert of the cluster's CA and a kubeconfig at $KCL_RUN/kubeconfig-<user>
# (listed in the env file as PODLINK_CLUSTER_KUBECONFIG_<USER>). The roles and bindings are in
# manifests/podlink-rbac.yaml, which a unit test keeps identical to docs/rbac.md.

KCL_USERS=(alice bob nobody)

users_write() {
  local u
  for u in "${KCL_USERS[@]}"; do
    pki_cert "$u" "/CN=$u" "extendedKeyUsage=clientAuth"
    pki_kubeconfig "$u" "$KCL_RUN/kubeconfig-$u"
  done
}

# After the demo: the users' roles, then the target workloads (manifests/targets.yaml). The
# CronJob is suspended so that its Jobs are only the one made here, which stays running.
users_and_targets_apply() {
  kctl apply -f "$KCL_TC/manifests/podlink-rbac.yaml" >"$KCL_LOG/rbac-deploy.log" 2>&1 ||
    die "the podlink roles could not be applied; log: $KCL_LOG/rbac-deploy.log"
  kctl apply -f "$KCL_TC/manifests/targets.yaml" >"$KCL_LOG/targets-deploy.log" 2>&1 ||
    die "the target workloads could not be deployed; log: $KCL_LOG/targets-deploy.log"
  kctl -n default get job nightly-report-manual >/dev/null 2>&1 ||
    kctl -n default create job nightly-report-manual --from=cronjob/nightly-report >>"$KCL_LOG/targets-deploy.log" 2>&1 ||
    die "the CronJob's Job could not be created; log: $KCL_LOG/targets-deploy.log"
}

# Every pod of the target workloads Ready (they start side by side, so one wait covers them).
targets_ready() {
  [ "$(kctl -n default get pods -l podlink.dev/testcluster=targets \
    -o 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null |
    grep -c True)" -ge 5 ]
}
