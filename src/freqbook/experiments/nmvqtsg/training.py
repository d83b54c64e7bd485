"""Training of the three NM-VQTSG stages and of the FCN that scores IS, with cached checkpoints.

Spec ``papers/nmvqtsg.md``: stage 1 (section 2.1), stage 2 (2.2), the SVQ temperature search
and the mapper (2.4), the FCN (2.7). Every stage uses AdamW with a linear warm-up over
``warmup`` of the steps and cosine annealing to ``min_lr`` (stages 1-3: lr 5e-3 -> 5e-4), batch
32, plain per-step schedule (the code's double scheduler step is not copied, spec 3.3.3). Frozen
stages are kept in eval mode (BatchNorm statistics frozen, spec pitfall 7.10).

Checkpoints (:mod:`.cache`) are keyed by the training settings, the seed and this module's code,
so the τ-search, main and failure-mode pages train each stage once and reuse it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from freqbook.experiments.nmvqtsg.cache import cached
from freqbook.experiments.nmvqtsg.config import NMConfig
from freqbook.experiments.nmvqtsg.data import Resplit
from freqbook.models.fcn import FCN, PAPER_BLOCKS, WANG_BLOCKS
from freqbook.models.mapper import MapperConfig, UNet1D
from freqbook.models.maskgit import MaskGIT, PriorConfig
from freqbook.models.timevqvae import Stage1Config, TimeVQVAE
from freqbook.train import fit, seed_everything

_CODE = ("freqbook.experiments.nmvqtsg.training",)


def lr_at(step: int, total: int, lr: float, min_lr: float, warmup: float) -> float:
    """Linear warm-up over ``warmup * total`` steps, then cosine from ``lr`` to ``min_lr``."""
    n_warm = max(1, int(round(warmup * total)))
    if step < n_warm:
        return lr * (step + 1) / n_warm
    t = (step - n_warm) / max(1, total - n_warm)
    return min_lr + 0.5 * (lr - min_lr) * (1.0 + math.cos(math.pi * min(t, 1.0)))


def _adamw_fit(params, step_fn, steps: int, cfg: NMConfig, desc: str, progress: bool | None,
               lr: float | None = None, min_lr: float | None = None):
    """:func:`freqbook.train.fit` with AdamW and the warm-up + cosine schedule."""
    params = [p for p in params if p.requires_grad]
    peak = cfg.lr if lr is None else lr
    floor = cfg.min_lr if min_lr is None else min_lr
    opt = torch.optim.AdamW(params, lr=peak)
    counter = {"step": 0}

    def scheduled():
        for g in opt.param_groups:
            g["lr"] = lr_at(counter["step"], steps, peak, floor, cfg.warmup)
        counter["step"] += 1
        return step_fn()

    return fit(params, scheduled, steps, peak, desc=desc, progress=progress, optimizer=opt)


class Batches:
    """Random mini-batches (with replacement across epochs) from a seeded generator."""

    def __init__(self, n: int, batch: int, generator: torch.Generator) -> None:
        self.n, self.batch, self.g = n, min(batch, n), generator
        self._order = torch.randperm(n, generator=generator)
        self._pos = 0

    def __call__(self) -> torch.Tensor:
        """Indices of the next batch (reshuffled after each epoch)."""
        if self._pos + self.batch > self.n:
            self._order = torch.randperm(self.n, generator=self.g)
            self._pos = 0
        idx = self._order[self._pos:self._pos + self.batch]
        self._pos += self.batch
        return idx


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float32))


@dataclass
class Generator:
    """Trained stages 1-2 of one training seed (``prior_under``: the early stage-2 snapshot)."""

    stage1: TimeVQVAE
    prior: MaskGIT
    prior_under: MaskGIT
    history: dict[str, list[float]]
    hit: bool


def build_stage1(data: Resplit) -> TimeVQVAE:
    """Stage-1 model with the paper's sizes for ``data``'s length and channels."""
    return TimeVQVAE(Stage1Config(in_channels=data.n_channels, length=data.length))


def build_prior(stage1: TimeVQVAE, n_classes: int) -> MaskGIT:
    """Stage-2 priors with the paper's sizes over ``stage1``'s token grids."""
    return MaskGIT(PriorConfig(n_classes=n_classes), stage1.lf.n_tokens, stage1.hf.n_tokens)


def train_generator(data: Resplit, cfg: NMConfig, seed: int,
                    progress: bool | None = None) -> Generator:
    """Stages 1 and 2 for ``seed`` (cached): tokenizer, then priors on its frozen tokens."""
    settings = {**cfg.training(), "seed": seed, "stage": "1-2"}

    def build() -> dict:
        g = seed_everything(seed)
        X, y = _tensor(data.X_train), torch.as_tensor(data.y_train)
        stage1 = build_stage1(data)
        batches = Batches(len(X), cfg.batch_size, g)

        def step1():
            out = stage1(X[batches()])
            return out["loss"], {k: float(v) for k, v in out.items() if k != "loss"}

        stage1.train()
        h1 = _adamw_fit(stage1.parameters(), step1, cfg.stage1_steps, cfg, "stage 1", progress)
        stage1.eval()
        with torch.no_grad():
            s_l, s_h = zip(*[stage1.tokens(X[i:i + 256]) for i in range(0, len(X), 256)],
                           strict=True)
        s_l, s_h = torch.cat(s_l), torch.cat(s_h)
        prior = build_prior(stage1, data.n_classes)
        prior.train()
        under: dict[str, torch.Tensor] = {}

        def step2():
            if len(under) == 0 and len(h2_loss) == cfg.undertrained_steps:
                under.update({k: v.detach().clone() for k, v in prior.state_dict().items()})
            idx = batches()
            out = prior.loss(s_l[idx], s_h[idx], y[idx], g)
            h2_loss.append(0)
            return out["loss"], {"ce_lf": float(out["ce_lf"]), "ce_hf": float(out["ce_hf"])}

        h2_loss: list[int] = []
        h2 = _adamw_fit(prior.parameters(), step2, cfg.stage2_steps, cfg, "stage 2", progress)
        if not under:
            under.update({k: v.detach().clone() for k, v in prior.state_dict().items()})
        return {"stage1": stage1.state_dict(), "prior": prior.state_dict(), "prior_under": under,
                "history": {"stage1_loss": h1.loss, "stage2_loss": h2.loss,
                            "recon_l": h1.metrics.get("recon_l", []),
                            "recon_h": h1.metrics.get("recon_h", [])}}

    ckpt, hit = cached("generator", settings, _CODE, build)
    stage1 = build_stage1(data)
    stage1.load_state_dict(ckpt["stage1"])
    prior, prior_under = (build_prior(stage1, data.n_classes) for _ in range(2))
    prior.load_state_dict(ckpt["prior"])
    prior_under.load_state_dict(ckpt["prior_under"])
    for m in (stage1, prior, prior_under):
        m.eval().requires_grad_(False)
    return Generator(stage1, prior, prior_under, ckpt["history"], hit)


# ------------------------------------------------------------------------------ stage 3
@torch.no_grad()
def svq_reconstruct(stage1: TimeVQVAE, X: torch.Tensor, tau: float | None,
                    generator: torch.Generator | None = None, batch: int = 256) -> torch.Tensor:
    """``X̃'_τ = D_l(SVQ_τ(E_l(X))) + D_h(SVQ_τ(E_h(X)))`` on the frozen stage 1 (eval mode)."""
    stage1.eval()
    return torch.cat([stage1.reconstruct(X[i:i + batch], tau, generator)
                      for i in range(0, len(X), batch)])


@torch.no_grad()
def token_change(stage1: TimeVQVAE, X: torch.Tensor, tau: float,
                 generator: torch.Generator | None = None) -> float:
    """Fraction of tokens (LF and HF together) that SVQ at ``tau`` changes vs argmin."""
    d_l, d_h = stage1.tokens(X)
    s_l, s_h = stage1.tokens(X, tau, generator)
    changed = (d_l != s_l).sum() + (d_h != s_h).sum()
    return float(changed) / float(d_l.numel() + d_h.numel())


@dataclass
class Mapper:
    """A trained neural mapper and its L1 history (``identity_l1``: ``L1(x̃', x)`` per step)."""

    net: UNet1D
    tau: float
    history: dict[str, list[float]]
    hit: bool

    @torch.no_grad()
    def __call__(self, X: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """``NM(X)`` in eval mode (dropout off)."""
        self.net.eval()
        return torch.cat([self.net(X[i:i + batch]) for i in range(0, len(X), batch)])


def train_mapper(data: Resplit, gen: Generator, tau: float, cfg: NMConfig, seed: int,
                 progress: bool | None = None) -> Mapper:
    """Stage 3 (cached): L1 between ``NM(SVQ_τ reconstruction of x)`` and ``x``, fresh SVQ noise."""
    settings = {**cfg.training(), "seed": seed, "stage": "3", "tau": float(tau),
                "mapper": asdict(MapperConfig(in_channels=data.n_channels))}

    def build() -> dict:
        g = seed_everything(seed + 10_000)
        X = _tensor(data.X_train)
        net = UNet1D(MapperConfig(in_channels=data.n_channels))
        net.train()
        batches = Batches(len(X), cfg.batch_size, g)

        def step():
            x = X[batches()]
            x_p = svq_reconstruct(gen.stage1, x, tau, g)
            ident = float(F.l1_loss(x_p, x))
            return F.l1_loss(net(x_p), x), {"identity_l1": ident}

        hist = _adamw_fit(net.parameters(), step, cfg.mapper_steps, cfg, "mapper", progress)
        return {"net": net.state_dict(), "tau": float(tau),
                "history": {"loss": hist.loss,
                            "identity_l1": hist.metrics.get("identity_l1", [])}}

    ckpt, hit = cached("mapper", settings, _CODE, build)
    net = UNet1D(MapperConfig(in_channels=data.n_channels))
    net.load_state_dict(ckpt["net"])
    net.eval().requires_grad_(False)
    return Mapper(net, float(ckpt["tau"]), ckpt["history"], hit)


# ------------------------------------------------------------------------------ FCN for IS
@dataclass
class Classifier:
    """The FCN that scores IS, with its test accuracy (%) and the majority-class rate."""

    net: FCN
    test_accuracy: float
    chance: float
    hit: bool

    @torch.no_grad()
    def probs(self, X: torch.Tensor, batch: int = 256) -> np.ndarray:
        """Class probabilities ``(n, K)`` of series ``X``."""
        self.net.eval()
        return torch.cat([self.net(X[i:i + batch]).softmax(-1)
                          for i in range(0, len(X), batch)]).numpy()


def train_fcn(data: Resplit, cfg: NMConfig, progress: bool | None = None) -> Classifier:
    """FCN on the book's re-split train set (cached; batch 128, AdamW 1e-3, cosine to 1e-6)."""
    blocks = PAPER_BLOCKS if cfg.fcn_blocks == 6 else WANG_BLOCKS
    dropout = 0.5 if cfg.fcn_blocks == 6 else 0.0
    settings = {"dataset": cfg.dataset, "steps": cfg.fcn_steps, "blocks": cfg.fcn_blocks,
                "seed": cfg.fcn_seed}

    def build() -> dict:
        g = seed_everything(cfg.fcn_seed)
        X, y = _tensor(data.X_train), torch.as_tensor(data.y_train)
        net = FCN(data.n_channels, data.n_classes, blocks, dropout)
        net.train()
        batches = Batches(len(X), 128, g)

        def step():
            idx = batches()
            return F.cross_entropy(net(X[idx]), y[idx]), {}

        _adamw_fit(net.parameters(), step, cfg.fcn_steps, cfg, "FCN (IS)", progress,
                   lr=1e-3, min_lr=1e-6)
        net.eval()
        with torch.no_grad():
            Xt = _tensor(data.X_test)
            pred = torch.cat([net(Xt[i:i + 256]).argmax(-1) for i in range(0, len(Xt), 256)])
        acc = 100.0 * float((pred.numpy() == data.y_test).mean())
        return {"net": net.state_dict(), "test_accuracy": acc}

    ckpt, hit = cached("fcn", settings, _CODE, build)
    net = FCN(data.n_channels, data.n_classes, blocks, dropout)
    net.load_state_dict(ckpt["net"])
    net.eval().requires_grad_(False)
    major = np.bincount(data.y_train).argmax()
    chance = 100.0 * float(np.mean(data.y_test == major))
    return Classifier(net, float(ckpt["test_accuracy"]), chance, hit)
