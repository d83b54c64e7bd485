"""Fit every (clip, method, seed) of an audio configuration and collect one xarray record.

Shared by the bottleneck figure (:mod:`.bottleneck`) and the audio table (:mod:`.audio_table`).
Each fit: the clip's window on the whole target's coordinates, the noise scales from the whole
150 000-sample target, full-batch Adam with the code's ``StepLR(20, gamma)``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from freqbook.experiments.winner.common import (
    CONV_SIREN,
    CONV_WINNER,
    MAX_SAMPLES,
    METHODS,
    NetSpec,
    audio_noise,
    build_method,
    check_names,
    load_clip,
    loud_window,
    psnr_winner,
    train,
)
from freqbook.train import seed_everything


def prepare_clip(name: str, window: int | None, start: int | None = None,
                 schedule: str = "audio", stretch: bool = False):
    """``dict`` with rate, coords, target, start, psi, s0, s1 of clip ``name``'s window.

    ``stretch=True`` puts the window itself on ``linspace(-1, 1, window)`` (a control: *not* the
    paper's spacing, every frequency looks ``150 000 / window`` times lower)."""
    rate, signal = load_clip(name)
    psi, s0, s1 = audio_noise(signal, schedule)
    n_full = signal.size
    length = n_full if window is None else min(window, n_full)
    first = loud_window(signal, length) if start is None else start
    coords = (np.linspace(-1.0, 1.0, length) if stretch
              else np.linspace(-1.0, 1.0, n_full)[first : first + length])
    return {"rate": rate, "coords": coords, "target": signal[first : first + length],
            "start": first, "psi": psi, "s0": s0, "s1": s1, "n_full": n_full}


def fit_clips(
    clips: tuple[str, ...],
    methods: tuple[str, ...],
    seeds: tuple[int, ...],
    *,
    spec: NetSpec,
    window: int | None,
    steps: int,
    lr: float,
    gamma: float,
    starts: dict[str, int] | None = None,
    single_seed: tuple[str, ...] = (),
    progress: bool | None = None,
    stretch: bool = False,
) -> xr.Dataset:
    """Train and record; ``single_seed`` methods run on the first seed only (others NaN);
    ``stretch`` maps each window to [-1, 1] (see :func:`prepare_clip`).

    Returns
    -------
    xarray.Dataset
        ``psnr(clip, method, seed, step)`` (WINNER convention, pre-update loss);
        ``peak_psnr``, ``final_psnr`` (WINNER), ``final_psnr_siren`` (SIREN convention),
        ``rms_ratio`` (output RMS / target RMS), ``gain_over_zero`` (final PSNR minus that of an
        all-zero output), ``wall_s`` over ``(clip, method, seed)``; ``params(method)``;
        ``gain_vs_siren`` (peak PSNR minus the same seed's SIREN, when SIREN is run);
        ``psi``, ``s0``, ``s1``, ``zero_psnr``, ``rate``, ``start`` per clip; first seed's
        ``fit(clip, method, sample)``, ``target(clip, sample)``.
    """
    check_names("method", methods, (*METHODS, "siren30"))
    starts = starts or {}
    data = [prepare_clip(c, window, starts.get(c), stretch=stretch) for c in clips]
    n_max = max(d["target"].size for d in data)
    nc, nm, ns = len(clips), len(methods), len(seeds)
    curves = np.full((nc, nm, ns, steps), np.nan)
    stats = {k: np.full((nc, nm, ns), np.nan) for k in
             ("peak_psnr", "final_psnr", "final_psnr_siren", "rms_ratio", "gain_over_zero",
              "wall_s")}
    fits = np.full((nc, nm, n_max), np.nan)
    targets = np.full((nc, n_max), np.nan)
    params = np.zeros(nm, dtype=np.int64)
    zero = np.zeros(nc)
    for c, (clip, d) in enumerate(zip(clips, data, strict=True)):
        y = d["target"]
        targets[c, : y.size] = y
        zero[c] = psnr_winner(np.zeros_like(y), y)
        for i, method in enumerate(methods):
            for j, seed in enumerate(seeds):
                if j > 0 and method in single_seed:
                    continue
                seed_everything(seed)
                model = build_method(method, 1, 1, spec, s0=d["s0"], s1=d["s1"],
                                     samples=512)
                res = train(model, d["coords"], y, steps=steps, lr=lr, gamma=gamma,
                            desc=f"{clip} {method} s{seed}", progress=progress)
                params[i] = res.params
                curves[c, i, j] = res.psnr
                summ = res.summary(y)
                for k, v in summ.items():
                    stats[k][c, i, j] = v
                stats["gain_over_zero"][c, i, j] = summ["final_psnr"] - zero[c]
                stats["wall_s"][c, i, j] = res.wall_s
                if j == 0:
                    fits[c, i, : y.size] = res.output
    cms = ("clip", "method", "seed")
    db_w = {"units": "dB", "convention": CONV_WINNER}
    variables = {
        "psnr": (("clip", "method", "seed", "step"), curves, db_w),
        "peak_psnr": (cms, stats["peak_psnr"], db_w | {"long_name": "max over steps"}),
        "final_psnr": (cms, stats["final_psnr"], db_w | {"long_name": "after the last step"}),
        "final_psnr_siren": (cms, stats["final_psnr_siren"],
                             {"units": "dB", "convention": CONV_SIREN}),
        "rms_ratio": (cms, stats["rms_ratio"], {"long_name": "RMS(output) / RMS(target)"}),
        "gain_over_zero": (cms, stats["gain_over_zero"],
                           {"units": "dB", "long_name": "final PSNR - PSNR of silence"}),
        "wall_s": (cms, stats["wall_s"], {"units": "s"}),
        "params": (("method",), params),
        "fit": (("clip", "method", "sample"), fits),
        "target": (("clip", "sample"), targets),
        "zero_psnr": (("clip",), zero, db_w | {"long_name": "PSNR of an all-zero output"}),
    }
    if "siren" in methods:  # peak-PSNR gain over the same seed's SIREN (the paper's "gain")
        base = stats["peak_psnr"][:, [methods.index("siren")], :]
        variables["gain_vs_siren"] = (cms, stats["peak_psnr"] - base,
                                      {"units": "dB", "long_name": "peak PSNR - SIREN's"})
    for key in ("psi", "s0", "s1", "rate", "start", "n_full"):
        variables[key] = (("clip",), np.array([d[key] for d in data]))
    return xr.Dataset(
        variables,
        coords={"clip": list(clips), "method": list(methods), "seed": list(seeds),
                "step": np.arange(steps), "sample": np.arange(n_max)},
        attrs={"max_samples": MAX_SAMPLES},
    )


def clip_sha(clips) -> dict[str, str]:
    """sha256 of the clip files (for the record's provenance)."""
    import hashlib

    from freqbook.data import fetch
    from freqbook.experiments.winner.common import CLIP_FILES

    return {CLIP_FILES[c]: hashlib.sha256(fetch(CLIP_FILES[c]).read_bytes()).hexdigest()
            for c in clips}
