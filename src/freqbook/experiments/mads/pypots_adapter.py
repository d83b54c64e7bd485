"""Deep imputation baselines from PyPOTS behind one adapter (SAITS, BRITS, Transformer).

PyPOTS is an optional extra (``pip install "freqbook[mads]"`` or ``pip install pypots``); every
entry point raises a one-line :class:`PyPOTSMissing` saying so when it is absent. The models see
the windows as ``T`` equally spaced steps (never the time stamps; spec section 7 item 15) and the
same NaN-masked input every other method gets (item 14); their own internal masking for the
training objective is part of those methods.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np

DEEP = ("saits", "brits", "transformer")
INSTALL = 'pip install "freqbook[mads]"  (or: pip install "pypots>=1.0")'


class PyPOTSMissing(ImportError):
    """PyPOTS is not installed."""


def available() -> bool:
    """Whether PyPOTS can be imported."""
    try:
        _import()
    except PyPOTSMissing:
        return False
    return True


class _Sink(io.StringIO):
    """A text sink with an encoding (ai4ts, imported by PyPOTS, reads ``sys.stdout.encoding``)."""

    encoding = "utf-8"


def _import():
    try:
        with contextlib.redirect_stdout(_Sink()), contextlib.redirect_stderr(_Sink()):
            import pypots.imputation as imp  # noqa: PLC0415 - optional dependency
    except ImportError as err:
        raise PyPOTSMissing(f"the deep baselines need PyPOTS, which is not installed: {INSTALL}"
                            ) from err
    return imp


@dataclass(frozen=True)
class DeepConfig:
    """Sizes and budget of the PyPOTS models (SAITS-paper sizes are larger; ours are CPU-sized).

    Attributes
    ----------
    d_model, n_layers, n_heads, d_ffn
        SAITS / Transformer sizes (``d_k = d_v = d_model // n_heads``).
    rnn_hidden
        BRITS hidden size.
    epochs, batch
        Training budget (no validation set, no early stopping).
    lr
        Adam learning rate (PyPOTS default 1e-3).
    """

    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    d_ffn: int = 128
    rnn_hidden: int = 64
    epochs: int = 50
    batch: int = 32
    lr: float = 1e-3


def build(name: str, n_steps: int, n_features: int, cfg: DeepConfig, device: str = "cpu"):
    """The PyPOTS model ``name`` (``saits``, ``brits`` or ``transformer``), untrained."""
    imp = _import()
    from pypots.optim import Adam  # noqa: PLC0415

    common = dict(batch_size=cfg.batch, epochs=cfg.epochs, optimizer=Adam(lr=cfg.lr),
                  device=device, saving_path=None, model_saving_strategy=None, verbose=False)
    dk = max(cfg.d_model // cfg.n_heads, 1)
    if name == "saits":
        return imp.SAITS(n_steps, n_features, n_layers=cfg.n_layers, d_model=cfg.d_model,
                         n_heads=cfg.n_heads, d_k=dk, d_v=dk, d_ffn=cfg.d_ffn, **common)
    if name == "transformer":
        return imp.Transformer(n_steps, n_features, n_layers=cfg.n_layers, d_model=cfg.d_model,
                               n_heads=cfg.n_heads, d_k=dk, d_v=dk, d_ffn=cfg.d_ffn, **common)
    if name == "brits":
        return imp.BRITS(n_steps, n_features, rnn_hidden_size=cfg.rnn_hidden, **common)
    raise ValueError(f"unknown deep baseline {name!r}; valid: {', '.join(DEEP)}")


def fit_impute(name: str, x_train: np.ndarray, x_test: np.ndarray, cfg: DeepConfig, *,
               seed: int = 0, device: str = "cpu") -> np.ndarray:
    """Train ``name`` on ``x_train (N, T, D)`` (NaN = unseen) and impute ``x_test``.

    Returns the completed ``x_test`` as float64 (observed entries are PyPOTS's own output
    there, i.e. the input values).
    """
    import torch

    _, t, d = x_train.shape
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - PyPOTS draws its masks from the global state
    model = build(name, t, d, cfg, device=device)
    with contextlib.redirect_stdout(_Sink()):
        model.fit({"X": x_train.astype(np.float32)})
        out = model.predict({"X": x_test.astype(np.float32)})["imputation"]
    out = np.asarray(out, dtype=np.float64)
    if out.ndim == 4:  # sampling models: (N, samples, T, D)
        out = out.mean(axis=1)
    return out
