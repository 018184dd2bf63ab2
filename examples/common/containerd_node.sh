# Sourced by the example benchmarks. write_containerd_config DIR [DATA_DIR]: DIR/containerd.toml for
# a private containerd (sockets under DIR, root and state under DATA_DIR, default DIR; CRI off) with
# DIR/tide.sock as the tide proxy snapshotter.
write_containerd_config() {
  cat >"$1/containerd.toml" <<EOT
version = 2
root = "${2:-$1}/croot"
state = "${2:-$1}/cstate"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$1/containerd.sock"
[ttrpc]
  address = "$1/containerd.sock.ttrpc"
[proxy_plugins.tide]
  type = "snapshot"
  address = "$1/tide.sock"
EOT
}
