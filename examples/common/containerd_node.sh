# Sourced by the example benchmarks. write_containerd_config DIR: DIR/containerd.toml for a private
# containerd (root, state and sockets under DIR, CRI off) with DIR/tide.sock as the tide proxy
# snapshotter.
write_containerd_config() {
  cat >"$1/containerd.toml" <<EOT
version = 2
root = "$1/croot"
state = "$1/cstate"
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
