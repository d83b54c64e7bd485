"""MiniRocket (Dempster, Schmidt & Webb, KDD 2021), re-implemented in torch + NumPy.

The non-deep anchor of the CBD chapter. ``aeon`` (the reference implementation the issue
suggests) would downgrade this environment's NumPy and pandas, so the method is written out
here from its paper:

* 84 kernels of length 9 with weights -1 everywhere and 2 at three of the nine positions;
* dilations ``floor(2^e)`` for ``e`` evenly spaced in ``[0, log2((L-1)/8)]`` (at most 32, unique),
  the ~10 000 features shared out over them;
* padding on for every other (kernel, dilation) pair; multivariate series: each pair sums the
  convolution over a random subset of channels (size ``floor(2^u)``, ``u ~ U(0, log2(min(C, 9)
  + 1))``);
* biases: quantiles (low-discrepancy sequence ``(i * phi) mod 1``) of the convolution output of
  one random training series;
* features: proportion of positive values (PPV) of ``output - bias``;
* classifier: standardised features (no centring, as the reference pipeline) and a ridge
  classifier whose penalty is chosen from ``logspace(-3, 3, 10)`` by exact leave-one-out error
  (what ``RidgeClassifierCV`` does).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
import torch.nn.functional as F

KERNEL_LENGTH = 9
INDICES = np.array(list(itertools.combinations(range(KERNEL_LENGTH), 3)))  # (84, 3)
PHI = (1.0 + math.sqrt(5.0)) / 2.0


def _kernels() -> torch.Tensor:
    w = -torch.ones(len(INDICES), KERNEL_LENGTH)
    for k, idx in enumerate(INDICES):
        w[k, idx] = 2.0
    return w


def _dilations(length: int, features_per_kernel: int, max_dilations: int = 32):
    n = min(features_per_kernel, max_dilations)
    top = math.log2(max(length - 1, 1) / (KERNEL_LENGTH - 1))
    dil, counts = np.unique(np.floor(np.logspace(0, max(top, 0.0), n, base=2)).astype(int),
                            return_counts=True)
    per = counts * (features_per_kernel // n)
    per[: features_per_kernel % n] += 1 if features_per_kernel % n else 0
    return dil, per


class MiniRocket:
    """Fit the transform's biases on training data, then :meth:`transform` to PPV features."""

    def __init__(self, num_features: int = 10_000, seed: int = 0) -> None:
        self.num_features, self.seed = int(num_features), int(seed)

    def _conv(self, X: torch.Tensor, d: int, pad: bool, channels: list[np.ndarray]
              ) -> torch.Tensor:
        """``(n, 84, L')`` outputs: each kernel summed over its channel subset."""
        n, c, _ = X.shape
        w = _kernels().to(X.dtype).unsqueeze(1).repeat(c, 1, 1)  # (c*84, 1, 9)
        out = F.conv1d(X, w, dilation=d, padding=(4 * d if pad else 0), groups=c)
        out = out.view(n, c, len(INDICES), -1)
        sel = torch.zeros(c, len(INDICES), dtype=X.dtype)
        for k, ch in enumerate(channels):
            sel[ch, k] = 1.0
        return torch.einsum("nckl,ck->nkl", out, sel)

    def fit(self, X: np.ndarray) -> MiniRocket:
        """Draw channel subsets and biases from ``X (n, C, L)``."""
        rng = np.random.default_rng(self.seed)
        n, c, length = X.shape
        per_kernel = max(self.num_features // len(INDICES), 1)
        self.dilations, self.per_dilation = _dilations(length, per_kernel)
        self.plan = []  # (dilation, index, channel subsets, biases (84, f))
        quant_i = 1
        for j, (d, f) in enumerate(zip(self.dilations, self.per_dilation, strict=True)):
            subsets = []
            for _ in range(len(INDICES)):
                size = int(2 ** rng.uniform(0, math.log2(min(c, KERNEL_LENGTH) + 1)))
                subsets.append(rng.choice(c, size=max(1, min(size, c)), replace=False))
            example = torch.from_numpy(X[rng.integers(n)][None].astype(np.float32))
            out = self._conv(example, int(d), True, subsets)[0].numpy()  # (84, L)
            q = ((np.arange(quant_i, quant_i + len(INDICES) * f) * PHI) % 1.0).reshape(-1, f)
            quant_i += len(INDICES) * f
            biases = np.stack([np.quantile(out[k], q[k]) for k in range(len(INDICES))])
            self.plan.append((int(d), j, subsets, biases.astype(np.float32)))
        return self

    @torch.no_grad()
    def transform(self, X: np.ndarray, batch: int = 64) -> np.ndarray:
        """PPV features ``(n, ~num_features)``."""
        feats = []
        for i in range(0, X.shape[0], batch):
            x = torch.from_numpy(X[i : i + batch].astype(np.float32))
            parts = []
            for j, (d, _, subsets, biases) in enumerate(self.plan):
                out = self._conv(x, d, True, subsets)  # "same" output, (n, 84, L)
                valid = out[..., 4 * d : out.shape[-1] - 4 * d]
                b = torch.from_numpy(biases)  # (84, f)
                for k in range(len(INDICES)):
                    # padding on for every other (dilation, kernel) pair; off = the valid part
                    o = out[:, k] if (j + k) % 2 == 0 or valid.shape[-1] == 0 else valid[:, k]
                    parts.append((o.unsqueeze(-1) > b[k]).float().mean(1))
            feats.append(torch.cat(parts, 1).numpy())
        return np.concatenate(feats).astype(np.float64)


def ridge_loo_fit(X: np.ndarray, y: np.ndarray, alphas=None):
    """Ridge classifier (one-vs-rest targets +-1, intercept) with the penalty chosen by exact
    leave-one-out squared error; returns ``(predict, alpha)``."""
    alphas = np.logspace(-3, 3, 10) if alphas is None else np.asarray(alphas)
    classes = np.unique(y)
    Y = np.where(y[:, None] == classes[None], 1.0, -1.0)
    xm, ym = X.mean(0), Y.mean(0)
    Xc, Yc = X - xm, Y - ym
    gram = Xc @ Xc.T
    lam, Q = np.linalg.eigh(gram)
    lam = np.clip(lam, 0.0, None)
    QtY = Q.T @ Yc
    best = (np.inf, None, None)
    for a in alphas:
        shrink = lam / (lam + a)
        fitted = Q @ (shrink[:, None] * QtY)
        h = np.einsum("ij,j,ij->i", Q, shrink, Q) + 1.0 / X.shape[0]  # with the intercept
        loo = (Yc - fitted) / (1.0 - h)[:, None]
        err = float(np.sum(loo**2))
        if err < best[0]:
            best = (err, a, Q @ (QtY / (lam + a)[:, None]))
    _, alpha, dual = best
    W = Xc.T @ dual

    def predict(Z: np.ndarray) -> np.ndarray:
        return classes[np.argmax((Z - xm) @ W + ym, axis=1)]

    return predict, float(alpha)


def minirocket_accuracy(X_tr: np.ndarray, y_tr: np.ndarray, X_te: np.ndarray,
                        y_te: np.ndarray, seed: int, num_features: int = 10_000) -> float:
    """Test accuracy (%) of MiniRocket + ridge on one split."""
    from freqbook.metrics import accuracy

    rocket = MiniRocket(num_features, seed).fit(X_tr)
    f_tr, f_te = rocket.transform(X_tr), rocket.transform(X_te)
    scale = f_tr.std(0)
    scale = np.where(scale > 0, scale, 1.0)
    predict, _ = ridge_loo_fit(f_tr / scale, y_tr)
    return accuracy(y_te, predict(f_te / scale))
