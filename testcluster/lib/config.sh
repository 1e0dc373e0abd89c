# Writes every component's configuration into $KCL_RUN/config. Sourced after common.sh and pki.sh.
# The values that are not defaults each answer a measured problem (docs/testcluster.md).

config_write() {
  local c=$KCL_RUN/config pki=$KCL_RUN/pki
  mkdir -p "$c" "$KCL_RUN/cni" "$KCL_LIB"
  local id
  for id in admin kubelet controller-manager scheduler proxy; do pki_kubeconfig "$id" "$c/$id.kubeconfig"; done
  cp "$c/admin.kubeconfig" "$KCL_KUBECONFIG"

  # Own root, state and socket: never shares anything with a containerd the machine may run.
  cat >"$c/containerd.toml" <<EOT
version = 2
root = "$KCL_LIB/containerd"
state = "$KCL_RUN/containerd"
[grpc]
  address = "$KCL_RUN/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$KCL_LIB/containerd-opt"
[plugins."io.containerd.grpc.v1.cri"]
  # Imported by up.sh; the built-in default (registry.k8s.io/pause) cannot be pulled here.
  sandbox_image = "localhost/pause:local"
  # root here lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj and every sandbox fails.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # Must match the kubelet's cgroupDriver: cgroupfs (containerd 1.6 cannot tell the kubelet).
        SystemdCgroup = false
        Root = "$KCL_RUN/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$KCL_CNI_BIN"
    conf_dir = "$KCL_RUN/cni"
EOT

  # hairpinMode: a pod must reach itself through its own Service IP. dataDir keeps host-local's
  # IP leases out of the machine's /var/lib/cni.
  cat >"$KCL_RUN/cni/10-podlink-kcl.conflist" <<EOT
{
  "cniVersion": "0.4.0",
  "name": "podlink-kcl",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$KCL_LIB/cni-ipam",
        "ranges": [[{ "subnet": "$KCL_POD_CIDR" }]], "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOT

  # Pods with dnsPolicy Default read this instead of the machine's resolv.conf, whose resolvers are
  # outside the cluster netns. Nothing answers on the pod's own loopback, so names outside the
  # cluster fail at once instead of after resolver timeouts.
  printf 'nameserver 127.0.0.1\noptions ndots:1\n' >"$c/resolv.conf"

  cat >"$c/kubelet.yaml" <<EOT
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# containerd 1.6 has no RuntimeConfig RPC, so the driver is not discovered: say it, matching runc.
cgroupDriver: cgroupfs
# This machine is cgroup v1; 1.34 only warns, later releases refuse unless this is false.
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$KCL_RUN/containerd.sock
imageServiceEndpoint: unix://$KCL_RUN/containerd.sock
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
clusterDNS: [$KCL_DNS_IP]
clusterDomain: cluster.local
resolvConf: $c/resolv.conf
address: $KCL_NODE_IP
healthzBindAddress: 127.0.0.1
healthzPort: 10248
readOnlyPort: 0
podLogsDir: $KCL_LIB/pod-logs
# Defaults are outside --root-dir (/usr/libexec/kubernetes/...); keep everything under our dirs.
volumePluginDir: $KCL_LIB/kubelet-volume-plugins
# The disk may be nearly full; default thresholds would evict the test pods.
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
# Our images exist only as imported tarballs: never garbage-collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 110
EOT

  cat >"$c/proxy.yaml" <<EOT
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $c/proxy.kubeconfig}
hostnameOverride: $KCL_NODE
bindAddress: $KCL_NODE_IP
clusterCIDR: $KCL_CLUSTER_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# nf_conntrack_max is read-only outside the initial netns: 0 tells kube-proxy to leave it alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false}
EOT
}
