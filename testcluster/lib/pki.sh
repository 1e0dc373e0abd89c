# The cluster's PKI, made fresh by every `up` (a few seconds of openssl): one CA, the API server's
# serving cert, one client cert per component identity, and the service-account key pair.
# Sourced after common.sh.

# $1 name, $2 subject, $3 extensions (openssl -addext lines), all signed by the CA.
pki_cert() {
  local dir=$KCL_RUN/pki name=$1 subj=$2; shift 2
  local ext=()
  for e in "$@"; do ext+=(-addext "$e"); done
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/$name.key" \
    -subj "$subj" "${ext[@]}" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 30 \
    -copy_extensions copyall -out "$dir/$name.crt" 2>/dev/null
  rm "$dir/$name.csr"
}

pki_make() {
  local dir=$KCL_RUN/pki
  mkdir -p "$dir"
  chmod 700 "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/ca.key" \
    -subj "/CN=podlink-testcluster-ca" -days 30 -out "$dir/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  # 10.96.0.1 for pods (the kubernetes Service), 10.88.0.2 for the laptop and the components.
  pki_cert apiserver "/CN=kube-apiserver" "extendedKeyUsage=serverAuth" \
    "subjectAltName=IP:$KCL_API_SVC_IP,IP:$KCL_NODE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
  # Identities the default RBAC bootstrap policy already knows, so no bindings need creating.
  pki_cert admin "/O=system:masters/CN=podlink-admin" "extendedKeyUsage=clientAuth"
  pki_cert kubelet "/O=system:nodes/CN=system:node:$KCL_NODE" "extendedKeyUsage=clientAuth"
  pki_cert controller-manager "/CN=system:kube-controller-manager" "extendedKeyUsage=clientAuth"
  pki_cert scheduler "/CN=system:kube-scheduler" "extendedKeyUsage=clientAuth"
  pki_cert proxy "/CN=system:kube-proxy" "extendedKeyUsage=clientAuth"
  pki_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
  openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
}

# $1 identity (a cert name above), $2 output path. Certificates are embedded so the file can be
# copied anywhere; the server is the node IP, reachable from the cluster and laptop netns alike.
pki_kubeconfig() {
  local dir=$KCL_RUN/pki id=$1 out=$2
  b64() { base64 -w0 "$1"; }
  cat >"$out" <<KC
apiVersion: v1
kind: Config
clusters:
- name: podlink-testcluster
  cluster:
    server: https://$KCL_NODE_IP:6443
    certificate-authority-data: $(b64 "$dir/ca.crt")
users:
- name: $id
  user:
    client-certificate-data: $(b64 "$dir/$id.crt")
    client-key-data: $(b64 "$dir/$id.key")
contexts:
- name: podlink-testcluster
  context: {cluster: podlink-testcluster, user: $id, namespace: default}
current-context: podlink-testcluster
KC
  chmod 600 "$out"
}
