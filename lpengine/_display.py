"""Short text and HTML views of result objects (``__repr__`` and ``_repr_html_``).

A result's ``__repr__`` is one line of a few headline facts, never its arrays
or graphs (a 1,452-region enumeration must not print megabytes); its
``_repr_html_`` (what Jupyter shows when a cell ends with the result) is a
small card: a title line, a list of facts and at most a few table rows.
Numbers are rounded for reading; the full values stay on the object.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["fmt_num", "short_repr", "html_card"]

#: Table rows shown in a notebook card before "... and N more".
HTML_MAX_ROWS = 8


def fmt_num(x: Any, digits: int = 4) -> str:
    """``x`` rounded to ``digits`` significant digits (ints with thousands separators, None as "-")."""
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,d}"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}g}"


def short_repr(name: str, fields: Sequence[tuple[str, Any]]) -> str:
    """``Name(key=value, ...)`` with numbers rounded by :func:`fmt_num` and strings quoted."""
    parts = []
    for key, value in fields:
        text = repr(value) if isinstance(value, str) else fmt_num(value).replace(",", "_")
        parts.append(f"{key}={text}")
    return f"{name}({', '.join(parts)})"


def html_card(
    title: str,
    facts: Sequence[tuple[str, Any]],
    *,
    header: Sequence[str] = (),
    rows: Sequence[Sequence[Any]] = (),
    total_rows: int | None = None,
    note: str = "",
) -> str:
    """A small HTML card: bold title, a two-column fact list, an optional table (first rows only)."""
    esc = html.escape
    out = [f"<div><b>{esc(title)}</b>", '<table style="margin:0.3em 0">']
    for key, value in facts:
        shown = value if isinstance(value, str) else fmt_num(value)
        out.append(f'<tr><td style="text-align:left">{esc(key)}</td><td style="text-align:left">{esc(shown)}</td></tr>')
    out.append("</table>")
    if header:
        out.append("<table>")
        out.append("<tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>")
        for row in rows[:HTML_MAX_ROWS]:
            cells = (c if isinstance(c, str) else fmt_num(c) for c in row)
            out.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
        n = len(rows) if total_rows is None else total_rows
        if n > min(len(rows), HTML_MAX_ROWS):
            out.append(f'<tr><td colspan="{len(header)}">... and {n - min(len(rows), HTML_MAX_ROWS):,d} more</td></tr>')
        out.append("</table>")
    if note:
        out.append(f"<small>{esc(note)}</small>")
    out.append("</div>")
    return "\n".join(out)
