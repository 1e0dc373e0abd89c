# Builds what the cluster runs that Debian does not ship: the multicall Kubernetes binary, CoreDNS
# and the pause program. Every output lives in $KCL_CACHE next to a hash of its inputs and is rebuilt
# only when that hash changes. Sourced after common.sh.

# Go's caches live in the cluster cache too, so a warm machine never downloads or recompiles.
go_env() {
  env GOMODCACHE="$KCL_CACHE/go/mod" GOCACHE="$KCL_CACHE/go/build" GOTOOLCHAIN=local CGO_ENABLED=0 \
    GOFLAGS=-buildvcs=false "$@"
}

in_dir() { cd "$1" && shift && "$@"; }   # only ever run inside build_step's subshell

# $1 output, $2 hash; true if the output exists and was built from the same inputs.
up_to_date() { [ -x "$1" ] && [ "$(cat "$1.inputs" 2>/dev/null)" = "$2" ]; }

build_step() { # $1 what, $2 log, then the command; prints a clear line and the log's tail on failure
  local what=$1 log=$2 t0; shift 2
  t0=$(date +%s.%N)
  say "building $what (log: $log)"
  if ! ("$@") >"$log" 2>&1; then
    tail -n 15 "$log" >&2
    die "building $what failed; log: $log"
  fi
  say "built $what in $(since "$t0") s"
}

build_kcluster() {
  command -v go >/dev/null || die "missing prerequisite: go (Go >= 1.24 builds the Kubernetes components)"
  local src=$KCL_TC/kcluster out=$KCL_BIN/kcluster hash gv
  gv=$(go version)
  hash=$(inputs_hash "$src/go.mod" "$src/go.sum" "$src/main.go" "$gv" "$KCL_K8S_VERSION")
  mkdir -p "$KCL_BIN" "$KCL_LOG"
  # kubectl is the same binary under another name (main.go dispatches on argv[0]).
  ln -sfn kcluster "$KCL_BIN/kubectl"
  up_to_date "$out" "$hash" && return 0
  local minor=${KCL_K8S_VERSION#v1.}; minor=${minor%%.*}
  # Stamp the version both packages report; unstamped, the node and /version say v0.0.0-master.
  local x="" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x+=" -X $pkg.gitVersion=$KCL_K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    x+=" -X $pkg.gitCommit=${hash:0:40} -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  build_step "Kubernetes $KCL_K8S_VERSION (apiserver, controller-manager, scheduler, kubelet, proxy, kubectl)" \
    "$KCL_LOG/build-kcluster.log" \
    in_dir "$src" go_env go build -trimpath -ldflags "-s -w$x" -o "$out.tmp" .
  mv "$out.tmp" "$out"
  echo "$hash" >"$out.inputs"
}

build_coredns() {
  command -v go >/dev/null || die "missing prerequisite: go (Go >= 1.24 builds CoreDNS)"
  local src=$KCL_TC/coredns out=$KCL_BIN/coredns hash gv
  gv=$(go version)
  hash=$(inputs_hash "$src/go.mod" "$src/go.sum" "$src/main.go" "$gv")
  up_to_date "$out" "$hash" && return 0
  mkdir -p "$KCL_BIN" "$KCL_LOG"
  # A module of its own (coredns/go.mod): CoreDNS pins its own client-go, which would fight the
  # Kubernetes module's pins if both lived in one go.mod.
  build_step "CoreDNS $KCL_COREDNS_VERSION" "$KCL_LOG/build-coredns.log" \
    in_dir "$src" go_env go build -trimpath -ldflags "-s -w" -o "$out.tmp" .
  mv "$out.tmp" "$out"
  echo "$hash" >"$out.inputs"
}

build_pause() {
  command -v gcc >/dev/null || die "missing prerequisite: gcc (builds the static pause program; apt-get install gcc libc6-dev)"
  local src=$KCL_TC/images/pause.c out=$KCL_BIN/pause hash
  hash=$(inputs_hash "$src" "$(gcc --version | head -1)")
  up_to_date "$out" "$hash" && return 0
  mkdir -p "$KCL_BIN" "$KCL_LOG"
  build_step "pause" "$KCL_LOG/build-pause.log" gcc -Os -static -Wall -Werror -o "$out" "$src"
  echo "$hash" >"$out.inputs"
}

build_all() { build_pause; build_kcluster; build_coredns; }
