"""Steps per second of a full-batch SIREN fit: freqbook against ``siren-pytorch``.

One run measures, on the current machine and with a fixed number of torch threads:

1. ``freqbook.nn.CoordinateMLP(2, 1, 256, 3, activation="sine")`` (five linear layers, omega_0 = 30)
   trained full-batch with MSE and ``freqbook.train.make_adam(lr=1e-4)``;
2. the same network from the community package ``siren-pytorch``
   (``SirenNet(dim_in=2, dim_hidden=256, dim_out=1, num_layers=4, w0=30, w0_initial=30)``) with a
   plain ``torch.optim.Adam(lr=1e-4)``, the way its README trains it;
3. the fp32 ``torch.mm`` rate on 2048 x 2048 matrices, the machine's practical GEMM peak.

Timed blocks of ours and the peer alternate (and swap order every round), and the mm peak is
re-measured in every round, so slow phases of background load hit all of them alike; the table
reports medians over the rounds. Warm-up steps are excluded. Matmul FLOPs per step are counted as
``2 N sum(fan_in * fan_out)`` forward plus twice that backward.

Targets (DESIGN.md section 8), at 128 x 128 coordinates: ours >= 1.2x the steps/s of
``siren-pytorch`` and >= 80 % of the ``torch.mm`` peak. The script only reports; it never fails on
timings.

Run: ``python benchmarks/siren_fit.py [--sizes 64 128 256] [--seconds 2] [--rounds 5]
[--threads 1]``.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

LAYER_SIZES = [(2, 256), (256, 256), (256, 256), (256, 256), (256, 1)]
OMEGA = 30.0
LR = 1e-4
PEAK_N = 2048


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256],
                   help="image side lengths; N = side**2 coordinates (default: 64 128 256)")
    p.add_argument("--seconds", type=float, default=2.0,
                   help="target duration of one timed block (default: 2.0)")
    p.add_argument("--rounds", type=int, default=5,
                   help="alternating ours/peer rounds per size; medians are reported (default: 5)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads (default: 1, the DESIGN reference)")
    p.add_argument("--no-peer", action="store_true",
                   help="skip siren-pytorch (only ours and the mm peak)")
    return p.parse_args(argv)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def step_flops(n: int) -> float:
    """Matmul FLOPs of one training step on ``n`` coordinates (forward + 2x for backward)."""
    forward = 2.0 * n * sum(a * b for a, b in LAYER_SIZES)
    return 3.0 * forward


def make_problem(side: int):
    """A ``side x side`` grid on [-1, 1]^2 and a smooth deterministic target image."""
    import torch

    lin = torch.linspace(-1.0, 1.0, side)
    yy, xx = torch.meshgrid(lin, lin, indexing="ij")
    coords = torch.stack([xx, yy], dim=-1).reshape(-1, 2).contiguous()
    target = (
        0.5 * torch.sin(6.0 * xx) * torch.cos(4.0 * yy) + 0.3 * torch.sin(17.0 * (xx + yy))
    ).reshape(-1, 1).contiguous()
    return coords, target


def ours_stepper(coords, target) -> Callable[[int], None]:
    import torch
    import torch.nn.functional as F

    from freqbook.nn import CoordinateMLP
    from freqbook.train import make_adam

    torch.manual_seed(0)
    model = CoordinateMLP(2, 1, 256, 3, activation="sine",
                          first_omega_0=OMEGA, hidden_omega_0=OMEGA)
    opt = make_adam(model.parameters(), LR)

    def run(steps: int) -> None:
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(model(coords), target)
            loss.backward()
            opt.step()
        float(loss.detach())

    return run


def peer_stepper(coords, target) -> Callable[[int], None]:
    import torch
    import torch.nn.functional as F
    from siren_pytorch import SirenNet

    torch.manual_seed(0)
    net = SirenNet(dim_in=2, dim_hidden=256, dim_out=1, num_layers=4, w0=OMEGA, w0_initial=OMEGA)
    opt = torch.optim.Adam(net.parameters(), lr=LR)

    def run(steps: int) -> None:
        for _ in range(steps):
            opt.zero_grad()
            loss = F.mse_loss(net(coords), target)
            loss.backward()
            opt.step()
        float(loss.detach())

    return run


def timed(fn: Callable[[], None]) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def mm_block(a, b, out, reps: int) -> float:
    """GFLOP/s of ``reps`` back-to-back 2048^2 fp32 ``torch.mm`` calls."""
    import torch

    def go() -> None:
        for _ in range(reps):
            torch.mm(a, b, out=out)

    return reps * 2.0 * PEAK_N**3 / timed(go) / 1e9


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    peer_ok = not args.no_peer
    peer_version = "-"
    if peer_ok:
        try:
            import importlib.metadata as md

            import siren_pytorch  # noqa: F401

            peer_version = md.version("siren-pytorch")
        except ImportError:
            print("siren-pytorch is not installed (pip install 'freqbook[bench]'); "
                  "measuring ours only", file=sys.stderr)
            peer_ok = False

    print("SIREN full-batch fit benchmark (5 linear layers 2-256-256-256-256-1, omega_0=30, "
          "MSE, Adam lr=1e-4)")
    print(f"python {platform.python_version()}  torch {torch.__version__}  "
          f"siren-pytorch {peer_version}")
    print(f"CPU: {cpu_name()} ({os.cpu_count()} logical cores)  torch threads: "
          f"{torch.get_num_threads()}  MKL: {torch.backends.mkl.is_available()}")
    print(f"timed block ~{args.seconds:g} s, {args.rounds} rounds per size, medians reported\n")

    gen = torch.Generator().manual_seed(0)
    a = torch.randn(PEAK_N, PEAK_N, generator=gen)
    b = torch.randn(PEAK_N, PEAK_N, generator=gen)
    out = torch.empty(PEAK_N, PEAK_N)
    mm_block(a, b, out, 2)  # warm-up
    t_one = 2.0 * PEAK_N**3 / (mm_block(a, b, out, 1) * 1e9)
    mm_reps = max(2, min(20, round(0.5 * args.seconds / t_one)))
    peaks: list[float] = [mm_block(a, b, out, mm_reps)]

    rows = []
    for side in args.sizes:
        n = side * side
        coords, target = make_problem(side)
        contenders: dict[str, Callable[[int], None]] = {"ours": ours_stepper(coords, target)}
        if peer_ok:
            contenders["peer"] = peer_stepper(coords, target)

        # Warm-up (excluded), also used to size the timed blocks.
        est: dict[str, float] = {}
        for name, run in contenders.items():
            run(1)
            est[name] = timed(lambda run=run: run(1))
        per_block = max(1, round(args.seconds / max(est.values())))

        rates: dict[str, list[float]] = {name: [] for name in contenders}
        order = list(contenders)
        for r in range(args.rounds):
            for name in order if r % 2 == 0 else order[::-1]:
                run = contenders[name]
                rates[name].append(per_block / timed(lambda run=run: run(per_block)))
            peaks.append(mm_block(a, b, out, mm_reps))
        rows.append((side, n, per_block, {k: statistics.median(v) for k, v in rates.items()},
                     {k: (min(v), max(v)) for k, v in rates.items()}))
        del contenders
        gc.collect()

    peak = statistics.median(peaks)
    print(f"torch.mm {PEAK_N}x{PEAK_N} fp32 peak: {peak:.1f} GFLOP/s "
          f"(median of {len(peaks)} blocks of {mm_reps}; range {min(peaks):.1f}-{max(peaks):.1f})\n")

    head = (f"{'size':>9} {'N':>7} {'steps/blk':>9} {'GFLOP/step':>10} {'ours st/s':>10} "
            f"{'peer st/s':>10} {'ours/peer':>9} {'ours GF/s':>9} {'% mm peak':>9} "
            f"{'peer % pk':>9}")
    print(head)
    print("-" * len(head))
    for side, n, per_block, med, _rng in rows:
        gflop = step_flops(n) / 1e9
        ours = med["ours"]
        peer = med.get("peer", math.nan)
        print(f"{f'{side}x{side}':>9} {n:>7} {per_block:>9} {gflop:>10.2f} {ours:>10.3f} "
              f"{peer:>10.3f} {ours / peer:>8.2f}x {ours * gflop:>9.1f} "
              f"{100 * ours * gflop / peak:>8.1f}% {100 * peer * gflop / peak:>8.1f}%")
    print()
    print("ranges over rounds (min-max steps/s):")
    for side, _n, _pb, _med, rng in rows:
        parts = [f"{k} {lo:.3f}-{hi:.3f}" for k, (lo, hi) in rng.items()]
        print(f"  {side}x{side}: " + ", ".join(parts))

    for side, n, _pb, med, _rng in rows:
        if side != 128:
            continue
        gflop = step_flops(n) / 1e9
        ratio = med["ours"] / med["peer"] if "peer" in med else math.nan
        pct = 100 * med["ours"] * gflop / peak
        print()
        print("DESIGN section 8 targets at 128x128:")
        print(f"  ours/peer steps/s = {ratio:.2f}x  (target >= 1.2x): "
              f"{'met' if ratio >= 1.2 else 'NOT met'}")
        print(f"  % of mm peak      = {pct:.1f} %  (target >= 80 %): "
              f"{'met' if pct >= 80 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
