"""Tables of the WINNER pages, laid out for the book's ~700 px column.

One column per method (short names, no internal variable names), numbers formatted for people
(``41.23 ± 0.31``, ``44 100 Hz``), and the paper's values - only a few are known, all of them
third-party summaries - as a note under the table instead of a column per method that mostly reads
"paper value not available" (issue 10).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

#: column headers: short and readable (LABELS of :mod:`.common` are for legends)
SHORT = {"siren": "SIREN", "winner": "SIREN²", "finer": "FINER", "wire": "WIRE",
         "gauss": "Gauss", "relu_pe": "ReLU + P.E.", "siren30": "SIREN (ω0 = 30)"}
#: caution printed with the values of the authors' withdrawn README section
README_CAUTION = ("from a README section written with a chatbot and removed by the authors minutes "
                  "later: indicative only, never judged")
#: where the seed-summary values come from
SUMMARY_SOURCE = "third-party summary of the workshop paper"


def seed_cell(values: np.ndarray, decimals: int = 2) -> str:
    """``mean ± sd`` over the finite seeds, ``value*`` for one seed, ``-`` when none ran."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return "-"
    if v.size == 1:
        return f"{v[0]:.{decimals}f}*"
    return f"{v.mean():.{decimals}f} ± {v.std(ddof=1):.{decimals}f}"


def method_table(ds: xr.Dataset, variable: str, dim: str, caption: str):
    """Rows ``dim`` (clips or images) x columns methods of ``variable``, ``mean ± sd`` over seeds.

    Returns a pandas ``Styler`` with ``caption``; a cell marked ``*`` ran on one seed only.
    """
    import pandas as pd

    cells = {SHORT.get(str(m), str(m)): {str(r): seed_cell(ds[variable].sel({dim: r, "method": m})
                                                           .values)
                                         for r in ds[dim].values}
             for m in ds["method"].values}
    df = pd.DataFrame(cells)
    df.index.name = dim
    one_seed = any("*" in c for col in cells.values() for c in col.values())
    note = " * one seed." if one_seed else ""
    return df.style.set_caption(caption + note)


def paper_values_note(ds: xr.Dataset, dim: str, values: dict[tuple[str, str], float],
                      variable: str, source: str, caution: str | None = None) -> str:
    """Markdown: the few paper values for the rows and methods of ``ds``, each beside ours.

    ``values`` maps ``(row, method)`` to the paper's number (dB). The values are shown as
    indicative (``≈``) with their ``source`` and ``caution``; nothing is judged against them.
    """
    items = []
    for (row, method), value in values.items():
        if row not in ds[dim].values or method not in ds["method"].values:
            continue
        ours = seed_cell(ds[variable].sel({dim: row, "method": method}).values)
        items.append(f"{row}, {SHORT.get(method, method)}: paper ≈ {value:g} dB (ours {ours} dB)")
    if not items:
        return f"*No paper value is known for these {dim}s.*"
    text = f"**Paper values** ({source}): " + "; ".join(items) + "."
    if caution:
        text += f" *Caution: {caution}.*"
    return text
