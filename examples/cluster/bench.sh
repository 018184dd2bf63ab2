#!/usr/bin/env bash
# N tide nodes cold-start the SD-webui example image at once behind one shaped registry uplink.
# Usage (root): examples/cluster/bench.sh --layout DIR [--nodes 20] [--rate 1gbit] [--cases "1 d m w"]
#                                         [--out FILE] [--reuse KEPT_WORK_DIR] [--mirror-slice 256k]
# Topology, all created here and removed at the end: a bridge; the registry in its own network
# namespace behind a veth shaped with tc tbf (both directions), the pool's only way to the
# registry; nginx (examples/cluster/nginx-mirror.conf) in its own namespace on the bridge, unshaped
# towards the nodes; each node in its own namespace with its own containerd and tide-snapshotter.
# No RTT is added (tc has no netem here), and every node shares the same 2 CPUs.
#
# Twenty Python startups at once would be bound by those 2 CPUs, not by the link, so the nodes do
# not run the app: each container replays the reads `tidectl optimize` recorded while the app
# started (its --profile-out; docs/profiles.md), file by file and range by range, with replay.py.
# A node is ready when its replay is done. Cases:
#   1) one node alone: the baseline for time and for registry bytes
#   d) N nodes straight to the registry        m) N nodes through the nginx mirror (cold cache)
#   w) N nodes warmed first (`tidectl warm`, startup set, straight to the registry; timed apart)
#   W) as w, but the nodes warm and start through the nginx mirror (cold cache)
#   A) as m, with prefetch = "all": egress is counted once every node's background prefetch has
#      fetched the whole image, against the whole image. N whole images may not fit the disk, so each
#      node's cache is bounded (cache_max_bytes) to its share of 60% of the free space; the prefetch
#      still fetches every chunk once, and evicts the oldest.
# Binaries: $TIDE_PREBUILT (default <repo>/build). Writes the table to --out (default
# docs/bench-cluster.md). KEEP=1 keeps the work dir; --reuse takes the converted images and the
# profile from such a kept dir instead of converting and optimizing again (4 minutes).
set -Eeuo pipefail
cmdline="$0 $*"
here=$(dirname "$(realpath "$0")")
src=$(realpath "$here/../..")
# shellcheck source=../common/containerd_node.sh
. "$here/../common/containerd_node.sh"
nodes=20
rate=1gbit
layout=
cases="1 d m w W"
outdoc=$src/docs/bench-cluster.md
slice=  # the mirror's slice size; empty: nginx-mirror.conf's own
reuse=  # a kept work dir (KEEP=1) whose registry and profile to reuse instead of converting again
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) nodes=$2; shift ;;
    --rate) rate=$2; shift ;;
    --layout) layout=$2; shift ;;
    --cases) cases=$2; shift ;;
    --out) outdoc=$2; shift ;;
    --reuse) reuse=$2; shift ;;
    --mirror-slice) slice=$2; shift ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root (netns, tc, FUSE, containerd)" >&2; exit 1; }
[ -n "$layout" ] || { echo "bench.sh: --layout DIR (examples/sd-webui/build-image.sh DIR)" >&2; exit 2; }
[ "$nodes" -ge 1 ] && [ "$nodes" -le 200 ] || { echo "bench.sh: --nodes must be 1..200" >&2; exit 2; }
build=${TIDE_PREBUILT:-$src/build}
tidectl=$build/tidectl/tidectl
snapshotter=$build/snapshotter/tide-snapshotter
for b in "$tidectl" "$snapshotter"; do [ -x "$b" ] || { echo "bench.sh: missing $b" >&2; exit 1; }; done

work=$(mktemp -d /var/tmp/tide-cluster.XXXXXX)
id=$(( $$ % 10000 ))
br=tcb$id
net=10.$(( 100 + $$ % 100 ))
registry_ip=$net.0.2
mirror_ip=$net.0.3
registry=$registry_ip:5000
pids=()          # registry, nginx
node_pids=()     # containerd and tide-snapshotter of every node
namespaces=()
links=()
log() { echo "== $*" >&2; }
now() { date +%s.%N; }

stop_nodes() {
  set +e
  local d i
  for d in "$work"/node*/; do
    [ -S "$d/containerd.sock" ] || continue
    for t in $(ctr --address "$d/containerd.sock" tasks ls -q 2>/dev/null); do
      ctr --address "$d/containerd.sock" tasks kill -s SIGKILL "$t" >/dev/null 2>&1
    done
  done
  sleep 0.5
  for ((i = ${#node_pids[@]} - 1; i >= 0; i--)); do kill "${node_pids[$i]}" 2>/dev/null; done
  for ((i = ${#node_pids[@]} - 1; i >= 0; i--)); do wait "${node_pids[$i]}" 2>/dev/null; done
  node_pids=()
  grep -F " $work/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  for ns in "${namespaces[@]}"; do [[ $ns == tcn* ]] && ip netns del "$ns" 2>/dev/null; done
  set -e
}
cleanup() {
  set +e
  trap - ERR
  trap '' INT TERM
  stop_nodes
  set +e
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null; wait "${pids[$i]}" 2>/dev/null; done
  for l in "${links[@]}"; do ip link del "$l" 2>/dev/null; done
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
  ip link del "$br" 2>/dev/null
  grep -F " $work/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo "bench.sh: line $LINENO: exit status $?" >&2' ERR
trap 'exit 130' INT TERM

# attach NS IP [RATE]: a namespace on the bridge with IP/16; RATE shapes its link both ways.
attach() {
  local ns=$1 ip=$2 h=${1}h n=${1}n
  ip netns add "$ns"; namespaces+=("$ns")
  ip link add "$h" type veth peer name "$n"; links+=("$h")
  ip link set "$n" netns "$ns"
  ip link set "$h" master "$br" up
  ip netns exec "$ns" ip addr add "$ip/16" dev "$n"
  ip netns exec "$ns" ip link set "$n" up
  ip netns exec "$ns" ip link set lo up
  if [ -n "${3:-}" ]; then
    ip netns exec "$ns" tc qdisc add dev "$n" root tbf rate "$3" burst 1mb latency 100ms
    tc qdisc add dev "$h" root tbf rate "$3" burst 1mb latency 100ms
  fi
}

log "bridge $br ($net.0.0/16); registry $registry behind tbf $rate; mirror $mirror_ip:8080"
ip link add "$br" type bridge; links+=("$br")
ip addr add "$net.0.1/16" dev "$br"
ip link set "$br" up
attach "tcr$id" "$registry_ip" "$rate"
cat >"$work/registry.yml" <<EOT
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: $registry}
EOT
ip netns exec "tcr$id" docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fs "http://$registry/v2/" >/dev/null && break; sleep 0.1; done
curl -fs "http://$registry/v2/" >/dev/null || { echo "bench.sh: registry not reachable" >&2; exit 1; }
registry_bytes() { awk '/GET \/v2\/.*\/blobs\// && $9 ~ /^20/ {sum += $10} END {printf "%.0f\n", sum}' "$work/registry.log"; }

if [ -n "$reuse" ]; then
  log "reusing the converted images and the profile of $reuse"
  cp -al "$reuse/registry" "$work/registry"
  cp "$reuse/optimize.profile" "$reuse/optimize.out" "$work/"
else
log "converting and optimizing the image (tide, startup set first; the profile is what nodes replay)"
"$tidectl" convert -q --plain-http "oci:$layout:full" "docker://$registry/sdwebui:tide"
"$tidectl" optimize -q --plain-http --ready-line "SD-WEBUI READY" --timeout 300 --work-dir "$work" \
  --profile-out "$work/optimize.profile" "oci:$layout:full" "docker://$registry/sdwebui:opt" |
  tee "$work/optimize.out"
fi
ref=$registry/sdwebui:opt
image_bytes=$(curl -fs -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  "http://$registry/v2/sdwebui/manifests/opt" |
  python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))')
mkdir -p "$work/replay"
cp "$here/replay.py" "$work/optimize.profile" "$work/replay/"
replay_reads=$(grep -c '^read ' "$work/optimize.profile")
# Case A's per-node cache bound: 60% of the free space, shared by the nodes.
node_cache_max=$(( $(df --output=avail -B1 "$work" | tail -1) * 6 / 10 / nodes ))

# The mirror: nginx from Debian with the example config, in its own namespace, one process.
attach "tcm$id" "$mirror_ip"
mkdir -p "$work/mirror"
sed -e "s|@RUN_DIR@|$work/mirror|g; s|@CACHE_DIR@|$work/mirror/cache|; s|@CACHE_MAX@|20g|" \
  -e "s|@LISTEN@|$mirror_ip:8080|; s|@UPSTREAM@|http://$registry|" \
  "$here/nginx-mirror.conf" >"$work/mirror/nginx.conf"
if [ -n "$slice" ]; then
  [[ $slice =~ ^[0-9]+[km]$ ]] || { echo "bench.sh: --mirror-slice takes a size such as 256k" >&2; exit 2; }
  sed -i "s|^\( *slice \)[0-9]*[km];|\1$slice;|" "$work/mirror/nginx.conf"
fi
mirror_slice=$(sed -n 's/^ *slice \([0-9]*[km]\);.*/\1/p' "$work/mirror/nginx.conf")
start_mirror() {
  rm -rf "$work/mirror/cache" "$work/mirror/access.log"
  nsenter --net="/run/netns/tcm$id" nginx -p "$work/mirror" -c "$work/mirror/nginx.conf" \
    -g 'daemon off; master_process off;' 2>"$work/mirror/stderr.log" &
  mirror_pid=$!
  pids+=($mirror_pid)
  for _ in $(seq 1 100); do curl -fs -o /dev/null "http://$mirror_ip:8080/v2/" && break; sleep 0.1; done
}
stop_mirror() { kill "$mirror_pid" 2>/dev/null; wait "$mirror_pid" 2>/dev/null || true; }

# start_node I MIRROR(0|1) [PREFETCH]: node I in namespace tcn<id>_<I>: containerd + tide-snapshotter.
start_node() {
  local i=$1 d=$work/node$1 ns=tcn${id}_$1 prefetch=${3:-startup}
  mkdir -p "$d/tide" "$d/hosts/$registry"
  attach "$ns" "$net.1.$((i + 1))"
  printf 'server = "http://%s"\n' "$registry" >"$d/hosts/$registry/hosts.toml"
  if [ "$2" = 1 ]; then
    printf '[host."http://%s:8080"]\n  capabilities = ["pull"]\n' "$mirror_ip" >>"$d/hosts/$registry/hosts.toml"
  fi
  printf 'root = "%s"\naddress = "%s"\nhosts_dir = "%s"\nprefetch = "%s"\nkeep_mounts_on_restart = false\n' \
    "$d/tide" "$d/tide.sock" "$d/hosts" "$prefetch" >"$d/tide.toml"
  # The status endpoint tells when the prefetch has run (prefetch_done); each node's own loopback.
  [ "$prefetch" = all ] && printf 'cache_max_bytes = %s\nmetrics_address = "127.0.0.1:9880"\n' \
    "$node_cache_max" >>"$d/tide.toml"
  # nsenter, not `ip netns exec`: that also unshares the mount namespace, and containerd must see
  # the FUSE mounts tide-snapshotter makes.
  nsenter --net="/run/netns/$ns" "$snapshotter" --config "$d/tide.toml" 2>"$d/tide.log" &
  node_pids+=($!)
  write_containerd_config "$d"
  nsenter --net="/run/netns/$ns" containerd --config "$d/containerd.toml" >"$d/containerd.log" 2>&1 &
  node_pids+=($!)
}
wait_nodes() {
  local i d
  for ((i = 0; i < $1; i++)); do
    d=$work/node$i
    for _ in $(seq 1 400); do [ -S "$d/containerd.sock" ] && [ -S "$d/tide.sock" ] && break; sleep 0.05; done
    ctr --address "$d/containerd.sock" version >/dev/null 2>&1 || sleep 1
  done
}
# node_start I: pull lazily and replay; writes "<seconds since T0>" to node<I>/ready.
node_start() {
  local d=$work/node$1 out
  out=$d/run.out
  {
    timeout 900 nsenter --net="/run/netns/tcn${id}_$1" "$tidectl" pull --address "$d/containerd.sock" --plain-http \
      --hosts-dir "$d/hosts" "$ref" >"$d/pull.out" 2>&1 &&
      timeout 900 ctr --address "$d/containerd.sock" run --rm --snapshotter tide \
        --mount "type=bind,src=$work/replay,dst=/replay,options=rbind:ro" "$ref" "replay$1" \
        python3 /replay/replay.py /replay/optimize.profile >"$out" 2>&1 &&
      grep -q '^REPLAY DONE' "$out" &&
      python3 -c "print(f'{$(now) - $T0:.2f}')" >"$d/ready"
  } || echo "failed" >"$d/ready"
}

# prefetch_done N: whether every layer of every node has run its prefetch plan (tidectl status).
prefetch_done() {
  local i
  for ((i = 0; i < $1; i++)); do
    nsenter --net="/run/netns/tcn${id}_$i" "$tidectl" status --json 2>/dev/null | python3 -c '
import json, sys
layers = [l for i in json.load(sys.stdin)["images"] for l in i["layers"]]
sys.exit(0 if layers and all(l["prefetch"] == "done" for l in layers) else 1)' || return 1
  done
}

# run_case NAME N MIRROR WARM [PREFETCH]: sets $case_result to
# "p50 p90 max bytes warm_seconds warm_bytes"; with PREFETCH=all, warm_seconds is when the last
# node's prefetch had run, and bytes are counted then.
# Not in a subshell: the node processes it starts must stay known to cleanup.
run_case() {
  local name=$1 n=$2 mirror=$3 warm=$4 prefetch=${5:-startup} i warm_s=0 warm_b=0
  log "case $name: $n node(s), mirror=$mirror, warmed=$warm, prefetch=$prefetch"
  [ "$mirror" = 1 ] && start_mirror
  for ((i = 0; i < n; i++)); do start_node "$i" "$mirror" "$prefetch"; done
  wait_nodes "$n"
  if [ "$warm" = 1 ]; then
    local b0 t0
    b0=$(registry_bytes); t0=$(now)
    local warming=()
    for ((i = 0; i < n; i++)); do
      "$tidectl" warm --address "$work/node$i/tide.sock" "$ref" >"$work/node$i/warm.out" 2>&1 &
      warming+=($!)
    done
    for p in "${warming[@]}"; do wait "$p" || { log "warm failed: $work/node*/warm.out"; KEEP=1; exit 1; }; done
    warm_s=$(python3 -c "print(f'{$(now) - $t0:.2f}')")
    sleep 0.5
    warm_b=$(($(registry_bytes) - b0))
  fi
  B0=$(registry_bytes); T0=$(now)
  local started=()
  for ((i = 0; i < n; i++)); do node_start "$i" & started+=($!); done
  for p in "${started[@]}"; do wait "$p" || true; done
  if [ "$prefetch" = all ]; then
    local waited=0
    until prefetch_done "$n"; do
      ((++waited < 1800)) || { log "case $name: prefetch not done after 30 minutes"; KEEP=1; exit 1; }
      sleep 1
    done
    warm_s=$(python3 -c "print(f'{$(now) - $T0:.2f}')")
  fi
  sleep 0.5  # the access log line is written when the response completes
  local bytes=$(($(registry_bytes) - B0))
  local failed
  failed=$(cat "$work"/node*/ready | grep -c failed || true)
  [ "$failed" = 0 ] || { log "case $name: $failed node(s) failed; see $work/node*/"; KEEP=1; exit 1; }
  local stats
  stats=$(cat "$work"/node*/ready | sort -n | python3 -c '
import sys
v = [float(x) for x in sys.stdin.read().split()]
pick = lambda q: v[min(len(v) - 1, max(0, -(-len(v) * q // 100) - 1))]
print(f"{pick(50):.2f} {pick(90):.2f} {v[-1]:.2f}")')
  stop_nodes
  [ "$mirror" = 1 ] && stop_mirror
  rm -rf "$work"/node*
  case_result="$stats $bytes $warm_s $warm_b"
}

declare -A result
for c in $cases; do
  case $c in
    1) run_case one 1 0 0 ;;
    d) run_case direct "$nodes" 0 0 ;;
    m) run_case mirror "$nodes" 1 0 ;;
    w) run_case warmed "$nodes" 0 1 ;;
    W) run_case warmed-mirror "$nodes" 1 1 ;;
    A) run_case mirror-all "$nodes" 1 0 all ;;
    *) echo "bench.sh: unknown case $c" >&2; exit 2 ;;
  esac
  result[$c]=$case_result
  log "case $c: ${result[$c]}"
done

mib() { python3 -c "print(f'{$1 / 1048576:.1f}')"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}' if $2 else 'n/a')"; }
read -r one_p50 _ _ one_bytes _ _ <<<"${result[1]:-0 0 0 0 0 0}"
read -r _ warm_p90 _ _ _ _ <<<"${result[w]:-0 0 0 0 0 0}"
{
  echo "# Cluster benchmark: $nodes nodes cold-start one image at once"
  echo
  echo "Command: \`$cmdline\` ($(date -u +%Y-%m-%d), $(nproc) CPUs). Registry uplink: tbf $rate, no added RTT; mirror slices: $mirror_slice."
  echo "Image: $(mib "$image_bytes") MiB of tide layers (optimized). Each node replays $replay_reads recorded"
  echo "startup reads (replay.py) instead of running the app. One node alone: ready in ${one_p50} s,"
  echo "$(mib "$one_bytes") MiB from the registry (the startup bytes)."
  echo
  echo "The nodes share 2 CPUs, so N nodes take about N times one node's CPU time: the warmed case,"
  echo "which needs no network for its startup set, is that floor, and \"p90 ÷ warmed\" is what the"
  echo "network adds to it."
  echo
  echo "| case | nodes | ready p50 / p90 / max (s) | p90 ÷ one node | p90 ÷ warmed | registry egress | ÷ one node's bytes | ÷ whole image | warm (all nodes) |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  for c in 1 d m w W A; do
    [ -n "${result[$c]:-}" ] || continue
    read -r p50 p90 max bytes ws wb <<<"${result[$c]}"
    n=$nodes; [ "$c" = 1 ] && n=1
    label=$(case $c in 1) echo "one node";; d) echo "direct";; m) echo "nginx mirror";; w) echo "warmed";; W) echo "warmed through the mirror";; A) echo "nginx mirror, prefetch = all";; esac)
    case $c in
      w | W) warm="$ws s, $(mib "$wb") MiB" ;;
      A) warm="whole image on every node after $ws s" ;;
      *) warm="—" ;;
    esac
    echo "| $label | $n | $p50 / $p90 / $max | $(ratio "$p90" "$one_p50") | $(ratio "$p90" "$warm_p90") | $(mib "$bytes") MiB | $(ratio "$bytes" "$one_bytes") | $(ratio "$bytes" "$image_bytes") | $warm |"
  done
} | tee "$outdoc"
