"""Classification metrics and matrix-rank measures used by the CBD chapter.

* :func:`accuracy`, :func:`macro_f1` - in percent, as the paper's tables (Table 1, Table 3).
* :func:`effective_rank` - ``exp`` of the Shannon entropy of the normalised singular values
  (Roy & Vetterli 2007); :func:`numerical_rank` - ``torch.linalg.matrix_rank`` with its default
  tolerance. The paper's Fig. 1a says "rank" without a definition (spec section 2.6).
"""

from __future__ import annotations

import numpy as np
import torch


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of correct predictions, in percent."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"need equal, non-empty label arrays, got {y_true.shape}, {y_pred.shape}")
    return float(100.0 * np.mean(y_true == y_pred))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unweighted mean of the per-class F1 over the classes present in ``y_true``, in percent."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    scores = []
    for c in np.unique(y_true):
        tp = np.sum((y_pred == c) & (y_true == c))
        fp = np.sum((y_pred == c) & (y_true != c))
        fn = np.sum((y_pred != c) & (y_true == c))
        scores.append(0.0 if tp == 0 else 2.0 * tp / (2.0 * tp + fp + fn))
    return float(100.0 * np.mean(scores))


def effective_rank(matrix: torch.Tensor | np.ndarray) -> float:
    """``exp(H(s / sum s))`` of the singular values ``s``: 1 for rank one, ``n`` for a
    multiple of an orthogonal ``n x n`` matrix."""
    s = torch.linalg.svdvals(torch.as_tensor(matrix, dtype=torch.float64))
    if float(s.sum()) == 0.0:
        return 0.0
    p = s / s.sum()
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def numerical_rank(matrix: torch.Tensor | np.ndarray) -> int:
    """``torch.linalg.matrix_rank`` with its default tolerance."""
    return int(torch.linalg.matrix_rank(torch.as_tensor(matrix, dtype=torch.float64)))
