"""Shared pieces of the WINNER experiments: targets, methods, one training run, PSNR conventions.

Targets follow the official loaders (``papers/winner.md`` Sec. 2.6): audio mono, divided by the
peak of the *whole* file, then cut to its first 150 000 samples on ``t = linspace(-1, 1, 150 000)``;
images in [-1, 1] on ``meshgrid(linspace(-1, 1, H), linspace(-1, 1, W), indexing="ij")``. A
*window* of a clip keeps those coordinates (spec pitfall 6.4), and the noise scales are computed
from the whole 150 000-sample target, as in the code.

PSNR conventions, both reported and always named:

* **WINNER** (official ``train``): ``20 log10(1 / sqrt(MSE))`` on the [-1, 1] data (peak 1), no
  clipping, from each step's pre-update loss; the paper reports the *maximum* over epochs.
* **SIREN**: prediction clipped to [-1, 1], ``10 log10(2^2 / MSE)`` (data range 2, = [0, 1] with
  range 1): 6.02 dB above the WINNER number for the same fit (unless clipping matters).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from freqbook.data.audio import load_wav
from freqbook.models.siren import build_model
from freqbook.models.winner import build_winner, image_centroid, noise_scales, spectral_centroid
from freqbook.nn import nyquist_frequencies
from freqbook.train import fit

MAX_SAMPLES = 150_000
#: the code's clip list (``learn_audios.py``) that we hold; bach is SIREN's ``gt_bach.wav``
CLIP_FILES: dict[str, str] = {
    "tetris": "inr/winner/audio/tetris.wav",
    "relay": "inr/winner/audio/relay.wav",
    "arch": "inr/winner/audio/arch.wav",
    "tap": "inr/winner/audio/tap.wav",
    "whoosh": "inr/winner/audio/whoosh.wav",
    "shattered": "inr/winner/audio/shattered.wav",
    "radiation": "inr/winner/audio/radiation.wav",
    "bach": "inr/siren/gt_bach.wav",
}
#: clips of the code's list that this book cannot fit, and why
MISSING_CLIPS: dict[str, str] = {
    "voltage": "in the upstream repository but larger than 4 MiB, not in our data snapshot",
    "foley": "in the upstream repository but larger than 4 MiB, not in our data snapshot",
    "birds": "in the upstream repository but larger than 4 MiB, not in our data snapshot",
    "sparking": "listed in learn_audios.py but not in the upstream repository at all",
}
#: images of ``learn_images.py``; camera is scikit-image's (byte-identical to the repo's file)
IMAGE_FILES: dict[str, str | None] = {
    "camera": None,
    "castle": "inr/winner/images/castle_512.jpg",
    "rock": "inr/winner/images/rock_512.jpg",
    "braided": "inr/winner/images/braided_0064_gray.jpg",
    "noise1": "inr/winner/images/noise1.png",
}
METHODS = ("siren", "winner", "finer", "wire", "gauss", "relu_pe")
LABELS = {"siren": "SIREN", "winner": "SIREN² (WINNER)", "finer": "FINER", "wire": "WIRE",
          "gauss": "Gauss", "relu_pe": "ReLU + P.E.", "siren30": "SIREN, first ω0 = 30"}
COLOURS = {"siren": "#d62728", "winner": "#2ca02c", "finer": "#9467bd", "wire": "#8c564b",
           "gauss": "#e377c2", "relu_pe": "#1f77b4", "siren30": "#0072b2"}
CONV_WINNER = "WINNER: [-1,1] data, peak 1, 20 log10(1/sqrt(MSE)), no clipping"
CONV_SIREN = "SIREN: [-1,1] data, prediction clipped, 10 log10(2^2/MSE)"


def check_names(kind: str, names, valid) -> None:
    """One-line ``ValueError`` naming the unknown entries of ``names``."""
    bad = [n for n in names if n not in valid]
    if bad:
        raise ValueError(f"unknown {kind} {bad}; valid: {', '.join(valid)}")


# ------------------------------------------------------------------------------------- targets
def load_clip(name: str, max_samples: int = MAX_SAMPLES) -> tuple[int, np.ndarray]:
    """``(rate, signal)``: the clip as the code loads it, first ``max_samples`` samples."""
    if name not in CLIP_FILES:
        why = f" ({MISSING_CLIPS[name]})" if name in MISSING_CLIPS else ""
        raise ValueError(f"unknown clip {name!r}{why}; valid: {', '.join(CLIP_FILES)}")
    rate, signal = load_wav(CLIP_FILES[name])
    return rate, signal[:max_samples]


def loud_window(signal: np.ndarray, length: int) -> int:
    """Start of the first window (on a grid of ``length``) whose RMS is at least half the RMS of
    the whole target, so that a short window is never near-silent (e.g. tetris's first 0.1 s)."""
    if length >= signal.size:
        return 0
    level = 0.5 * float(np.sqrt(np.mean(signal.astype(np.float64) ** 2)))
    for start in range(0, signal.size - length + 1, length):
        if float(np.sqrt(np.mean(signal[start : start + length].astype(np.float64) ** 2))) >= level:
            return start
    return 0


def load_image_target(name: str, size: int | None, gray: bool = True) -> np.ndarray:
    """Image ``name`` of :data:`IMAGE_FILES` in [-1, 1] as ``(H, W, C)`` at ``size`` x ``size``."""
    from freqbook.data.images import load_camera, load_image

    if name not in IMAGE_FILES:
        raise ValueError(f"unknown image {name!r}; valid: {', '.join(IMAGE_FILES)}")
    path = IMAGE_FILES[name]
    img = load_camera(size) if path is None else load_image(path, size, gray=gray)
    return img[..., None] if img.ndim == 2 else img


def image_coords(h: int, w: int) -> np.ndarray:
    """``(H W, 2)`` of ``meshgrid(linspace(-1,1,H), linspace(-1,1,W), indexing="ij")``."""
    yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    return np.stack([yy.ravel(), xx.ravel()], axis=1).astype(np.float32)


def audio_noise(signal: np.ndarray, schedule: str = "audio") -> tuple[float, float, float]:
    """``(psi, s0, s1)`` of a 1-channel clip (code path: ``(N, 1)`` through the 1-D branch)."""
    psi = spectral_centroid(np.asarray(signal)[:, None])
    return (psi, *noise_scales(psi, 1, schedule))


def image_noise(img: np.ndarray, mode: str = "flat", double: bool = True):
    """``(psi, s0, s1)`` of an ``(H, W, C)`` image; ``double=False`` divides by ``C`` once."""
    psi = image_centroid(img, mode)
    return (psi, *noise_scales(psi, img.shape[-1] if double else 1, "image"))


# ------------------------------------------------------------------------------------- methods
@dataclass(frozen=True)
class NetSpec:
    """Network shape and frequency settings of one modality (``papers/winner.md`` Sec. 2.1)."""

    hidden_features: int
    hidden_layers: int
    siren_first_omega: float
    winner_first_omega: float = 30.0
    omega_0: float = 30.0


AUDIO_NET = NetSpec(222, 3, 3000.0)
IMAGE_NET = NetSpec(256, 4, 30.0)


def build_method(method: str, in_f: int, out_f: int, spec: NetSpec, *, s0: float = 0.0,
                 s1: float = 0.0, samples: int = 512) -> nn.Module:
    """Network ``method`` of :data:`METHODS` (plus ``siren30``: SIREN with first ω0 = 30).

    WIRE gets width ``int(H / sqrt(2))`` (its complex weights double the parameters; code),
    ReLU + P.E. the SIREN code's NeRF encoding with ``floor(log2(samples / 4))`` octaves (the
    WINNER code passes ``sidelength=512``: 7 octaves).
    """
    check_names("method", [method], (*METHODS, "siren30"))
    common = dict(hidden_features=spec.hidden_features, hidden_layers=spec.hidden_layers)
    if method == "winner":
        return build_winner(in_f, out_f, s0=s0, s1=s1, first_omega_0=spec.winner_first_omega,
                            hidden_omega_0=spec.omega_0, **common)
    if method in ("siren", "siren30"):
        first = spec.siren_first_omega if method == "siren" else spec.winner_first_omega
        return build_model("siren", in_f, out_f, first_omega_0=first,
                           hidden_omega_0=spec.omega_0, **common)
    if method == "wire":
        width = int(spec.hidden_features / math.sqrt(2.0))
        return build_model("wire", in_f, out_f, hidden_features=width,
                           hidden_layers=spec.hidden_layers, first_omega_0=10.0,
                           hidden_omega_0=10.0, scale=10.0)
    if method == "relu_pe":
        return build_model("relu_pe", in_f, out_f, pe_frequencies=nyquist_frequencies(samples),
                           **common)
    return build_model(method, in_f, out_f, first_omega_0=30.0, hidden_omega_0=30.0, **common)


# ------------------------------------------------------------------------------------- training
def psnr_siren(prediction: np.ndarray, target: np.ndarray) -> float:
    """SIREN convention: clip to [-1, 1], ``10 log10(4 / MSE)``."""
    mse = float(np.mean((np.clip(prediction, -1, 1) - target) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(4.0 / mse)


def psnr_winner(prediction: np.ndarray, target: np.ndarray) -> float:
    """WINNER convention: ``20 log10(1 / sqrt(MSE))``, no clipping."""
    mse = float(np.mean((np.asarray(prediction, np.float64) - target) ** 2))
    return math.inf if mse == 0 else -10.0 * math.log10(mse)


@dataclass
class FitResult:
    """One training run: per-step WINNER-convention PSNR (pre-update), final output, timing."""

    psnr: np.ndarray
    output: np.ndarray
    wall_s: float
    params: int

    def summary(self, target: np.ndarray) -> dict[str, float]:
        """Peak and final PSNR (WINNER), final PSNR (SIREN), output/target RMS ratio."""
        rms_t = float(np.sqrt(np.mean(target.astype(np.float64) ** 2)))
        return {
            "peak_psnr": float(np.nanmax(self.psnr)),
            "final_psnr": psnr_winner(self.output, target),
            "final_psnr_siren": psnr_siren(self.output, target),
            "rms_ratio": float(np.sqrt(np.mean(self.output.astype(np.float64) ** 2))) / rms_t,
        }


def train(model: nn.Module, coords: np.ndarray, target: np.ndarray, *, steps: int, lr: float,
          gamma: float, step_size: int = 20, desc: str = "fit",
          progress: bool | None = None) -> FitResult:
    """Full-batch Adam on the MSE with ``StepLR(step_size, gamma)`` stepped once per step (one
    step = one epoch at full batch, as for SIREN/SIREN² in the code)."""
    x = torch.from_numpy(np.asarray(coords, np.float32).reshape(len(target), -1))
    y = torch.from_numpy(np.asarray(target, np.float32).reshape(len(target), -1))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    calls = [0]

    def step():
        if calls[0] > 0:  # the previous step's optimiser update has happened: advance the LR
            sched.step()
        calls[0] += 1
        loss = torch.mean((model(x) - y) ** 2)
        return loss, {"psnr": -10.0 * math.log10(max(float(loss.detach()), 1e-30))}

    tic = time.perf_counter()
    hist = fit(None, step, steps, lr, desc=desc, progress=progress, optimizer=opt)
    wall = time.perf_counter() - tic
    with torch.no_grad():
        out = model(x).double().numpy().reshape(np.shape(target))
    n_params = sum(p.numel() for p in model.parameters())
    return FitResult(np.asarray(hist.metrics["psnr"]), out, wall, n_params)


def amplitude_spectrum(signal: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """``(frequency_Hz, |rfft|)`` of a 1-D signal (Hann window)."""
    sig = np.asarray(signal, np.float64)
    spec = np.abs(np.fft.rfft(sig * np.hanning(sig.size)))
    return np.fft.rfftfreq(sig.size, d=1.0 / rate), spec
