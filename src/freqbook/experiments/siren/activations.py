"""Activation statistics of a deep SIREN at initialisation (paper Sec. 3.2, supplement Sec. 1).

Artefact F-activations; paper scale = the authors' Colab: 1-D input, width 2048, 10 hidden layers.
For every sine layer ``l`` we record the pre-activation ``z_l = omega_0 (W_l h_{l-1} + b_l)`` and
the post-activation ``h_l = sin(z_l)`` at init, pooled over inputs and units:

* mean, standard deviation, and the Kolmogorov-Smirnov distance of ``z_l`` to N(0, 1) and of
  ``h_l`` to the arcsine law on (-1, 1) (paper Sec. 3.2: "inputs to each sine are approximately
  standard normal, outputs are arcsine-distributed, independent of depth");
* histograms of both (first seed) against the analytic densities; and
* the power spectrum ``|FFT|^2`` of each unit's activation along a dense, evenly spaced grid of
  ``x`` in [-1, 1], averaged over units, and its 95 % bandwidth: depth adds higher frequencies.

Four initialisations are compared (``CASES``): SIREN with zero biases (the paper's analysis),
SIREN with the official code's PyTorch-default biases, weights initialised for ``omega_0 = 30``
but applied with a hidden ``omega_0 = 1`` ("wrong scale"), and PyTorch's default ``nn.Linear``
init under ``sin(30 .)``. :func:`predicted_pre_std` gives the Gaussian-recursion prediction of
the pre-activation std per layer (with zero biases ``v <- 1 - exp(-2 v)``, fixed point 0.797).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import torch
import xarray as xr
from scipy import special

from freqbook.nn import CoordinateMLP, arcsine_pdf
from freqbook.profiles import config_for as shared_config_for
from freqbook.results import run_and_record as shared_run_and_record
from freqbook.train import default_device, seed_everything

CASES = ("siren_zero", "siren_torch", "wrong_omega", "torch_default")
CASE_LABELS = {"siren_zero": "SIREN, zero biases (paper's analysis)",
               "siren_torch": "SIREN, PyTorch biases (official code)",
               "wrong_omega": "hidden ω0 = 1, weights for ω0 = 30",
               "torch_default": "PyTorch default init, ω0 = 30"}
CASE_COLOURS = {"siren_zero": "#d62728", "siren_torch": "#ff7f0e", "wrong_omega": "#1f77b4",
                "torch_default": "#7f7f7f"}
PRE_RANGE, PRE_BINS, POST_BINS = 5.0, 100, 100
BAND = 0.95  # fraction of the non-DC power below the reported bandwidth


@dataclass(frozen=True)
class ActivationsConfig:
    """Settings of the activation-statistics study (one instance per profile).

    Attributes
    ----------
    hidden_features, hidden_layers
        Width, and number of ``width -> width`` sine layers after the first one (Colab: 2048 and
        10, i.e. 11 sine layers).
    points
        Number of evenly spaced inputs ``x`` in [-1, 1] (Colab: 16 384, ``linspace``). The grid is
        the quadrature of ``x ~ U(-1, 1)``: statistics pooled over it are those of uniform inputs.
    inputs
        ``"grid"``: statistics and spectra on the same grid (one forward pass); ``"uniform"``:
        statistics on ``points`` random draws of ``U(-1, 1)`` (a second forward pass).
    omega_0, seeds, cases
        SIREN frequency factor of every layer (30); initialisation seeds (mean +- sd over them);
        initialisations to compare (a subset of :data:`CASES`).
    ks_samples, hist_samples, spectrum_units
        Pooled values drawn (with replacement) per layer for the KS distances and for the
        histograms; units per layer whose spectra are averaged.
    """

    hidden_features: int = 2048
    hidden_layers: int = 10
    points: int = 16384
    omega_0: float = 30.0
    seeds: tuple[int, ...] = (0,)
    cases: tuple[str, ...] = CASES
    inputs: str = "grid"
    ks_samples: int = 100_000
    hist_samples: int = 250_000
    spectrum_units: int = 256

    def __post_init__(self) -> None:
        unknown = [c for c in self.cases if c not in CASES]
        if unknown:
            raise ValueError(f"unknown cases {unknown}; valid: {', '.join(CASES)}")
        if self.inputs not in ("grid", "uniform"):
            raise ValueError(f"unknown inputs {self.inputs!r}; valid: grid, uniform")


PROFILES: dict[str, ActivationsConfig] = {
    "smoke": ActivationsConfig(hidden_features=256, hidden_layers=6, points=2048, seeds=(0,)),
    "cpu": ActivationsConfig(hidden_features=1024, hidden_layers=8, points=8192, seeds=(0, 1, 2)),
    # The Colab's study: one network, width 2048, 10 hidden layers, 16 384 inputs.
    "paper": ActivationsConfig(hidden_features=2048, hidden_layers=10, points=16384, seeds=(0,)),
}


#: the profile's config with its seeds shifted to start at ``seed`` (``config_for(profile, seed)``)
config_for = partial(shared_config_for, PROFILES)


def build_case(case: str, cfg: ActivationsConfig) -> CoordinateMLP:
    """The 1-D SIREN of ``cfg`` initialised as ``case`` (uses the global torch RNG)."""
    bias = "zero" if case in ("siren_zero", "wrong_omega") else "torch"
    model = CoordinateMLP(1, 1, cfg.hidden_features, cfg.hidden_layers,
                          first_omega_0=cfg.omega_0, hidden_omega_0=cfg.omega_0, bias_init=bias)
    if case == "wrong_omega":  # weights scaled for omega_0 = 30, multiplied by 1
        for layer in model.layers[1:]:
            layer.omega_0 = 1.0
    elif case == "torch_default":  # nn.Linear's own U(+-1/sqrt(n)) weights and biases
        for layer in model.layers:
            layer.linear.reset_parameters()
    elif case not in CASES:
        raise ValueError(f"unknown case {case!r}; valid: {', '.join(CASES)}")
    return model


def arcsine_cdf(y: np.ndarray) -> np.ndarray:
    """CDF of the arcsine law on (-1, 1): ``1/2 + arcsin(y) / pi``."""
    return 0.5 + np.arcsin(np.clip(y, -1.0, 1.0)) / np.pi


def ks_distance(sample: np.ndarray, cdf) -> float:
    """Kolmogorov-Smirnov distance ``sup |F_n - F|`` of ``sample`` to the continuous ``cdf``."""
    x = np.sort(np.asarray(sample, dtype=np.float64))
    f, n = cdf(x), x.size
    return float(max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n)))


def predicted_pre_std(case: str, cfg: ActivationsConfig) -> np.ndarray:
    """Pooled pre-activation std per sine layer from the Gaussian recursion (supplement Sec. 1).

    Layer 0: ``z = omega_0 (w x + b)`` with ``w, x ~ U(-1, 1)``; ``E[cos(2 omega_0 w x)] =
    Si(2 omega_0) / (2 omega_0)`` (the product ``w x`` has density ``-ln|u| / 2``). Hidden
    layers: within-neuron variance ``s2 = g m`` with gain ``g = n Var(W) omega^2`` (2 for SIREN,
    2/900 for the wrong scale, 300 for PyTorch's init) and ``m = E[h^2]`` of the layer below;
    each neuron adds a bias ``c ~ U(+-a)``, ``a = omega sqrt(3 Var(b))``, so the pooled variance is
    ``s2 + a^2/3`` and ``E[h^2] = (1 - exp(-2 s2) sinc(2a)) / 2`` for ``z ~ N(c, s2)``.
    """
    n, w0 = cfg.hidden_features, cfg.omega_0
    torch_bias = case in ("siren_torch", "torch_default")

    def sinc(a: float) -> float:  # E[cos 2c] for c ~ U(-a, a)
        return 1.0 if a == 0 else math.sin(2 * a) / (2 * a)

    a0 = w0 if torch_bias else 0.0  # first-layer bias U(+-1/sqrt(1)) times omega_0
    m = 0.5 * (1 - special.sici(2 * w0)[0] / (2 * w0) * sinc(a0))
    out = [math.sqrt(w0**2 / 9 + a0**2 / 3)]
    omega = 1.0 if case == "wrong_omega" else w0
    gain = omega**2 / 3 if case == "torch_default" else 2 * (omega / w0) ** 2
    a = omega / math.sqrt(n) if torch_bias else 0.0
    for _ in range(cfg.hidden_layers):
        s2 = gain * m
        out.append(math.sqrt(s2 + a**2 / 3))
        m = 0.5 * (1 - math.exp(-2 * s2) * sinc(a))
    return np.asarray(out)


def _sample(t: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    """``k`` pooled values of ``t`` drawn uniformly with replacement (all when fewer)."""
    flat = t.reshape(-1)
    if flat.numel() <= k:
        return flat
    idx = torch.randint(flat.numel(), (k,), generator=gen, device="cpu").to(flat.device)
    return flat[idx]


def _density(t: torch.Tensor, lo: float, hi: float, bins: int) -> tuple[np.ndarray, float]:
    """Histogram density over [lo, hi] (normalised by all values) and the fraction outside."""
    counts = torch.histc(t.float(), bins=bins, min=lo, max=hi).double().cpu().numpy()
    return counts / (t.numel() * (hi - lo) / bins), float(1 - counts.sum() / t.numel())


def _stats_of(t: torch.Tensor, cdf, k: int, gen: torch.Generator) -> tuple[float, float, float]:
    """Mean, std and KS distance to ``cdf`` of the pooled values of ``t``."""
    # mean and RMS are plain float32 reductions, ~10x faster than torch.var_mean on CPU
    mean = float(t.mean())
    rms = float(torch.linalg.vector_norm(t)) / math.sqrt(t.numel())
    ks = ks_distance(_sample(t, k, gen).double().cpu().numpy(), cdf)
    return mean, math.sqrt(max(rms**2 - mean**2, 0.0)), ks


@torch.no_grad()
def _study(model: CoordinateMLP, x: torch.Tensor | None, grid: torch.Tensor,
           cfg: ActivationsConfig, gen: torch.Generator) -> dict[str, np.ndarray]:
    """Per-layer statistics on ``x`` (``None``: on ``grid``) and spectra on ``grid``, holding
    one layer's activations at a time (128 MiB each at the paper profile)."""
    names = "pre_mean pre_std pre_ks post_mean post_std post_ks bandwidth pre_hist pre_out"
    out: dict[str, list] = {k: [] for k in (*names.split(), "post_hist", "spec")}
    h, hg = x, grid
    units = torch.randperm(cfg.hidden_features, generator=gen)[: cfg.spectrum_units]
    for layer in model.layers:
        pre = layer.pre_activation(hg)
        hg = torch.sin(pre)
        if h is not None:
            pre = layer.pre_activation(h)
            h = torch.sin(pre)
        post = hg if h is None else h
        for name, t, cdf in (("pre", pre, special.ndtr), ("post", post, arcsine_cdf)):
            mean, std, ks = _stats_of(t, cdf, cfg.ks_samples, gen)
            out[f"{name}_mean"].append(mean)
            out[f"{name}_std"].append(std)
            out[f"{name}_ks"].append(ks)
        k = cfg.hist_samples
        dens, outside = _density(_sample(pre, k, gen), -PRE_RANGE, PRE_RANGE, PRE_BINS)
        out["pre_hist"].append(dens)
        out["pre_out"].append(outside)
        out["post_hist"].append(_density(_sample(post, k, gen), -1, 1, POST_BINS)[0])
        del pre, post
        # Hann window: without it the edges of [-1, 1] leak a 1/omega^2 tail into every layer
        win = torch.hann_window(cfg.points, periodic=False, dtype=hg.dtype, device=hg.device)
        four = torch.view_as_real(torch.fft.rfft(hg[:, units.to(hg.device)] * win[:, None], dim=0))
        power = four.square().sum(-1).mean(dim=1).double().cpu().numpy()
        power = power / max(power[1:].sum(), 1e-300)  # unit power over the non-DC bins
        power[0] = np.nan  # the mean of a unit is not a frequency; left out of plots
        cum = np.cumsum(power[1:])
        out["bandwidth"].append(math.pi * (1 + int(np.searchsorted(cum, BAND))))
        out["spec"].append(power)
    return {k: np.asarray(v) for k, v in out.items()}


def run(cfg: ActivationsConfig, *, progress: bool | None = None,
        device: str | torch.device | None = None) -> xr.Dataset:
    """Initialise every case of ``cfg`` for every seed and measure its activations
    (``progress`` is unused: there is no training loop).

    Returns
    -------
    xarray.Dataset
        ``pre_mean, pre_std, pre_ks, post_mean, post_std, post_ks, bandwidth(case, seed,
        layer)``; per (case, seed) summaries over the hidden layers (``layer >= 1``):
        ``pre_std_min, pre_std_max, pre_logdev_max`` (max ``|ln std|``), ``pre_ks_max``,
        ``pre_std_drift`` (spread of the std over the last three layers), ``post_ks_max`` (all
        layers) and ``bandwidth_growth`` (last / first layer); ``pre_std_theory(case, layer)``;
        first-seed densities ``pre_hist(case, layer, pre_bin)``, ``pre_outside(case, layer)``,
        ``post_hist(case, layer, post_bin)`` and the seed-averaged, unit-power spectrum
        ``spectrum(case, layer, freq)`` with ``freq`` in rad per unit of ``x``.
    """
    dev = torch.device(device) if device is not None else default_device()
    n_layers = cfg.hidden_layers + 1
    grid = torch.linspace(-1.0, 1.0, cfg.points, device=dev).unsqueeze(1)
    per: dict[str, np.ndarray] = {}
    hists = dict(per)
    spec = np.zeros((len(cfg.cases), n_layers, cfg.points // 2 + 1))
    for i, case in enumerate(cfg.cases):
        for j, seed in enumerate(cfg.seeds):
            seed_everything(seed)
            model = build_case(case, cfg).to(dev)
            gen = torch.Generator().manual_seed(10_000 + seed)
            x = (torch.rand(cfg.points, 1, generator=gen) * 2 - 1).to(dev)
            res = _study(model, x if cfg.inputs == "uniform" else None, grid, cfg, gen)
            for key, val in res.items():
                if key in ("pre_hist", "pre_out", "post_hist"):
                    if j == 0:
                        hists.setdefault(key, np.zeros((len(cfg.cases), *val.shape)))[i] = val
                elif key == "spec":
                    spec[i] += val / len(cfg.seeds)
                else:
                    per.setdefault(key, np.zeros((len(cfg.cases), len(cfg.seeds), n_layers)))
                    per[key][i, j] = val
            del model
    csl = ("case", "seed", "layer")
    hidden = per["pre_std"][:, :, 1:]
    units = {"bandwidth": {"units": "rad per unit x", "long_name": f"{BAND:.0%} power bandwidth"}}
    data = {k: (csl, v, units.get(k, {})) for k, v in per.items()}
    data |= {
        "pre_std_min": (("case", "seed"), hidden.min(-1)),
        "pre_std_max": (("case", "seed"), hidden.max(-1)),
        "pre_logdev_max": (("case", "seed"), np.abs(np.log(np.maximum(hidden, 1e-300))).max(-1)),
        "pre_ks_max": (("case", "seed"), per["pre_ks"][:, :, 1:].max(-1)),
        "pre_std_drift": (("case", "seed"), np.ptp(hidden[:, :, -3:], axis=-1)),
        "post_ks_max": (("case", "seed"), per["post_ks"].max(-1)),
        "bandwidth_growth": (("case", "seed"),
                             per["bandwidth"][:, :, -1] / per["bandwidth"][:, :, 0]),
        "pre_std_theory": (("case", "layer"), np.stack([predicted_pre_std(c, cfg)
                                                        for c in cfg.cases])),
        "pre_hist": (("case", "layer", "pre_bin"), hists["pre_hist"]),
        "pre_outside": (("case", "layer"), hists["pre_out"]),
        "post_hist": (("case", "layer", "post_bin"), hists["post_hist"]),
        "spectrum": (("case", "layer", "freq"), spec,
                     {"long_name": "unit-normalised power, mean over units and seeds"}),
    }
    coords = {"case": list(cfg.cases), "seed": list(cfg.seeds), "layer": np.arange(n_layers),
              "pre_bin": np.linspace(-PRE_RANGE, PRE_RANGE, 2 * PRE_BINS + 1)[1::2],
              "post_bin": np.linspace(-1.0, 1.0, 2 * POST_BINS + 1)[1::2],
              "freq": math.pi * np.arange(cfg.points // 2 + 1)}  # rad per unit x on [-1, 1]
    return xr.Dataset(data, coords=coords, attrs={"omega_0": cfg.omega_0})


def run_and_record(cfg: ActivationsConfig, profile: str, *, progress: bool | None = None):
    """:func:`run`, then save the record ``siren/activations`` of ``profile``; returns
    ``(dataset, path)``."""
    return shared_run_and_record(
        run, cfg, paper="siren", experiment="activations", profile=profile, progress=progress,
    )


def plot_histograms(ds: xr.Dataset, kind: str = "pre", layers: list[int] | None = None):
    """Densities of the pre- (``kind="pre"``, vs N(0, 1)) or post-activations (vs arcsine).

    Rows are the initialisations, columns the layers (first seed); every panel of a row shares
    its y-axis. Each panel states the pooled sd and KS distance (mean over seeds).
    """
    last, cases = int(ds["layer"].values[-1]), [str(c) for c in ds["case"].values]
    cols = layers if layers is not None else sorted({0, 1, 2, last // 2, last})
    fig, axes = plt.subplots(len(cases), len(cols), figsize=(1.7 * len(cols) + 0.8,
                             1.45 * len(cases) + 0.6), sharex=True, sharey="row", squeeze=False)
    xs = ds[f"{kind}_bin"].values
    ref_x = np.linspace(-PRE_RANGE, PRE_RANGE, 401) if kind == "pre" else np.linspace(
        -0.995, 0.995, 401)
    ref = (np.exp(-ref_x**2 / 2) / math.sqrt(2 * math.pi) if kind == "pre"
           else arcsine_pdf(torch.from_numpy(ref_x)).numpy())
    for r, case in enumerate(cases):
        for c, layer in enumerate(cols):
            ax, sel = axes[r, c], {"case": case, "layer": layer}
            dens = ds[f"{kind}_hist"].sel(sel).values
            ax.fill_between(xs, dens, step="mid", color=CASE_COLOURS.get(case), alpha=0.6, lw=0)
            ax.plot(ref_x, ref, "k--", lw=0.8)
            text = (f"sd {float(ds[f'{kind}_std'].sel(sel).mean()):.3g}\n"
                    f"KS {float(ds[f'{kind}_ks'].sel(sel).mean()):.3f}")
            if kind == "pre" and float(ds["pre_outside"].sel(sel)) > 0.01:
                text += f"\n{float(ds['pre_outside'].sel(sel)):.0%} outside"
            ax.text(0.02, 0.97, text, transform=ax.transAxes, va="top", fontsize=7)
            if r == 0:
                ax.set_title(f"layer {layer}")
            if r == len(cases) - 1:
                ax.set_xlabel("ω0(Wx+b)" if kind == "pre" else "sin(ω0(Wx+b))")
        wrapped = CASE_LABELS[case].replace(", ", ",\n").replace(" (", "\n(")
        axes[r, 0].set_ylabel(wrapped + "\ndensity", fontsize=7)
    ref_name = "N(0, 1)" if kind == "pre" else "arcsine(−1, 1)"
    fig.suptitle(f"{kind}-activation density (shaded) vs {ref_name} (dashed)")
    return fig


def plot_depth(ds: xr.Dataset):
    """Pre-activation sd (log, and zoomed in linearly), KS distances and 95 % bandwidth against
    depth per initialisation. Markers: mean +- sd over seeds; dashed: :func:`predicted_pre_std`;
    grey band: the [0.8, 1.1] range that our claim check asks of the SIREN pre-activations."""
    fig, axes = plt.subplots(1, 5, figsize=(14.0, 3.0))
    layer = ds["layer"].values
    panels = [("pre_std", "pre-activation sd", True), ("pre_std", "pre sd (zoom)", False),
              ("pre_ks", "KS to N(0, 1), pre", False), ("post_ks", "KS to arcsine, post", False),
              ("bandwidth", "95 % bandwidth (rad per unit x)", True)]
    for ax, (var, name, log) in zip(axes, panels, strict=True):
        for case in ds["case"].values:
            da = ds[var].sel({"case": case})
            ax.errorbar(layer, da.mean("seed"), yerr=da.std("seed") if da.sizes["seed"] > 1
                        else None, marker="o", ms=3, lw=1, color=CASE_COLOURS.get(str(case)),
                        label=CASE_LABELS[str(case)], capsize=2)
            if var == "pre_std":
                ax.plot(layer, ds["pre_std_theory"].sel({"case": case}), "--", lw=0.8,
                        color=CASE_COLOURS.get(str(case)))
        if var == "pre_std":
            ax.axhspan(0.8, 1.1, color="0.85", zorder=0)
        ax.set_yscale("log" if log else "linear")
        ax.set_ylim((0.6, 1.8) if name.endswith("(zoom)") else ax.get_ylim())
        ax.set_xlabel("layer (0 = first sine layer)")
        ax.set_ylabel(name)
    axes[0].legend(loc="lower left", fontsize=6)
    fig.tight_layout()
    return fig


def plot_spectra(ds: xr.Dataset, n_bins: int = 60):
    """Power spectra of every layer's activations (unit power, averaged over units and seeds),
    one panel per initialisation on shared log axes; colour = depth. The power per FFT bin is
    averaged in log-spaced frequency bins for legibility; the dotted line is ``omega_0`` (the
    first layer's largest frequency, 30 rad per unit of ``x``)."""
    freq = ds["freq"].values[1:]
    edges = np.geomspace(freq[0], freq[-1] * 1.0001, n_bins + 1)
    which = np.digitize(freq, edges) - 1
    keep = np.bincount(which, minlength=n_bins) > 0
    centres = np.sqrt(edges[1:] * edges[:-1])[keep]
    cases, layers = [str(c) for c in ds["case"].values], ds["layer"].values
    cmap = plt.get_cmap("viridis")
    fig, axes = plt.subplots(1, len(cases), figsize=(2.9 * len(cases), 2.9), sharey=True,
                             squeeze=False)
    for ax, case in zip(axes[0], cases, strict=True):
        for layer in layers:
            p = ds["spectrum"].sel({"case": case, "layer": layer}).values[1:]
            binned = np.bincount(which, p, n_bins)[keep] / np.bincount(which, None, n_bins)[keep]
            ax.loglog(centres, binned, color=cmap(layer / max(layers[-1], 1)), lw=1)
        ax.axvline(float(ds.attrs.get("omega_0", 30.0)), color="k", ls=":", lw=0.8)
        ax.set_title(CASE_LABELS[case].replace(", ", ",\n"), fontsize=8)
        ax.set_xlabel("ω (rad per unit x)")
    axes[0, 0].set_ylabel("power per Δω = π bin (fraction)")
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, layers[-1]))
    fig.colorbar(sm, ax=axes[0].tolist(), label="layer", shrink=0.9, pad=0.01)
    return fig

