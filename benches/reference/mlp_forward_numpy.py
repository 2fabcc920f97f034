"""Reference timing: the forward pass of `gradlab bench mlp-forward` in NumPy
(BLAS-backed: OpenBLAS in the PyPI wheel), on the same shapes, single-threaded
like gradlab's CPU kernel.

    OPENBLAS_NUM_THREADS=1 python3 benches/reference/mlp_forward_numpy.py [batch] [hidden]
    cargo run --release -- bench mlp-forward --batch 65536 --hidden 128,128

Prints the same JSON fields as `gradlab bench`.
"""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

batch = int(sys.argv[1]) if len(sys.argv) > 1 else 65536
hidden = [int(w) for w in (sys.argv[2] if len(sys.argv) > 2 else "128,128").split(",")]
dims = [2, *hidden, 2]
rng = np.random.default_rng(1)
layers = [
    (rng.normal(0, (2 / i) ** 0.5, (o, i)).astype(np.float32), np.zeros(o, np.float32))
    for i, o in zip(dims[:-1], dims[1:])
]
x = rng.normal(size=(batch, 2)).astype(np.float32)


def forward(h):
    for li, (w, b) in enumerate(layers):
        h = h @ w.T + b
        if li + 1 < len(layers):
            np.maximum(h, 0, out=h)
    return h


forward(x)
n, start = 0, time.perf_counter()
while n < 3 or time.perf_counter() - start < 0.5:
    forward(x)
    n += 1
ms = (time.perf_counter() - start) * 1e3 / n
print(json.dumps({"kernel": "mlp-forward", "backend": "numpy", "size": batch,
                  "items_per_s": batch / (ms / 1e3), "ms_per_iter": ms}))
