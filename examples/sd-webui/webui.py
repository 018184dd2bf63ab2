#!/usr/bin/env python3
"""A Stable-Diffusion-webui-like startup: import the ML stack, build a small model, run one
forward pass, print the ready line, then serve HTTP on 7860 (what a replica does before traffic)."""
import http.server
import sys
import time

t0 = time.monotonic()
small = "--small" in sys.argv
import numpy as np  # noqa: E402

if not small:
    import PIL.Image  # noqa: F401
    import cv2  # noqa: F401
    import scipy.linalg  # noqa: F401
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

print(f"SD-WEBUI READY in {time.monotonic() - t0:.2f}s (checksum {checksum:.3f})", flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"sd-webui ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer(("0.0.0.0", 7860), Handler).serve_forever()
