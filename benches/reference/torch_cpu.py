"""Reference timings in PyTorch on the CPU for the kernels of `gradlab bench`
that have a direct PyTorch equivalent, with the ratio against gradlab's own
figure (run `gradlab bench` with the same sizes first, or let this script do
it with --gradlab path/to/gradlab). `--threads N` sets both PyTorch's threads
and gradlab's (`gradlab bench --threads N`).

    pip install torch   # not needed by gradlab itself
    python3 benches/reference/torch_cpu.py --gradlab target/release/gradlab [--threads 1]

Kernels: mlp-forward (2→128→128→2, ReLU, 65,536 points), mlp-train-step
(2→128→128→3, cross-entropy, Adam, batch 256) and diffusion-step (one DDIM
step of 100,000 particles under the exact score of an 8-component mixture).
Prints one JSON line per kernel: {"kernel", "torch_ms", "gradlab_ms", "ratio"}.
"""
import argparse
import json
import math
import subprocess
import time

import torch


def timed(fn):
    fn()
    n, start = 0, time.perf_counter()
    while n < 3 or time.perf_counter() - start < 0.5:
        fn()
        n += 1
    return (time.perf_counter() - start) * 1e3 / n


def mlp(dims):
    layers = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i + 2 < len(dims):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def mlp_forward():
    net, x = mlp([2, 128, 128, 2]), torch.randn(65536, 2)
    with torch.no_grad():
        return timed(lambda: net(x))


def mlp_train_step():
    net, x, y = mlp([2, 128, 128, 3]), torch.randn(256, 2), torch.randint(0, 3, (256,))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    return timed(step)


def diffusion_step():
    n = 100_000
    means = torch.tensor([[math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8)] for k in range(8)])
    var, a, v, a2, v2 = 0.01, 0.5, 0.75, 0.6, 0.64
    x = torch.randn(n, 2)

    def step():
        c = a * a * var + v
        r = x[:, None, :] - a * means[None]
        logits = -(r * r).sum(-1) / (2 * c)
        w = torch.softmax(logits, dim=1)
        m = means[None] + (a * var / c) * r
        d = (w[..., None] * m).sum(1)
        eps = (x - a * d) / math.sqrt(v)
        return a2 * d + math.sqrt(v2) * eps

    with torch.no_grad():
        return timed(step)


GRADLAB = {
    "mlp-forward": ["bench", "mlp-forward", "--batch", "65536", "--hidden", "128,128"],
    "mlp-train-step": ["bench", "mlp-train-step", "--batch", "256", "--hidden", "128,128"],
    "diffusion-step": ["bench", "diffusion-step", "--n", "100000", "--score", "exact-gmm"],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gradlab", help="path to the gradlab binary (release build)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for name, fn in [("mlp-forward", mlp_forward), ("mlp-train-step", mlp_train_step),
                     ("diffusion-step", diffusion_step)]:
        torch_ms = fn()
        out = {"kernel": name, "torch_ms": torch_ms, "threads": args.threads}
        if args.gradlab:
            g = json.loads(subprocess.check_output(
                [args.gradlab, *GRADLAB[name], "--backend", "cpu", "--threads", str(args.threads)]))
            out.update(gradlab_ms=g["ms_per_iter"], ratio=g["ms_per_iter"] / torch_ms)
        print(json.dumps(out))


if __name__ == "__main__":
    main()
