#!/usr/bin/env python3
"""A Stable-Diffusion-webui-like startup: import the ML stack, build a small model, run one
forward pass, print the ready line, then serve HTTP on 7860 (what a replica does before traffic)."""
import http.server
import sys
import time

t0 = time.monotonic()
small = "--small" in sys.argv
import numpy as np  # noqa: E402


def touch_checkpoint(path):
    """Maps the checkpoint and reads its first 32 MiB and 64 scattered pages, as a server that loads
    the weights it needs first and the rest on use."""
    weights = np.memmap(path, dtype=np.uint8, mode="r")
    head = int(weights[: 32 << 20].sum(dtype=np.uint64))
    pages = np.random.default_rng(1).integers(0, len(weights) // 4096, 64) * 4096
    return head + sum(int(weights[p]) for p in pages)


checkpoint = touch_checkpoint("/app/models/model.bin")
if not small:
    import PIL.Image  # noqa: F401
    import cv2  # noqa: F401
    import flask  # noqa: F401
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import pandas  # noqa: F401
    import scipy.linalg  # noqa: F401
    import skimage.filters  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sympy  # noqa: F401
    import torch
    import torchvision  # noqa: F401

    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(16, 3, 3, padding=1))
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 64, 64))
    checksum = float(out.sum())
else:
    w = np.random.default_rng(0).standard_normal((64, 64))
    checksum = float((w @ w.T).trace())

print(f"SD-WEBUI READY in {time.monotonic() - t0:.2f}s (checksum {checksum:.3f}, checkpoint {checkpoint})", flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"sd-webui ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer(("0.0.0.0", 7860), Handler).serve_forever()
