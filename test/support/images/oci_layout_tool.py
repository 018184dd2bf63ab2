#!/usr/bin/env python3
"""Assembles OCI image layouts from plain tar files, for tests.

  oci_layout_tool.py image --out DIR --tag TAG [--docker] [--platform os/arch[/variant]]
                           [--cmd ARG ...] --layer TAR:none|gzip|zstd ...
      One image manifest whose layers are the given tars, compressed as asked, tagged TAG.
  oci_layout_tool.py index --out DIR --tag TAG [--docker] --member TAG ...
      An index (or Docker manifest list) over images already tagged in DIR, with their platforms.
  oci_layout_tool.py claim-diff-id --out DIR --tag TAG --layer N --diff-id DIGEST
      What a hostile image author does: rewrites the config of the image tagged TAG so that layer N
      claims another layer's diff_id (and so its chainID), and re-tags the new manifest. The layer
      blobs and their annotations stay as they are.

Docker flavor uses Docker schema 2 media types (gzip and plain tar layers have Docker names;
zstd uses application/vnd.docker.image.rootfs.diff.tar.zstd).
"""
import argparse
import gzip
import hashlib
import json
import os
import subprocess
import tempfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
LAYER_TYPES = {
    (False, "none"): "application/vnd.oci.image.layer.v1.tar",
    (False, "gzip"): "application/vnd.oci.image.layer.v1.tar+gzip",
    (False, "zstd"): "application/vnd.oci.image.layer.v1.tar+zstd",
    (True, "none"): "application/vnd.docker.image.rootfs.diff.tar",
    (True, "gzip"): "application/vnd.docker.image.rootfs.diff.tar.gzip",
    (True, "zstd"): "application/vnd.docker.image.rootfs.diff.tar.zstd",
}
REF_NAME = "org.opencontainers.image.ref.name"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Layout:
    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        marker = os.path.join(path, "oci-layout")
        if not os.path.exists(marker):
            with open(marker, "w") as f:
                json.dump({"imageLayoutVersion": "1.0.0"}, f)
        if not os.path.exists(self._index_path()):
            self._write_index({"schemaVersion": 2, "manifests": []})

    def _index_path(self):
        return os.path.join(self.path, "index.json")

    def _write_index(self, index):
        tmp = self._index_path() + ".tmp"
        with open(tmp, "w") as f:
            json.dump(index, f)
        os.rename(tmp, self._index_path())

    def blob_path(self, digest):
        return os.path.join(self.path, "blobs", "sha256", digest.split(":", 1)[1])

    def put_file(self, path):
        digest = "sha256:" + sha256_file(path)
        os.chmod(path, 0o644)
        os.replace(path, self.blob_path(digest))
        return digest, os.path.getsize(self.blob_path(digest))

    def put_bytes(self, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with open(self.blob_path(digest), "wb") as f:
            f.write(data)
        return digest, len(data)

    def read_blob(self, digest):
        with open(self.blob_path(digest), "rb") as f:
            return f.read()

    def lookup(self, tag):
        with open(self._index_path()) as f:
            index = json.load(f)
        for m in index["manifests"]:
            if m.get("annotations", {}).get(REF_NAME) == tag:
                return m
        raise SystemExit(f"{self.path}: no image tagged {tag}")

    def tag(self, descriptor, tag):
        with open(self._index_path()) as f:
            index = json.load(f)
        index["manifests"] = [m for m in index["manifests"] if m.get("annotations", {}).get(REF_NAME) != tag]
        d = dict(descriptor)
        d["annotations"] = {REF_NAME: tag}
        index["manifests"].append(d)
        self._write_index(index)


def compress(tar_path, kind, workdir):
    out = tempfile.NamedTemporaryFile(dir=workdir, delete=False).name
    if kind == "none":
        with open(tar_path, "rb") as src, open(out, "wb") as dst:
            for block in iter(lambda: src.read(1 << 20), b""):
                dst.write(block)
    elif kind == "gzip":
        with open(tar_path, "rb") as src, open(out, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    dst.write(block)
    elif kind == "zstd":
        subprocess.run(["zstd", "-q", "-f", "-3", "-T0", tar_path, "-o", out], check=True)
    else:
        raise SystemExit(f"unknown compression {kind}")
    return out


def platform_dict(text):
    parts = text.split("/")
    p = {"os": parts[0], "architecture": parts[1]}
    if len(parts) > 2:
        p["variant"] = parts[2]
    return p


def cmd_image(args):
    layout = Layout(args.out)
    workdir = args.out
    layers, diff_ids, history = [], [], []
    for spec in args.layer:
        path, kind = spec.rsplit(":", 1)
        diff_ids.append("sha256:" + sha256_file(path))
        digest, size = layout.put_file(compress(path, kind, workdir))
        layers.append({"mediaType": LAYER_TYPES[(args.docker, kind)], "digest": digest, "size": size})
        history.append({"created": "2024-01-01T00:00:00Z", "created_by": f"layer {os.path.basename(path)} ({kind})"})
    history.append({"created": "2024-01-01T00:00:00Z", "created_by": "CMD", "empty_layer": True})
    config = {
        "created": "2024-01-01T00:00:00Z",
        **platform_dict(args.platform),
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": args.cmd or ["/bin/sh"], "Labels": {"org.tide.test": "yes"}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    cdigest, csize = layout.put_bytes(json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST if args.docker else OCI_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG if args.docker else OCI_CONFIG, "digest": cdigest, "size": csize},
        "layers": layers,
    }
    mdigest, msize = layout.put_bytes(json.dumps(manifest).encode())
    layout.tag({"mediaType": manifest["mediaType"], "digest": mdigest, "size": msize}, args.tag)


def cmd_index(args):
    layout = Layout(args.out)
    entries = []
    for member in args.member:
        desc = dict(layout.lookup(member))
        desc.pop("annotations", None)
        manifest = json.loads(layout.read_blob(desc["digest"]))
        config = json.loads(layout.read_blob(manifest["config"]["digest"]))
        desc["platform"] = {k: config[k] for k in ("os", "architecture", "variant") if k in config}
        entries.append(desc)
    index = {"schemaVersion": 2, "mediaType": DOCKER_LIST if args.docker else OCI_INDEX, "manifests": entries}
    digest, size = layout.put_bytes(json.dumps(index).encode())
    layout.tag({"mediaType": index["mediaType"], "digest": digest, "size": size}, args.tag)


def cmd_claim_diff_id(args):
    layout = Layout(args.out)
    desc = dict(layout.lookup(args.tag))
    manifest = json.loads(layout.read_blob(desc["digest"]))
    config = json.loads(layout.read_blob(manifest["config"]["digest"]))
    config["rootfs"]["diff_ids"][args.layer] = args.diff_id
    cdigest, csize = layout.put_bytes(json.dumps(config).encode())
    manifest["config"] = dict(manifest["config"], digest=cdigest, size=csize)
    mdigest, msize = layout.put_bytes(json.dumps(manifest).encode())
    desc.pop("annotations", None)
    layout.tag(dict(desc, digest=mdigest, size=msize), args.tag)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    image = sub.add_parser("image")
    image.add_argument("--out", required=True)
    image.add_argument("--tag", required=True)
    image.add_argument("--docker", action="store_true")
    image.add_argument("--platform", default="linux/amd64")
    image.add_argument("--cmd", action="append")
    image.add_argument("--layer", action="append", required=True)
    image.set_defaults(func=cmd_image)
    index = sub.add_parser("index")
    index.add_argument("--out", required=True)
    index.add_argument("--tag", required=True)
    index.add_argument("--docker", action="store_true")
    index.add_argument("--member", action="append", required=True)
    index.set_defaults(func=cmd_index)
    claim = sub.add_parser("claim-diff-id")
    claim.add_argument("--out", required=True)
    claim.add_argument("--tag", required=True)
    claim.add_argument("--layer", type=int, required=True)
    claim.add_argument("--diff-id", required=True)
    claim.set_defaults(func=cmd_claim_diff_id)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
