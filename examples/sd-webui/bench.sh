#!/usr/bin/env bash
# Cold-node startup of the sd-webui image behind a shaped link: ordinary pull on overlayfs vs tide.
# Usage (root, from anywhere): examples/sd-webui/bench.sh [--rate 1gbit] [--rtt-ms 2] [--small]
#                                                         [--layout DIR] [--out FILE] [--repeat N]
# The registry runs in a network namespace this script creates, reached over a veth pair with
# private addresses the script assigns (10.231.<n>.0/30), shaped with tc tbf (bandwidth; the kernel
# has no netem) and a delay proxy on 127.0.0.1 (RTT/2 each way). Every case starts a cold node
# (a fresh ext4 disk of its own holding containerd's root and tide's, with an empty chunk cache):
#   a) ctr images pull + ctr run on overlayfs     b) tide lazy pull of the converted image
#   c) tide, image optimized with --ready-line    d) b's image again, cache wiped, profiles kept
# Binaries: $TIDE_PREBUILT (a build dir with tidectl/tidectl, snapshotter/tide-snapshotter),
# default <repo>/build. Writes the table to docs/bench-sdwebui.md (or --out). --repeat N runs every
# case (and the warm start) N times, cases interleaved, and reports the run with the median time.
# --cases "c s" runs only some cases (for experiments: prints each run, writes no table); d needs b.
# Case n (only with --cases): b's image with prefetch = "none", the on-demand baseline for b.
# Case e (only with --cases): the gzip image converted to eStargz by stargz-snapshotter's ctr-remote
# (no prioritized files), lazily pulled by tide with prefetch = "all" like b. With prefetch = "all" an
# eStargz layer's rest is fetched by the pass that checks it against its diff_id (docs/security.md).
# Cases g and p (only with --cases): the gzip image, unchanged, made lazy by `tidectl index` (a gzip
# side index artifact), without (g) and with (p) the startup set of optimize's profile; each pins its
# artifact with tidectl pull --index and runs like b.
# Case f (only with --cases): as e, with the files of optimize's startup profile prioritized
# (ctr-remote --estargz-record-in, a record file made from the profile): eStargz's own startup set,
# which tide takes from the files before the TOC's .prefetch.landmark.
# Case z (only with --cases): as e, with ctr-remote's zstd:chunked (--zstdchunked).
# Case k (only with --cases): the gzip image converted to zstd:chunked by containers/storage's writer
# (skopeo copy --dest-compress-format zstd:chunked), as podman and buildah push it.
# Cases E and K (only with --cases, after e and k): e's and k's images with the startup set tide
# learned on their first cold node (its kept profiles), as d is for b. Neither writer records one.
# Case w (only with --cases): a warmed node. `tidectl warm` fills a fresh node's cache with the
# optimized image's startup set (timed on its own), then the cold start is timed as in s. Compare it
# with the warm start of case a (image local): issue 16's target is 1.2x.
# TIDE_BENCH_METRICS=1 saves each tide node's /metrics at ready to <work>/<case>/metrics.txt (with
# KEEP=1 to keep <work>): fetch requests by kind, FUSE read and fetch latency histograms.
# --tide-config 'KEY = VALUE' (repeatable) adds lines to every node's tide-snapshotter config, e.g.
# to compare read-ahead policies (docs/prefetch.md). --optimize-arg ARG (repeatable) adds ARG to the
# `tidectl optimize` command line, e.g. --optimize-arg --record-readahead=1024. --convert-arg ARG
# (repeatable) adds ARG to the `tidectl convert` of b's image (cases b, n, d), e.g. --convert-arg
# --chunk-size=1MiB.
set -euo pipefail
cmdline="$0 $*"
here=$(dirname "$(realpath "$0")")
src=$(realpath "$here/../..")
# shellcheck source=../common/containerd_node.sh
. "$here/../common/containerd_node.sh"
rate=1gbit
rtt_ms=2
small=0
layout=
repeat=1
cases="a b c s d"
extra_config=
optimize_args=()
convert_args=()
outdoc=$src/docs/bench-sdwebui.md
while [ $# -gt 0 ]; do
  case $1 in
    --rate) rate=$2; shift ;;
    --rtt-ms) rtt_ms=$2; shift ;;
    --small) small=1 ;;
    --layout) layout=$2; shift ;;
    --out) outdoc=$2; shift ;;
    --repeat) repeat=$2; shift ;;
    --cases) cases=$2; shift ;;
    --tide-config) extra_config+="$2"$'\n'; shift ;;
    --optimize-arg) optimize_args+=("$2"); shift ;;
    --convert-arg) convert_args+=("$2"); shift ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root (netns, tc, FUSE, containerd)" >&2; exit 1; }
build=${TIDE_PREBUILT:-$src/build}
tidectl=$build/tidectl/tidectl
snapshotter=$build/snapshotter/tide-snapshotter
for b in "$tidectl" "$snapshotter"; do [ -x "$b" ] || { echo "bench.sh: missing $b (set TIDE_PREBUILT)" >&2; exit 1; }; done
tag=full
[ $small = 1 ] && tag=small
ready="SD-WEBUI READY"

work=$(mktemp -d /var/tmp/sdwebui-bench.XXXXXX)
n=$(( ($$ % 250) + 2 ))
ns=sdwb$$
vh=sdwh$$
vn=sdwn$$
host_ip=10.231.$n.1
ns_ip=10.231.$n.2
pids=()
node_pids=()
sock=
stop_node() {
  set +e
  if [ -n "$sock" ] && [ -S "$sock" ]; then
    for id in $(ctr --address "$sock" tasks ls -q 2>/dev/null); do
      ctr --address "$sock" tasks kill -s SIGKILL "$id" >/dev/null 2>&1
    done
    sleep 0.5
  fi
  local i
  for ((i = ${#node_pids[@]} - 1; i >= 0; i--)); do
    kill "${node_pids[$i]}" 2>/dev/null; wait "${node_pids[$i]}" 2>/dev/null
  done
  node_pids=()
  # A task killed but never deleted (the script stopped mid-run) keeps its shim after containerd
  # is gone; these are this node's own, found by its private socket.
  [ -n "$sock" ] && pkill -KILL -f -- "containerd-shim-runc-v2 .*-address $sock( |\$)" 2>/dev/null
  # Each node holds the whole image (4+ GB) once its prefetch is done; keep only its logs, outputs
  # and profiles, or a run of several cases fills the disk.
  local d='' mounts
  [ -n "$sock" ] && d=$(dirname "$sock")
  mounts=$(grep -F " $work/" /proc/self/mountinfo | awk '{print $5}' | sort -r)
  if [ -n "$d" ] && [ -d "$d/disk" ]; then
    [ -d "$d/disk/tide/profiles" ] && cp -a "$d/disk/tide/profiles" "$d/profiles"
    # The mounts on the node's disk first, then its files: deleting them drops their dirty pages,
    # where unmounting the disk would write gigabytes back while the next node starts.
    printf '%s\n' "$mounts" | grep -vxF "$d/disk" | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$d/disk/croot" "$d/disk/cstate" "$d/disk/tide"
    umount "$d/disk" 2>/dev/null || umount -l "$d/disk"
    rm -f "$d/disk.img"
  else
    printf '%s\n' "$mounts" | xargs -r -n1 umount -l 2>/dev/null
  fi
  sock=
  set -e
}
cleanup() {
  set +e
  trap '' INT TERM
  stop_node
  set +e  # stop_node turns -e back on
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null; wait "${pids[$i]}" 2>/dev/null; done
  ip link del "$vh" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  grep -F " $work/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
now() { date +%s.%N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
log() { echo "== $*" >&2; }

if [ -z "$layout" ]; then
  layout=$work/layout
  log "building the image ($tag)"
  "$here/build-image.sh" "$layout" $([ $small = 1 ] && echo --small)
fi

log "shaped link: netns $ns, veth $vh/$vn $host_ip<->$ns_ip, tbf $rate, RTT ${rtt_ms} ms via proxy"
ip netns add "$ns"
ip link add "$vh" type veth peer name "$vn"
ip link set "$vn" netns "$ns"
ip addr add "$host_ip/30" dev "$vh"
ip link set "$vh" up
ip netns exec "$ns" ip addr add "$ns_ip/30" dev "$vn"
ip netns exec "$ns" ip link set "$vn" up
ip netns exec "$ns" ip link set lo up
# Both directions shaped; the registry -> node direction is the one that matters.
ip netns exec "$ns" tc qdisc add dev "$vn" root tbf rate "$rate" burst 1mb latency 100ms
tc qdisc add dev "$vh" root tbf rate "$rate" burst 1mb latency 100ms
cat >"$work/registry.yml" <<EOT
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: $ns_ip:5000}
EOT
ip netns exec "$ns" docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
port=$(free_port)
python3 "$here/delay_proxy.py" 127.0.0.1 "$port" "$ns_ip" 5000 "$(python3 -c "print($rtt_ms / 2)")" &
pids+=($!)
registry=127.0.0.1:$port
for _ in $(seq 1 100); do curl -fs "http://$registry/v2/" >/dev/null && break; sleep 0.1; done
curl -fs "http://$registry/v2/" >/dev/null || { echo "bench.sh: registry not reachable" >&2; exit 1; }
registry_bytes() { awk '/GET \/v2\/.*\/blobs\// && $9 ~ /^20/ {sum += $10} END {printf "%.0f\n", sum}' "$work/registry.log"; }

log "pushing the image (gzip), converting it (tide) and optimizing it (tide, startup set first)"
skopeo copy -q --dest-tls-verify=false "oci:$layout:$tag" "docker://$registry/sdwebui:gzip"
"$tidectl" convert -q --plain-http ${convert_args[@]+"${convert_args[@]}"} "oci:$layout:$tag" \
  "docker://$registry/sdwebui:tide"
t=$(now)
"$tidectl" optimize -q --plain-http --ready-line "$ready" --timeout 300 --work-dir "$work" \
  --profile-out "$work/optimize.profile" ${optimize_args[@]+"${optimize_args[@]}"} \
  "oci:$layout:$tag" "docker://$registry/sdwebui:opt" | tee "$work/optimize.out"
startup_set_line=$(grep '^startup set:' "$work/optimize.out" || true)
optimize_s=$(python3 -c "print(f'{$(now) - $t:.1f}')")

image_bytes() {  # compressed size of all layers of a tag, from the registry's manifest
  curl -fs -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$registry/v2/sdwebui/manifests/$1" |
    python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))'
}

log "measuring link throughput (largest gzip layer through the shaped link)"
big=$(curl -fs -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$registry/v2/sdwebui/manifests/gzip" |
  python3 -c 'import json,sys; print(max(json.load(sys.stdin)["layers"], key=lambda l: l["size"])["digest"])')
link_bps=$(curl -fs -o /dev/null -w '%{speed_download}' "http://$registry/v2/sdwebui/blobs/$big")

# node_disk DIR: a disk of the node's own at DIR/disk, a fresh ext4 (with the journal mkfs gives it)
# in a sparse file on a loop device with direct I/O. A cold node has a fresh disk. Sharing the
# host's filesystem made every node pay for the one before it: on a host filesystem without a
# journal, ext4 skips inodes freed in the last 30-120 s when it allocates one (recently_deleted),
# and the previous node had just deleted thousands of files (~100k after an ordinary pull). That scan took 30% of tide-snapshotter's CPU
# in a converted start, one inode per stored chunk (docs/bench-sdwebui.md, session 32).
node_disk() {
  truncate -s 32G "$1/disk.img"
  mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$1/disk.img"
  local dev
  dev=$(losetup -f --show --direct-io=on "$1/disk.img")
  mkdir -p "$1/disk"
  mount "$dev" "$1/disk"
  losetup -d "$dev"  # detached when unmounted
}
# start_node NAME PREFETCH [PROFILES_DIR]: fresh containerd + tide-snapshotter under $work/NAME,
# their data on the node's own disk ($work/NAME/disk); stop_node keeps the profiles in NAME/profiles.
start_node() {
  local d=$work/$1
  mkdir -p "$d"
  node_disk "$d"
  mkdir -p "$d/disk/tide"
  [ -n "${3:-}" ] && cp -a "$3" "$d/disk/tide/profiles"
  printf 'root = "%s"\naddress = "%s"\nprefetch = "%s"\nprefetch_bandwidth = "0"\n' \
    "$d/disk/tide" "$d/tide.sock" "$2" >"$d/tide.toml"
  printf '%s' "$extra_config" >>"$d/tide.toml"
  if [ -n "${TIDE_BENCH_METRICS:-}" ]; then
    metrics_at=127.0.0.1:$((20000 + RANDOM % 20000))
    printf 'metrics_address = "%s"\n' "$metrics_at" >>"$d/tide.toml"
  fi
  "$snapshotter" --config "$d/tide.toml" 2>"$d/tide.log" &
  tide_pid=$!
  node_pids+=($!)
  write_containerd_config "$d" "$d/disk"
  containerd --config "$d/containerd.toml" >"$d/containerd.log" 2>&1 &
  containerd_pid=$!
  node_pids+=($!)
  sock=$d/containerd.sock
  for _ in $(seq 1 200); do [ -S "$sock" ] && [ -S "$d/tide.sock" ] && break; sleep 0.05; done
  # containerd dials the proxy snapshotter when it starts; a dial that came before tide listened
  # leaves its connection backing off for up to a second, and a pull then fails with "connection
  # refused". Wait until containerd reaches tide.
  for _ in $(seq 1 100); do
    ctr --address "$sock" snapshots --snapshotter tide ls >/dev/null 2>&1 && break
    sleep 0.1
  done
}
# cpu_of PID: user + system CPU seconds the process has used so far.
clk_tck=$(getconf CLK_TCK)
cpu_of() { awk -v hz="$clk_tck" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat"; }
# TIDE_BENCH_PERF=1: perf_start NAME samples tide-snapshotter into <work>/NAME/perf.data (keep it
# with KEEP=1) until perf_stop; without it both do nothing. A perf that exited early is no error.
perf_pid=
perf_start() {
  perf_pid=
  [ -n "${TIDE_BENCH_PERF:-}" ] || return 0
  perf record -q -g -p "$tide_pid" -o "$work/$1/perf.data" >/dev/null 2>&1 &
  perf_pid=$!
}
perf_stop() {
  if [ -n "$perf_pid" ]; then kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" || true; fi
  perf_pid=
}
# cpu_ticks: the ticks this VM's hypervisor has taken from its CPUs so far (steal), then all ticks.
cpu_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t; exit }' /proc/stat; }
# steal_note NAME TICKS: appends NAME and the share of CPU time stolen since TICKS (cpu_ticks) to
# $work/steal.runs. On a shared VM this moves from run to run and slows every case alike: a run
# with much more steal than the others is noise, not a change.
steal_note() {
  local s t
  read -r s t < <(cpu_ticks)
  echo "$1 $(python3 -c "print(f'{100 * ($s - ${2% *}) / max(1, $t - ${2#* }):.0f}%')")" >>"$work/steal.runs"
}
# cpu_note CASE CPU_SECONDS BYTES: one line of $work/cpu.runs (CPU per GB fetched, issue 13 item 4).
cpu_note() { echo "$1 $2 $3" >>"$work/cpu.runs"; }
# run_to_ready NAME IMAGE [SNAPSHOTTER]: starts the container, waits for the ready line.
# Prints "seconds_since_T0 bytes_before_ready"; T0 must be set by the caller before the pull.
run_to_ready() {
  local out=$work/$1/run.out snap=()
  [ -n "${3:-}" ] && snap=(--snapshotter "$3")
  ctr --address "$sock" run --rm "${snap[@]}" "$2" "sdw-$1" >"$out" 2>&1 &
  local t_ready
  # One process polls the output: a grep, date and sleep every 20 ms took a fifth of a core, which
  # on a 2-core node is taken from the very startup being measured.
  t_ready=$(python3 "$here/wait_for_line.py" "$out" "$ready" 600) ||
    { echo "bench.sh: $1: no ready line; output:" >&2; cat "$out" >&2; exit 1; }
  sleep 0.3  # the access log line is written when the response completes
  echo "$(python3 -c "print(f'{$t_ready - $T0:.2f}')") $(($(registry_bytes) - B0))"
}
# wait_cached NAME TOTAL: seconds since T0 until the background prefetch is done: the registry
# has sent at least 90% of TOTAL since B0 (a tide blob's index is fetched once, not again) and no
# byte came for 3 s; the time of the last byte is reported.
wait_cached() {
  local deadline=$(($(date +%s) + 300)) last_b=-1 last_t quiet=0 b
  last_t=$(now)
  while :; do
    b=$(($(registry_bytes) - B0))
    if [ "$b" != "$last_b" ]; then last_b=$b; last_t=$(now); quiet=0; else quiet=$((quiet + 1)); fi
    if [ "$quiet" -ge 30 ] && [ $((b * 10)) -ge $(($2 * 9)) ]; then break; fi
    [ "$(date +%s)" -lt "$deadline" ] || { echo "n/a"; return; }
    sleep 0.1
  done
  python3 -c "print(f'{$last_t - $T0:.2f}')"
}
kill_task() { ctr --address "$sock" tasks kill -s SIGKILL "sdw-$1" >/dev/null 2>&1 || true; sleep 0.5; }

# Cases g and p: the gzip image, unchanged, with a gzip side index (tidectl index) without and with
# the startup set of optimize's profile. Each pins its own artifact (tidectl pull --index).
index_s='' index_p_s='' index_g='' index_p=''
# artifact_of FILE: the side index artifact `tidectl index` says it published (its output in FILE).
# Fails loudly when there is none, since `tidectl pull --index ""` would take the image for the digest.
artifact_of() {
  local digest
  digest=$(sed -n 's/^\(pushed\|published\) side index artifact \(sha256:[0-9a-f]*\).*/\2/p' "$1")
  [ -n "$digest" ] || { echo "no side index artifact in $1" >&2; exit 1; }
  echo "$digest"
}
if [[ " $cases " == *" g "* ]]; then
  log "indexing the gzip image (tidectl index)"
  t=$(now)
  "$tidectl" index --plain-http "docker://$registry/sdwebui:gzip" | tee "$work/index-g.out"
  index_s=$(python3 -c "print(f'{$(now) - $t:.1f}')")
  index_g=$(artifact_of "$work/index-g.out")
fi
if [[ " $cases " == *" p "* ]]; then
  log "indexing the gzip image with optimize's startup profile (tidectl index --profile)"
  t=$(now)
  "$tidectl" index --plain-http --profile "$work/optimize.profile" "docker://$registry/sdwebui:gzip" |
    tee "$work/index-p.out"
  index_p_s=$(python3 -c "print(f'{$(now) - $t:.1f}')")
  index_p=$(artifact_of "$work/index-p.out")
fi

# ctr_remote_convert CASE FLAGS TAG: converts the gzip image with ctr-remote in a scratch containerd
# and pushes it as TAG; sets converted_s to the seconds it took (no subshell: start_node's pids must
# reach the cleanup trap).
ctr_remote_convert() {
  local t
  t=$(now)
  start_node "$1conv" none
  ctr --address "$sock" content fetch --plain-http "$registry/sdwebui:gzip" >/dev/null
  # shellcheck disable=SC2086 # FLAGS is a list of words
  ctr-remote --address "$sock" images convert $2 --oci "$registry/sdwebui:gzip" "$registry/sdwebui:$3" >/dev/null
  ctr --address "$sock" images push --plain-http "$registry/sdwebui:$3" >/dev/null
  stop_node
  converted_s=$(python3 -c "print(f'{$(now) - $t:.1f}')")
}
estargz_s='' zstdc_s=''
if [[ " $cases " == *" e "* ]]; then
  log "converting the gzip image to eStargz with ctr-remote (in a scratch containerd)"
  ctr_remote_convert e --estargz esgz
  estargz_s=$converted_s
fi
esgzp_s=
if [[ " $cases " == *" f "* ]]; then
  log "converting the gzip image to eStargz, the profile's files prioritized (ctr-remote --estargz-record-in)"
  # ctr-remote's record file: one JSON object per line with the "path" of a file, in first-read order.
  python3 - "$work/optimize.profile" >"$work/estargz-record.json" <<'PY'
import json, re, sys
seen = set()
for line in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
    if not line.startswith("read "):
        continue
    path = line.rstrip("\n").split(" ", 4)[4]
    path = re.sub(r"\\(\\|n)", lambda m: "\n" if m.group(1) == "n" else "\\", path)
    if path not in seen:
        seen.add(path)
        print(json.dumps({"path": path}))
PY
  ctr_remote_convert f "--estargz --estargz-record-in $work/estargz-record.json" esgzp
  esgzp_s=$converted_s
fi
if [[ " $cases " == *" z "* ]]; then
  log "converting the gzip image to zstd:chunked with ctr-remote (in a scratch containerd)"
  ctr_remote_convert z --zstdchunked zstdc
  zstdc_s=$converted_s
fi
csz_s=
if [[ " $cases " == *" k "* ]]; then
  log "converting the gzip image to zstd:chunked with skopeo (containers/storage's writer)"
  t=$(now)
  skopeo copy --quiet --src-tls-verify=false --dest-compress-format zstd:chunked \
    "docker://$registry/sdwebui:gzip" "oci:$work/csz-layout:csz"
  skopeo copy --quiet --dest-tls-verify=false "oci:$work/csz-layout:csz" "docker://$registry/sdwebui:csz"
  rm -rf "$work/csz-layout"
  csz_s=$(python3 -c "print(f'{$(now) - $t:.1f}')")
fi

tide_total=$(image_bytes tide)
opt_total=$(image_bytes opt)
gzip_total=$(image_bytes gzip)
esgz_total=0
[ -n "$estargz_s" ] && esgz_total=$(image_bytes esgz)
esgzp_total=0
[ -n "$esgzp_s" ] && esgzp_total=$(image_bytes esgzp)
zstdc_total=0
[ -n "$zstdc_s" ] && zstdc_total=$(image_bytes zstdc)
csz_total=0
[ -n "$csz_s" ] && csz_total=$(image_bytes csz)

# Each run appends "seconds_to_ready bytes_before_ready whole_image_local_at" to $work/<case>.runs;
# median_of CASE sets ready_CASE, bytes_CASE and cached_CASE from the run with the median time.
median_of() {
  local runs=$work/$1.runs r b c
  read -r r b c < <(sort -n "$runs" | sed -n "$((($(wc -l <"$runs") + 1) / 2))p")
  printf -v "ready_$1" '%s' "$r"
  printf -v "bytes_$1" '%s' "$b"
  printf -v "cached_$1" '%s' "$c"
}
since_t0() { python3 -c "print(f'{$(now) - $T0:.2f}')"; }

overlay_run() {  # overlay_run RUN: ordinary pull + run, then (image local) a warm start
  local name=a$1
  log "$name) overlayfs: ctr images pull + ctr run"
  start_node "$name" none
  B0=$(registry_bytes); T0=$(now)
  local c0 ctr_cpu s0
  s0=$(cpu_ticks)
  c0=$(cpu_of "$containerd_pid")
  # ctr fetches into containerd's content store; containerd unpacks: both CPUs count.
  ctr_cpu=$( { TIMEFORMAT='%U %S'; time ctr --address "$sock" images pull --plain-http "$registry/sdwebui:gzip" >/dev/null; } 2>&1 | tail -1)
  local pulled r b
  pulled=$(since_t0)
  cpu_note a_pull "$(python3 -c "print(f'{$(cpu_of "$containerd_pid") - $c0 + ${ctr_cpu% *} + ${ctr_cpu#* }:.2f}')")" \
    $(($(registry_bytes) - B0))
  read -r r b < <(run_to_ready "$name" "$registry/sdwebui:gzip")
  echo "$r $b $pulled" >>"$work/a.runs"
  steal_note "$name" "$s0"
  kill_task "$name"
  # Warm run: the image is local; this is the startup time with no network at all.
  mkdir -p "$work/warm$1"
  T0=$(now)
  ctr --address "$sock" run --rm "$registry/sdwebui:gzip" "sdw-warm$1" >"$work/warm$1/run.out" 2>&1 &
  local t_warm
  t_warm=$(python3 "$here/wait_for_line.py" "$work/warm$1/run.out" "$ready" 600) ||
    { echo "bench.sh: warm$1: no ready line" >&2; cat "$work/warm$1/run.out" >&2; exit 1; }
  echo "$(python3 -c "print(f'{$t_warm - $T0:.2f}')") 0 n/a" >>"$work/warm.runs"
  kill_task "warm$1"
  stop_node
}

tide_run() {  # tide_run CASE RUN TAG [PROFILES_DIR] [PREFETCH] [PULL_ARGS]: one cold node, appends to CASE.runs
  local name=$1$2
  log "$name) tide: tidectl pull $3 + ctr run --snapshotter tide (prefetch ${5:-all})"
  start_node "$name" "${5:-all}" "${4:-}"
  B0=$(registry_bytes); T0=$(now)
  local c0 s0
  s0=$(cpu_ticks)
  c0=$(cpu_of "$tide_pid")
  perf_start "$name"  # from pull to ready
  # shellcheck disable=SC2086 # PULL_ARGS is a list of words
  "$tidectl" pull --address "$sock" --snapshotter tide --plain-http ${6:-} "$registry/sdwebui:$3" >/dev/null
  # The pull is part of the time to ready: containerd prepares the layers one after another.
  echo "$name $(python3 -c "print(f'{$(now) - $T0:.2f}')")" >>"$work/pull.runs"
  local r b c="n/a" total=$tide_total
  read -r r b < <(run_to_ready "$name" "$registry/sdwebui:$3" tide)
  perf_stop
  steal_note "$name" "$s0"
  cpu_note "$1_ready" "$(python3 -c "print(f'{$(cpu_of "$tide_pid") - $c0:.2f}')")" "$b"
  if [ -n "${TIDE_BENCH_METRICS:-}" ]; then curl -s "http://$metrics_at/metrics" >"$work/$name/metrics.txt" || true; fi
  [ "$3" = opt ] && total=$opt_total
  [ "$3" = esgz ] && total=$esgz_total
  [ "$3" = esgzp ] && total=$esgzp_total
  [ "$3" = zstdc ] && total=$zstdc_total
  [ "$3" = csz ] && total=$csz_total
  [ "$3" = gzip ] && total=$gzip_total
  if [ "${5:-all}" = all ]; then
    c=$(wait_cached "$name" "$total")
    cpu_note "$1_whole" "$(python3 -c "print(f'{$(cpu_of "$tide_pid") - $c0:.2f}')")" $(($(registry_bytes) - B0))
  fi
  echo "$r $b $c" >>"$work/$1.runs"
  local learner=
  case $1$2 in b1) learner=d ;; e1) learner=E ;; k1) learner=K ;; esac
  if [ "$learner" = d ] || { [ -n "$learner" ] && want "$learner"; }; then
    # Keep the first node up until its snapshotter has kept a profile (3 s idle after the last read).
    for _ in $(seq 1 700); do ls "$work/$name/disk/tide/profiles/"*.profile >/dev/null 2>&1 && break; sleep 0.1; done
    sleep 4
    profiles_kept=$(ls "$work/$name/disk/tide/profiles/" 2>/dev/null | grep -c "\.profile$")
  fi
  kill_task "$name"
  if [ "$1" = s ]; then
    # The same start again on this node: the startup set is local and the kernel keeps the layers'
    # pages, as the overlayfs warm start keeps its own. What is left is tide's share of a start
    # that fetches nothing (FUSE and overlayfs over FUSE against overlayfs over ext4).
    mkdir -p "$work/tw$2"
    B0=$(registry_bytes); T0=$(now)
    read -r r b < <(run_to_ready "tw$2" "$registry/sdwebui:$3" tide)
    echo "$r $b n/a" >>"$work/tidewarm.runs"
    kill_task "tw$2"
  fi
  # A layer that failed its check serves EIO: the run's figures would describe a broken start.
  if grep -q "layer poisoned\|read failed" "$work/$name/tide.log"; then
    grep "layer poisoned\|read failed" "$work/$name/tide.log" | head -3 >&2
    echo "bench.sh: $name: tide failed reads or verification (see above); its figures are not valid" >&2
    exit 1
  fi
  stop_node
}

warmed_run() {  # warmed_run RUN: tidectl warm on a fresh node, then a cold start (appends to w.runs)
  local name=w$1
  log "$name) tide: tidectl warm opt (startup set), then tidectl pull + ctr run (prefetch startup)"
  start_node "$name" startup
  local w0 r b
  w0=$(now)
  "$tidectl" warm --address "$work/$name/tide.sock" "$registry/sdwebui:opt" >"$work/$name/warm.out"
  python3 -c "print(f'{$(now) - $w0:.2f}')" >>"$work/warmtime.runs"
  B0=$(registry_bytes); T0=$(now)
  "$tidectl" pull --address "$sock" --snapshotter tide --plain-http "$registry/sdwebui:opt" >/dev/null
  local pulled
  pulled=$(since_t0)
  perf_start "$name"  # between pull and ready
  read -r r b < <(run_to_ready "$name" "$registry/sdwebui:opt" tide)
  perf_stop
  # The third column is when the pull (manifest, config, the layers' mounts) was done.
  echo "$r $b $pulled" >>"$work/w.runs"
  kill_task "$name"
  stop_node
}

want() { [[ " $cases " == *" $1 "* ]]; }
for run in $(seq 1 "$repeat"); do
  if want a; then overlay_run "$run"; fi
  if want b; then tide_run b "$run" tide; fi
  if want c; then tide_run c "$run" opt; fi
  # Startup bytes: the optimized image with prefetch = "startup" (startup set only, no background
  # fetch of the rest), so what arrives before ready is what startup needs.
  if want s; then tide_run s "$run" opt "" startup; fi
  if want d; then tide_run d "$run" tide "$work/b1/profiles"; fi
  # b's image on demand only (prefetch = "none"): what b's background prefetch must not make worse.
  if want n; then tide_run n "$run" tide "" none; fi
  if want e; then tide_run e "$run" esgz; fi
  if want f; then tide_run f "$run" esgzp; fi
  if want z; then tide_run z "$run" zstdc; fi
  if want k; then tide_run k "$run" csz; fi
  if want E; then tide_run E "$run" esgz "$work/e1/profiles"; fi
  if want K; then tide_run K "$run" csz "$work/k1/profiles"; fi
  if want g; then tide_run g "$run" gzip "" all "--index $index_g"; fi
  if want p; then tide_run p "$run" gzip "" all "--index $index_p"; fi
  if want w; then warmed_run "$run"; fi
done
# CPU seconds per GB fetched, per case and phase, summed over the runs.
cpu_report() {
  [ -s "$work/cpu.runs" ] || return 0
  python3 - "$work/cpu.runs" <<'PY'
import collections, sys
cpu, data = collections.Counter(), collections.Counter()
for line in open(sys.argv[1]):
    k, c, b = line.split()
    cpu[k] += float(c); data[k] += int(b)
names = {"a_pull": "ctr images pull (containerd + ctr, fetch and unpack)"}
parts = []
for k in cpu:
    label = names.get(k, f"tide-snapshotter, {k.split('_')[0]}) " + ("start to ready" if k.endswith("ready") else "start to whole image local"))
    parts.append(f"{label}: {cpu[k] / (data[k] / 1e9):.2f} s/GB ({cpu[k]:.1f} s for {data[k] / 1e9:.2f} GB)")
print("CPU per GB fetched: " + "; ".join(parts))
PY
}
# subset_ratios: for a run of some of the cases, each case's median against the floor of the bytes
# startup touches (the optimized image's recorded ranges ÷ link + the warm start, which case a
# measures) and its bytes against those bytes, as the full table below gives them.
subset_ratios() {
  local c medians=()
  for c in warm $cases; do
    [ -s "$work/$c.runs" ] || continue
    median_of "$c"
    local r="ready_$c" b="bytes_$c"
    medians+=("$c" "${!r}" "${!b}" "$(grep -c . "$work/$c.runs")")
  done
  python3 - "$link_bps" "$startup_set_line" "${medians[@]}" <<'PY'
import re, sys
link_bps, startup_line, rest = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
medians = {rest[i]: (float(rest[i + 1]), int(rest[i + 2]), rest[i + 3]) for i in range(0, len(rest), 4)}
m = re.search(r"about ([0-9.]+) MB compressed", startup_line)
if not m or "warm" not in medians or link_bps <= 0:
    print("ratios to the floor: need the optimized image's touched bytes and a warm start (case a)")
    sys.exit(0)
touched = float(m.group(1)) * 1e6
warm_s = medians.pop("warm")[0]
floor = touched / link_bps + warm_s
print(f"floor: {touched / 1e6:.1f} MB touched / {link_bps / 1e6:.1f} MB/s + warm start {warm_s:.2f} s = {floor:.2f} s")
for case, (t, b, n) in medians.items():
    line = f"{case}) median of {n}: {t:.2f} s, {t / floor:.2f}x the floor"
    if b:
        line += f", {b / 1e6:.1f} MB before ready = {b / touched:.2f}x touched"
    print(line)
PY
}
steal_runs=''
[ -s "$work/steal.runs" ] && steal_runs=$(tr '\n' ';' <"$work/steal.runs")
if [ "$cases" != "a b c s d" ]; then
  for c in $cases; do echo "$c: $(tr '\n' ';' <"$work/$c.runs")"; done
  [ -s "$work/tidewarm.runs" ] && echo "tide warm (s node, second start): $(tr '\n' ';' <"$work/tidewarm.runs")"
  [ -s "$work/warm.runs" ] && echo "warm start (a node, image local): $(tr '\n' ';' <"$work/warm.runs")"
  [ -s "$work/pull.runs" ] && echo "tidectl pull took (s): $(tr '\n' ';' <"$work/pull.runs")"
  [ -n "$steal_runs" ] && echo "CPU stolen by the hypervisor, pull to ready: $steal_runs"
  # The floor of any case is startup bytes / this + warm start.
  echo "link throughput (curl of the largest gzip layer through the shaped link): $(python3 -c "print(f'{$link_bps / 1e6:.1f}')") MB/s"
  [ -s "$work/warmtime.runs" ] && echo "tidectl warm took (s): $(tr '\n' ';' <"$work/warmtime.runs")"
  [ -n "$startup_set_line" ] && echo "optimized image's $startup_set_line"
  [ -n "$index_s" ] && echo "tidectl index took $index_s s (artifact $index_g); with --profile $index_p_s s (artifact $index_p)"
  [ -n "$csz_s" ] && echo "skopeo zstd:chunked conversion (containers/storage; pull, convert, push) took $csz_s s; zstd:chunked $csz_total B"
  [ -n "$zstdc_s" ] && echo "ctr-remote zstd:chunked conversion (fetch, convert, push) took $zstdc_s s; zstd:chunked $zstdc_total B"
  [ -n "$esgzp_s" ] && echo "ctr-remote eStargz conversion with $(wc -l <"$work/estargz-record.json") prioritized files (fetch, convert, push) took $esgzp_s s; eStargz $esgzp_total B"
  [ -n "$estargz_s" ] && echo "ctr-remote eStargz conversion (fetch, convert, push) took $estargz_s s; eStargz $esgz_total B, gzip $gzip_total B, tide $tide_total B"
  subset_ratios
  cpu_report
  exit 0
fi
cpu_line=$(cpu_report)
steal_line="CPU stolen by the hypervisor, pull to ready: $steal_runs"
for c in a warm b c s d tidewarm; do median_of "$c"; done
pulled_a=$cached_a
warm_s=$ready_warm

python3 - "$outdoc" "$cmdline" <<PY
import sys, os, datetime
mib = lambda b: int(b) / (1 << 20)
link_Bps = float("$link_bps")
startup = int("$bytes_s")
warm = float("$warm_s")
floor = startup / link_Bps + warm
# The recorded ranges' compressed bytes (tidectl optimize's "startup set:" line): what startup
# touches, so the floor no startup set can beat; the fetched startup bytes when the line is missing.
import re
m = re.search(r"about ([0-9.]+) MB compressed", "$startup_set_line")
touched = float(m.group(1)) * 1e6 if m else startup
touched_floor = touched / link_Bps + warm
a = float("$ready_a")
rows = [
    ("a) ordinary pull, overlayfs", "$ready_a", "$bytes_a", "$pulled_a"),
    ("b) tide lazy pull", "$ready_b", "$bytes_b", "$cached_b"),
    ("c) tide optimized image", "$ready_c", "$bytes_c", "$cached_c"),
    ("d) tide learned profile (2nd cold start of b)", "$ready_d", "$bytes_d", "$cached_d"),
    ("c) with prefetch = startup (startup bytes only)", "$ready_s", "$bytes_s", "n/a (rest on demand)"),
]
lines = []
lines.append("| case | time to ready (s) | vs overlayfs | vs floor | bytes before ready (MiB) | bytes ÷ touched | whole image local at (s) |")
lines.append("|---|---:|---:|---:|---:|---:|---:|")
for name, r, b, c in rows:
    lines.append(f"| {name} | {float(r):.2f} | {a / float(r):.1f}x | {float(r) / touched_floor:.2f}x | {mib(b):.1f} | {int(b) / touched:.2f}x | {c} |")
lines.append(f"| physical floor (startup bytes of the last row / link + warm start) | {floor:.2f} | {a / floor:.1f}x | | {mib(startup):.1f} | | |")
lines.append(f"| physical floor of the touched bytes (recorded ranges, compressed / link + warm start) | {touched_floor:.2f} | {a / touched_floor:.1f}x | 1.00x | {mib(touched):.1f} | 1.00x | |")
runs = {}
for case in ["a", "warm", "b", "c", "s", "d", "tidewarm"]:
    with open(os.path.join("$work", case + ".runs")) as f:
        runs[case] = ", ".join(line.split()[0] for line in f if line.strip())
lines.append("")
lines.append("Every run's time to ready (s), in run order: " +
             "; ".join(f"{k}) {v}" for k, v in runs.items()))
table = "\n".join(lines)
print(table)
info = f"""image: {"$tag"}, gzip {mib($gzip_total):.0f} MiB, tide {mib($tide_total):.0f} MiB, optimized {mib($opt_total):.0f} MiB (compressed layer bytes)
link: tbf {"$rate"}, RTT {"$rtt_ms"} ms (delay proxy); measured throughput {link_Bps * 8 / 1e6:.0f} Mbit/s
prefetch = "all" with no bandwidth limit in b) to d); each row is the median of {"$repeat"} run(s)
warm start (image local, no network): {warm:.2f} s; tide warm start (second start on the s node): {float("$ready_tidewarm"):.2f} s; tidectl optimize took {"$optimize_s"} s; profiles kept by b: {"$profiles_kept"}
optimized image's {"$startup_set_line"}
{"$cpu_line"}
{"$steal_line"}
"""
print(info)
with open(sys.argv[1], "w") as f:
    f.write("# sd-webui cold-start benchmark\n\n")
    f.write(f"Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC: \`{sys.argv[2]}\`\n\n")
    f.write(info.replace("\n", "  \n") + "\n" + table + "\n")
PY
printf '%s\t%s\n' "a) overlayfs pull" "$ready_a" "b) tide lazy" "$ready_b" "c) tide optimized" "$ready_c" \
  "d) tide learned" "$ready_d" "c) prefetch=startup" "$ready_s" >"$work/times.tsv"
if command -v gnuplot >/dev/null; then
  "$here/plot.sh" "$work/times.tsv" "${outdoc%.md}.png" "sd-webui ($tag), $rate, ${rtt_ms} ms RTT" &&
    echo "chart: ${outdoc%.md}.png" >&2
fi
