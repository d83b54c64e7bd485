"""Mechanism checks the CBD paper argues but does not measure directly (Fig. 1, 3, 4).

For each dataset and seed, vanilla MTM and CBD are pre-trained with that seed; at chosen epochs
(0 = initialisation) we record, on a fixed batch of TEST series (unmasked encoder input):

* **rank of the interaction matrices** (Fig. 1a): per encoder layer, the head-averaged
  attention map of each series, its effective rank (``exp`` entropy of the normalised singular
  values) and numerical rank, averaged over the batch;
* **interaction matrices over training** (Fig. 3): last-layer map averaged over the batch;

and after pre-training, with one fixed random mask:

* **spectrum energy** (Fig. 1b): mean ``|rfft|^2`` along time of the data and of the
  reconstructions (MTM's temporal decoder, CBD's temporal decoder, CBD's frequency decoder),
  each normalised to sum 1; L1 distance to the data and share of energy above the lowest 25 %
  of bins;
* **SER** (Fig. 4): per CBD block the energy per token-frequency bin before / after SER, the
  mean gain per bin, the range of the normalised energy it sees and the learned Bernstein
  curve ``p_K(w)`` (batch- and channel-averaged coefficients) on ``w in [0, 1]``.

Every variable has a ``seed`` dimension, so the comparator judges the mechanism claims against
seed noise (one seed - the `cpu` budget - can only read *inconclusive*).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import torch
import xarray as xr

from freqbook.experiments.cbd import common
from freqbook.experiments.cbd.training import OptimConfig, attention_maps, pretrain, reconstructions
from freqbook.metrics import effective_rank, numerical_rank
from freqbook.models.cbd import CBDModel, LossWeights, ModelConfig, variant
from freqbook.nn.cbd_blocks import bernstein_basis
from freqbook.profiles import config_for as _config_for
from freqbook.train import default_device, seed_everything

METHODS = ("mtm", "cbd")
SOURCES = ("data", "mtm_td", "cbd_td", "cbd_fd")
W_GRID = np.linspace(0.0, 1.0, 101)


@dataclass(frozen=True)
class MechanismConfig:
    """Settings of the mechanism experiment (one instance per profile, see :data:`PROFILES`)."""

    datasets: tuple[str, ...] = ("ECG5000", "ArticularyWordRecognition", "FingerMovements")
    seeds: tuple[int, ...] = (0, 1, 2)
    snapshots: tuple[int, ...] = (0, 20, 50, 80, 100)
    eval_size: int = 256
    model: ModelConfig = common.PAPER_MODEL
    loss: LossWeights = common.DEFAULT_LOSS
    optim: OptimConfig = common.PAPER_OPTIM
    normalize: str = "channel"

    def __post_init__(self) -> None:
        common.check_datasets(self.datasets)
        if any(s < 0 or s > self.optim.epochs for s in self.snapshots):
            raise ValueError(f"snapshots {self.snapshots} outside 0..{self.optim.epochs}")
        if not self.seeds:
            raise ValueError("at least one seed is needed")


PROFILES: dict[str, MechanismConfig] = {
    "smoke": MechanismConfig(datasets=("BasicMotions",), seeds=(0,), snapshots=(0, 2, 4),
                             eval_size=32, model=common.SMOKE_MODEL,
                             optim=replace(common.SMOKE_OPTIM, epochs=4)),
    # one seed: three would triple the page's ~100 s; the claims then read inconclusive
    "cpu": MechanismConfig(datasets=("ECG5000", "ArticularyWordRecognition"), seeds=(0,),
                           snapshots=(0, 10, 20, 30), model=common.CPU_MODEL,
                           optim=replace(common.CPU_OPTIM, epochs=30)),
    "paper": MechanismConfig(),
}

#: ``config_for(profile, seed=0)``: the profile's config, seeds shifted to start at ``seed``
config_for = partial(_config_for, PROFILES)


def _ranks(model: CBDModel, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    maps = attention_maps(model, X)  # per layer (n, T, T)
    eff = np.array([np.mean([effective_rank(a) for a in m]) for m in maps])
    num = np.array([np.mean([numerical_rank(a) for a in m]) for m in maps])
    return eff, num, maps[-1].mean(0)


def _spectrum(x: np.ndarray) -> np.ndarray:
    power = (np.abs(np.fft.rfft(x, axis=-1)) ** 2).mean(axis=(0, 1))
    return power / power.sum()


@torch.no_grad()
def _ser_stats(model: CBDModel, X: np.ndarray) -> list[dict[str, np.ndarray]]:
    model.eval()
    model(torch.from_numpy(X), generator=torch.Generator().manual_seed(0))
    out = []
    for block in model.cbd or []:
        ser = block.ser
        if ser is None:
            continue
        a, gain, zin = ser.last_energy, ser.last_gain, ser.last_input
        coef = ser.coefficients(a).mean(dim=(0, 1)).double()  # (K+1,)
        curve = (bernstein_basis(torch.from_numpy(W_GRID), ser.order) * coef).sum(-1)
        e_in = (zin.abs() ** 2).mean(dim=(0, 2))
        e_out = ((gain * zin).abs() ** 2).mean(dim=(0, 2))
        out.append({"curve": curve.numpy(), "gain": gain.mean(dim=(0, 2)).numpy(),
                    "e_in": e_in.numpy(), "e_out": e_out.numpy(),
                    "w_range": np.quantile(a.numpy(), [0.0, 0.5, 1.0])})
    return out


def run(cfg: MechanismConfig, *, progress: bool | None = None) -> xr.Dataset:
    """Train MTM and CBD per dataset and seed and measure; returns the record (module docstring).

    Every variable but ``n_tokens`` has the dimensions ``(dataset, seed, ...)``.
    """
    device = default_device()
    nd, ns, nm, nsnap = len(cfg.datasets), len(cfg.seeds), len(METHODS), len(cfg.snapshots)
    layers, blocks = cfg.model.enc_layers, cfg.model.cbd_layers
    preps = [common.prepare(n, cfg.normalize) for n in cfg.datasets]
    t_max = max(CBDModel(p.n_channels, p.length, cfg.model).n_tokens for p in preps)
    f_max = max(p.length // 2 + 1 for p in preps)
    s_max = t_max // 2 + 1
    eff, num = (np.full((nd, ns, nm, nsnap, layers), np.nan) for _ in range(2))
    inter = np.full((nd, ns, nm, nsnap, t_max, t_max), np.nan)
    spec = np.full((nd, ns, len(SOURCES), f_max), np.nan)
    curve = np.full((nd, ns, blocks, W_GRID.size), np.nan)
    gain, e_in, e_out = (np.full((nd, ns, blocks, s_max), np.nan) for _ in range(3))
    w_range = np.full((nd, ns, blocks, 3), np.nan)
    for d, data in enumerate(preps):
        X_eval = data.X_test[: cfg.eval_size]
        t = CBDModel(data.n_channels, data.length, cfg.model).n_tokens
        n_f = data.length // 2 + 1
        for r, seed in enumerate(cfg.seeds):
            spec[d, r, 0, :n_f] = _spectrum(X_eval)
            for m, method in enumerate(METHODS):
                seed_everything(seed)
                m_cfg, w = variant(method, cfg.model, cfg.loss)
                model = CBDModel(data.n_channels, data.length, m_cfg).to(device)

                def snap(epoch, model, d=d, r=r, m=m, X_eval=X_eval, t=t):
                    i = cfg.snapshots.index(epoch)
                    eff[d, r, m, i], num[d, r, m, i], inter[d, r, m, i, :t, :t] = _ranks(
                        model, X_eval)

                if 0 in cfg.snapshots:
                    snap(0, model)
                pretrain(model, data.X_train, w, cfg.optim, seed,
                         desc=f"{data.name} {method} s{seed}", progress=progress,
                         snapshot_epochs=cfg.snapshots, snapshot=snap)
                rec = reconstructions(model, X_eval, seed)
                if method == "mtm":
                    spec[d, r, 1, :n_f] = _spectrum(rec["x_t"])
                    continue
                spec[d, r, 2, :n_f], spec[d, r, 3, :n_f] = (_spectrum(rec["x_t"]),
                                                            _spectrum(rec["x_f"]))
                for b, st in enumerate(_ser_stats(model, X_eval)):
                    k = st["gain"].size
                    curve[d, r, b], w_range[d, r, b] = st["curve"], st["w_range"]
                    gain[d, r, b, :k], e_in[d, r, b, :k], e_out[d, r, b, :k] = (
                        st["gain"], st["e_in"], st["e_out"])
    n_f = np.array([p.length // 2 + 1 for p in preps])
    low = [max(1, int(np.ceil(0.25 * k))) for k in n_f]
    l1 = np.nansum(np.abs(spec - spec[:, :, :1]), -1) / 2.0  # total-variation distance to data
    high = np.stack([np.nansum(spec[d, :, :, low[d]:], -1) for d in range(nd)])
    ds_, dsm = ("dataset", "seed"), ("dataset", "seed", "method")
    return xr.Dataset(
        {
            "eff_rank": ((*dsm, "snapshot", "layer"), eff,
                         {"long_name": "effective rank of head-averaged attention"}),
            "num_rank": ((*dsm, "snapshot", "layer"), num,
                         {"long_name": "numerical rank (torch default tolerance)"}),
            "eff_rank_last": (dsm, eff[:, :, :, -1, -1]),
            "rank_drop": (dsm, eff[:, :, :, -1, 0] - eff[:, :, :, -1, -1],
                          {"long_name": "effective rank, first minus last encoder layer"}),
            "interaction": ((*dsm, "snapshot", "query", "key"), inter),
            "spectrum": ((*ds_, "source", "freq"), spec,
                         {"long_name": "normalised mean |rfft|^2 along time"}),
            "spectrum_l1": ((*ds_, "source"), l1,
                            {"long_name": "total-variation distance to the data spectrum"}),
            "high_share": ((*ds_, "source"), high,
                           {"long_name": "energy share above the lowest 25 % of bins"}),
            "ser_curve": ((*ds_, "block", "w"), curve, {"long_name": "learned p_K(w)"}),
            "ser_gain": ((*ds_, "block", "token_freq"), gain),
            "ser_energy_in": ((*ds_, "block", "token_freq"), e_in),
            "ser_energy_out": ((*ds_, "block", "token_freq"), e_out),
            "ser_w_range": ((*ds_, "block", "stat"), w_range),
            "ser_max_dev": (ds_, np.nanmax(np.abs(curve - 1.0), axis=(2, 3)),
                            {"long_name": "max |p_K(w) - 1| over w and blocks"}),
            "n_tokens": (("dataset",), [CBDModel(p.n_channels, p.length, cfg.model).n_tokens
                                        for p in preps]),
        },
        coords={"dataset": list(cfg.datasets), "seed": list(cfg.seeds), "method": list(METHODS),
                "snapshot": list(cfg.snapshots), "layer": np.arange(1, layers + 1),
                "query": np.arange(t_max), "key": np.arange(t_max), "source": list(SOURCES),
                "freq": np.arange(f_max), "block": np.arange(1, blocks + 1), "w": W_GRID,
                "token_freq": np.arange(s_max), "stat": ["min", "median", "max"]},
    )


def run_and_record(cfg: MechanismConfig, profile: str, *, progress: bool | None = None):
    """:func:`run` and save the record ``cbd/mechanisms``; returns ``(ds, path)``."""
    return common.record(run, cfg, profile, "mechanisms", cfg.datasets, progress=progress)
