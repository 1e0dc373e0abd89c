# The cluster's network namespaces. Sourced after common.sh.
#
#   netns kcl  (every component, every pod)          netns kcl-laptop (kubectl, tests, podlink)
#     eth0 10.88.0.2/24  <──────── veth ────────>     kcl0 10.88.0.1/24
#     cni0 10.244.0.1/24 (pods, made by CNI)          no other route: pod and Service IPs unreachable
#     route to 10.96.0.0/16 (Services) on eth0
#     eth1 10.88.1.2/24  <──────── veth ────────>     netns kcl-laptop2 (a second developer's laptop)
#                                                       kcl0 10.88.1.1/24, route to 10.88.0.2/32 only
#
# Neither netns has a default route, and the veth is created with both ends already inside the
# namespaces, so nothing of the cluster ever appears in the machine's own netns.

net_up() {
  ip netns add "$KCL_NETNS"
  ip netns add "$KCL_LAPTOP"
  ip link add eth0 netns "$KCL_NETNS" type veth peer name kcl0 netns "$KCL_LAPTOP"

  in_kcl ip link set lo up
  in_kcl ip addr add "$KCL_NODE_IP/24" dev eth0
  in_kcl ip link set eth0 up
  # Processes of the node itself (the API server calling a webhook Service, a check of CoreDNS)
  # need a route to Service IPs for kube-proxy's OUTPUT-chain DNAT to apply (the packet is routed
  # again after DNAT, to the pod). A route for the Service range only, not a default route: a
  # Service IP that nothing DNATs then fails here instead of heading out of the cluster.
  in_kcl ip route add "$KCL_SERVICE_CIDR" dev eth0
  # A new netns starts with forwarding off; pods' traffic is routed through this netns.
  in_kcl sysctl -qw net.ipv4.ip_forward=1
  in_kcl sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true

  in_laptop ip link set lo up
  in_laptop ip addr add "$KCL_LAPTOP_IP/24" dev kcl0
  in_laptop ip link set kcl0 up
  net_laptop2_up
}

# The second laptop: the API server listens on every address of netns kcl, so a route to the node
# IP through its own veth is all it needs (the certificate names 10.88.0.2, which it still dials).
# Also run by an "already up" up.sh on a cluster booted before it existed.
net_laptop2_up() {
  ip netns add "$KCL_LAPTOP2"
  ip link add eth1 netns "$KCL_NETNS" type veth peer name kcl0 netns "$KCL_LAPTOP2"
  in_kcl ip addr add "$KCL_NODE_IP2/24" dev eth1
  in_kcl ip link set eth1 up
  in_laptop2 ip link set lo up
  in_laptop2 ip addr add "$KCL_LAPTOP2_IP/24" dev kcl0
  in_laptop2 ip link set kcl0 up
  in_laptop2 ip route add "$KCL_NODE_IP/32" via "$KCL_NODE_IP2" dev kcl0
}

net_exists() { [ -e "/run/netns/$KCL_NETNS" ] || [ -e "/run/netns/$KCL_LAPTOP" ] || [ -e "/run/netns/$KCL_LAPTOP2" ]; }

# Inode of a netns, to find every process living in it ("net:[4026532...]").
netns_id() { [ -e "/run/netns/$1" ] && stat -L -c 'net:[%i]' "/run/netns/$1"; }

# PIDs of every process whose network namespace is $1 (a netns_id).
pids_in_netns() {
  local want=$1 p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$want" ] && echo "${p#/proc/}"
  done
  return 0
}
