"""Rendering of "paper vs ours" tables for notebooks and the book.

:func:`claims_table` returns a :class:`ClaimsTable`, which Jupyter (and myst-nb in the book)
shows as an HTML table with coloured verdict cells, and which also renders as Markdown without
any dependency on ``tabulate``.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd

from freqbook.results.checks import fmt_number
from freqbook.results.claims import COLUMNS, VERDICTS, evaluate, verdict_counts

#: background colour of each verdict cell
VERDICT_COLOURS = {
    "reproduced": "#c8e6c9",
    "reproduced-better": "#a5d6a7",
    "inconclusive": "#fff9c4",
    "not comparable": "#e1f5fe",
    "qualitative-only": "#ffe0b2",
    "not reproduced": "#ffcdd2",
    "not run": "#e0e0e0",
    "no check": "#eeeeee",
}

#: the displayed columns (the notes become numbered footnotes under the table)
SHOWN = ("claim", "paper", "ours", "delta", "verdict")
HEADERS = {
    "claim": "claim",
    "paper": "paper",
    "ours": "ours",
    "delta": "Δ",
    "verdict": "verdict",
}


def _cell(value: object) -> str:
    """Text of one cell: numbers compact and signed for deltas, whitespace collapsed."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return fmt_number(float(value))
    return " ".join(str(value).split())


def _delta_cell(value: object) -> str:
    text = _cell(value)
    if text and isinstance(value, int | float) and value > 0:
        return "+" + text
    return text


class ClaimsTable:
    """A verdict table that displays itself in Jupyter and renders to Markdown.

    Designed for a 700 px text column: five columns (claim with its id and place in the paper,
    paper value, ours, Δ = ours − paper, verdict); the notes become numbered footnotes below.

    Parameters
    ----------
    df
        Output of :func:`~freqbook.results.claims.evaluate`.
    title
        Caption, e.g. ``"siren @ cpu"``.
    """

    def __init__(self, df: pd.DataFrame, title: str = "") -> None:
        self.df = df
        self.title = title

    @property
    def counts(self) -> dict[str, int]:
        """``{verdict: count}``."""
        return verdict_counts(self.df)

    def summary(self) -> str:
        """One line, e.g. ``"siren @ cpu: 3 reproduced, 1 inconclusive, 1 not run"``."""
        parts = [f"{n} {v}" for v, n in self.counts.items() if n]
        head = f"{self.title}: " if self.title else ""
        return head + (", ".join(parts) if parts else "no claims")

    def _rows(self) -> list[dict[str, str]]:
        rows = []
        for rec in self.df.to_dict(orient="records"):
            row = {c: _cell(rec.get(c)) for c in COLUMNS}
            row["delta"] = _delta_cell(rec.get("delta"))
            rows.append(row)
        return rows

    def _footnoted(self) -> tuple[list[dict[str, str]], list[str]]:
        """Rows with a footnote number per distinct note, and the notes in order."""
        notes: list[str] = []
        rows = []
        for row in self._rows():
            row = dict(row)
            row["mark"] = ""
            if row["note"]:
                if row["note"] not in notes:
                    notes.append(row["note"])
                row["mark"] = str(notes.index(row["note"]) + 1)
            rows.append(row)
        return rows, notes

    def _repr_html_(self) -> str:
        esc = html.escape
        rows, notes = self._footnoted()
        head = "".join(f"<th style='text-align:left'>{esc(HEADERS[c])}</th>" for c in SHOWN)
        body = []
        for row in rows:
            cells = []
            for c in SHOWN:
                style = "text-align:left;vertical-align:top;padding:2px 6px"
                text = esc(row[c])
                if c == "claim":
                    where = " · ".join(x for x in (row["id"], row["where"]) if x)
                    text += f"<br><small style='color:#555'>{esc(where)}</small>"
                elif c == "verdict":
                    colour = VERDICT_COLOURS.get(row[c], "transparent")
                    style += f";background-color:{colour};color:#000"
                    if row["mark"]:
                        text += f"<sup>{row['mark']}</sup>"
                elif c == "delta":
                    style += ";white-space:nowrap"
                cells.append(f"<td style='{style}'>{text}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        caption = (
            f"<caption style='caption-side:top;text-align:left'>{esc(self.summary())}</caption>"
        )
        foot = "".join(f"<li>{esc(n)}</li>" for n in notes)
        foot_html = f"<ol style='font-size:0.8em;margin-top:4px'>{foot}</ol>" if notes else ""
        return (
            "<div class='freqbook-claims'><table style='border-collapse:collapse;"
            f"font-size:0.85em;width:100%'>{caption}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>{foot_html}</div>"
        )

    def to_markdown(self) -> str:
        """A GitHub/MyST pipe table (``|`` in cells escaped), notes as a numbered list."""

        def md(text: str) -> str:
            return text.replace("|", "\\|")

        rows, notes = self._footnoted()
        lines = [
            "| " + " | ".join(HEADERS[c] for c in SHOWN) + " |",
            "|" + "|".join("---" for _ in SHOWN) + "|",
        ]
        for row in rows:
            cells = []
            for c in SHOWN:
                text = md(row[c])
                if c == "claim":
                    where = " · ".join(x for x in (row["id"], row["where"]) if x)
                    text += f" <br>*{md(where)}*" if where else ""
                if c == "verdict" and row["mark"]:
                    text += f" [{row['mark']}]"
                cells.append(text)
            lines.append("| " + " | ".join(cells) + " |")
        if notes:
            lines.append("")
            lines += [f"{i}. {md(n)}" for i, n in enumerate(notes, 1)]
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return f"<ClaimsTable {self.summary()} ({len(self.df)} rows)>"

    def __len__(self) -> int:
        return len(self.df)


def claims_table(
    paper: str,
    profile: str,
    ids: list[str] | None = None,
    root: Path | None = None,
) -> ClaimsTable:
    """Evaluate the claims of ``paper`` at ``profile`` and wrap them for display.

    Parameters
    ----------
    paper, profile
        Chapter key and profile.
    ids
        Only these claims, in this order (default: every claim of the file).
    root
        Results folder (default :func:`~freqbook.results.record.results_root`).
    """
    df = evaluate(paper, profile, root, ids=ids)
    return ClaimsTable(df, title=f"{paper} @ {profile}")


__all__ = ["VERDICTS", "VERDICT_COLOURS", "ClaimsTable", "claims_table"]
