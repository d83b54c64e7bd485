"""Steps per second of a full-batch SIREN fit: freqbook against ``siren-pytorch``.

One run measures, on the current machine and with a fixed number of torch threads:

1. ours: ``freqbook.nn.CoordinateMLP(2, 1, 256, 3, activation="sine")`` (five linear layers
   2-256-256-256-256-1, omega_0 = 30) fitted full-batch with MSE and
   ``freqbook.train.make_adam(lr=1e-4)``;
2. peer: the same network from the community package ``siren-pytorch``,
   ``SirenNet(dim_in=2, dim_hidden=256, dim_out=1, num_layers=4, w0=30, w0_initial=30)``, with a
   plain ``torch.optim.Adam(lr=1e-4)`` as its README trains it;
3. the fp32 ``torch.mm`` rate on 2048 x 2048 matrices, the practical GEMM peak of this CPU.

Timed blocks of ours and the peer alternate (their order swaps every round) and the mm peak is
re-measured after every round, so slow phases of background load hit all three alike; the table
reports medians over rounds, warm-up steps excluded. Steps/s are wall-clock; the ratio is also
given from process CPU time, which is less sensitive to other processes on the machine. Matmul
FLOPs per step are ``2 N sum(fan_in * fan_out)`` for the forward pass plus twice that backward.

Targets (DESIGN.md section 8), at 128 x 128 coordinates: ours >= 1.2x the steps/s of
``siren-pytorch`` and >= 80 % of the ``torch.mm`` peak. The script reports and never fails on
timings; see benchmarks/README.md.

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
from dataclasses import dataclass, field

LAYER_SIZES = [(2, 256), (256, 256), (256, 256), (256, 256), (256, 1)]
OMEGA = 30.0
LR = 1e-4
PEAK_N = 2048
TARGET_SIDE = 128
TARGET_RATIO = 1.2
TARGET_PEAK_PCT = 80.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Full-batch SIREN fit steps/s: freqbook vs siren-pytorch vs torch.mm peak."
    )
    p.add_argument(
        "--sizes", type=int, nargs="+", default=[64, 128, 256],
        help="image side lengths; N = side**2 coordinates (default: 64 128 256)",
    )
    p.add_argument(
        "--seconds", type=float, default=2.0,
        help="target wall time of one timed block (default: 2.0)",
    )
    p.add_argument(
        "--rounds", type=int, default=5,
        help="alternating ours/peer rounds per size, medians reported (default: 5; at most 3 "
        "when a single step takes longer than --seconds)",
    )
    p.add_argument(
        "--threads", type=int, default=1,
        help="torch intra-op threads (default: 1, the DESIGN.md reference)",
    )
    p.add_argument("--no-peer", action="store_true", help="skip siren-pytorch")
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


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def step_gflop(n: int) -> float:
    """Matmul GFLOP of one training step on ``n`` coordinates (forward + 2x for backward)."""
    forward = 2.0 * n * sum(a * b for a, b in LAYER_SIZES)
    return 3.0 * forward / 1e9


def make_problem(side: int):
    """A ``side x side`` grid on [-1, 1]^2 and a smooth deterministic target image."""
    import torch

    lin = torch.linspace(-1.0, 1.0, side)
    yy, xx = torch.meshgrid(lin, lin, indexing="ij")
    coords = torch.stack([xx, yy], dim=-1).reshape(-1, 2).contiguous()
    image = 0.5 * torch.sin(6.0 * xx) * torch.cos(4.0 * yy) + 0.3 * torch.sin(17.0 * (xx + yy))
    return coords, image.reshape(-1, 1).contiguous()


def ours_stepper(coords, target) -> Callable[[int], float]:
    """``run(k)``: ``k`` Adam steps of freqbook's SIREN; returns the last loss."""
    import torch
    import torch.nn.functional as F

    from freqbook.nn import CoordinateMLP
    from freqbook.train import make_adam

    torch.manual_seed(0)
    model = CoordinateMLP(
        2, 1, 256, 3, activation="sine", first_omega_0=OMEGA, hidden_omega_0=OMEGA
    )
    opt = make_adam(model.parameters(), LR)

    def run(steps: int) -> float:
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(model(coords), target)
            loss.backward()
            opt.step()
        return float(loss.detach())

    return run


def peer_stepper(coords, target) -> Callable[[int], float]:
    """``run(k)``: ``k`` Adam steps of ``siren_pytorch.SirenNet``, used as its README shows."""
    import torch
    import torch.nn.functional as F
    from siren_pytorch import SirenNet

    torch.manual_seed(0)
    net = SirenNet(
        dim_in=2, dim_hidden=256, dim_out=1, num_layers=4, w0=OMEGA, w0_initial=OMEGA
    )
    opt = torch.optim.Adam(net.parameters(), lr=LR)

    def run(steps: int) -> float:
        for _ in range(steps):
            opt.zero_grad()
            loss = F.mse_loss(net(coords), target)
            loss.backward()
            opt.step()
        return float(loss.detach())

    return run


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call."""
    gc.collect()
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


@dataclass
class MMPeak:
    """Repeated 2048^2 fp32 ``torch.mm`` blocks; GFLOP/s per block."""

    reps: int = 2
    gflops: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        import torch

        gen = torch.Generator().manual_seed(0)
        self.a = torch.randn(PEAK_N, PEAK_N, generator=gen)
        self.b = torch.randn(PEAK_N, PEAK_N, generator=gen)
        self.out = torch.empty(PEAK_N, PEAK_N)

    def _block(self, reps: int) -> float:
        import torch

        def go() -> None:
            for _ in range(reps):
                torch.mm(self.a, self.b, out=self.out)

        wall, _cpu = timed(go)
        return reps * 2.0 * PEAK_N**3 / wall / 1e9

    def calibrate(self, seconds: float) -> None:
        self._block(2)  # warm-up
        one = 2.0 * PEAK_N**3 / (self._block(1) * 1e9)
        self.reps = max(2, min(20, round(seconds / one)))

    def measure(self) -> None:
        self.gflops.append(self._block(self.reps))

    @property
    def median(self) -> float:
        return statistics.median(self.gflops)


@dataclass
class SizeResult:
    side: int
    steps_per_block: int
    rounds: int
    wall_rate: dict[str, list[float]]  # steps/s per block
    cpu_rate: dict[str, list[float]]

    @property
    def n(self) -> int:
        return self.side * self.side

    def med(self, name: str, cpu: bool = False) -> float:
        rates = (self.cpu_rate if cpu else self.wall_rate).get(name)
        return statistics.median(rates) if rates else math.nan


def bench_size(side: int, args: argparse.Namespace, peak: MMPeak, peer_ok: bool) -> SizeResult:
    coords, target = make_problem(side)
    runs: dict[str, Callable[[int], float]] = {"ours": ours_stepper(coords, target)}
    if peer_ok:
        runs["peer"] = peer_stepper(coords, target)

    # Warm-up (excluded): one step, then one more timed step to size the blocks.
    est = 0.0
    for run in runs.values():
        run(1)
        est = max(est, timed(lambda run=run: run(1))[0])
    per_block = max(1, round(args.seconds / est))
    rounds = args.rounds if est <= args.seconds else min(args.rounds, 3)

    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            run = runs[name]
            w, c = timed(lambda run=run: run(per_block))
            wall[name].append(per_block / w)
            cpu[name].append(per_block / c)
        peak.measure()
    return SizeResult(side, per_block, rounds, wall, cpu)


def report(results: list[SizeResult], peak: MMPeak) -> None:
    pk = peak.median
    print(
        f"torch.mm {PEAK_N}x{PEAK_N} fp32 peak: {pk:.1f} GFLOP/s (median of {len(peak.gflops)} "
        f"blocks of {peak.reps} mm, range {min(peak.gflops):.1f}-{max(peak.gflops):.1f})\n"
    )
    cols = (
        f"{'size':>9} {'GFLOP/step':>10} {'blocks':>9} {'ours st/s':>9} {'peer st/s':>9} "
        f"{'ours/peer':>9} {'(cpu t)':>7} {'ours GF/s':>9} {'% mm pk':>8} {'peer %pk':>8}"
    )
    print(cols)
    print("-" * len(cols))
    for res in results:
        gf = step_gflop(res.n)
        ours, peer = res.med("ours"), res.med("peer")
        ratio_cpu = res.med("ours", cpu=True) / res.med("peer", cpu=True)
        blocks = f"{res.rounds}x{res.steps_per_block}"
        print(
            f"{f'{res.side}x{res.side}':>9} {gf:>10.2f} {blocks:>9} {ours:>9.3f} {peer:>9.3f} "
            f"{ours / peer:>8.2f}x {ratio_cpu:>6.2f}x {ours * gf:>9.1f} "
            f"{100 * ours * gf / pk:>7.1f}% {100 * peer * gf / pk:>7.1f}%"
        )
    print("\nper-block steps/s, min-max over rounds (wall clock):")
    for res in results:
        spans = ", ".join(
            f"{k} {min(v):.3f}-{max(v):.3f}" for k, v in res.wall_rate.items()
        )
        print(f"  {res.side}x{res.side}: {spans}")

    target = [r for r in results if r.side == TARGET_SIDE]
    if target:
        res = target[0]
        ratio = res.med("ours") / res.med("peer")
        pct = 100 * res.med("ours") * step_gflop(res.n) / pk
        print(f"\nDESIGN.md section 8 targets at {TARGET_SIDE}x{TARGET_SIDE}:")
        print(
            f"  ours/peer steps/s = {ratio:.2f}x (target >= {TARGET_RATIO}x): "
            f"{'met' if ratio >= TARGET_RATIO else 'not met'}"
        )
        print(
            f"  % of mm peak      = {pct:.1f} % (target >= {TARGET_PEAK_PCT:.0f} %): "
            f"{'met' if pct >= TARGET_PEAK_PCT else 'not met'}"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    peer_ok, peer_version = not args.no_peer, "not used"
    if peer_ok:
        try:
            import importlib.metadata as md

            import siren_pytorch  # noqa: F401

            peer_version = md.version("siren-pytorch")
        except ImportError:
            print(
                "siren-pytorch is not installed (pip install -e '.[bench]'); measuring ours only",
                file=sys.stderr,
            )
            peer_ok, peer_version = False, "not installed"

    t_start = time.perf_counter()
    print(
        "SIREN full-batch fit: 5 linear layers 2-256-256-256-256-1, omega_0 = 30, MSE, "
        "Adam lr 1e-4"
    )
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, "
        f"siren-pytorch {peer_version}"
    )
    print(
        f"CPU: {cpu_name()}, {os.cpu_count()} logical cores; torch threads: "
        f"{torch.get_num_threads()}; MKL: {torch.backends.mkl.is_available()}; "
        f"load average at start: {load_average()}"
    )
    print(f"timed blocks of ~{args.seconds:g} s, up to {args.rounds} rounds per size\n")

    peak = MMPeak()
    peak.calibrate(args.seconds / 2)
    peak.measure()
    results = []
    for side in args.sizes:
        results.append(bench_size(side, args, peak, peer_ok))
        gc.collect()

    report(results, peak)
    print(
        f"\nload average at end: {load_average()}; total time "
        f"{time.perf_counter() - t_start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
