"""Tests of lpengine._display: rounding, one-line reprs, bounded HTML cards."""

from __future__ import annotations

from lpengine._display import HTML_MAX_ROWS, fmt_num, html_card, short_repr


def test_fmt_num_rounds_to_significant_digits() -> None:
    assert fmt_num(0.016071194967113907) == "0.01607"
    assert fmt_num(0.016071194967113907, 3) == "0.0161"
    assert fmt_num(1452) == "1,452" and fmt_num(True) == "True" and fmt_num(None) == "-"
    assert fmt_num(float("inf")) == "inf" and fmt_num(float("nan")) == "nan"


def test_short_repr_and_card() -> None:
    assert short_repr("R", [("count", 1452), ("method", "vertex"), ("x", 0.123456)]) == (
        "R(count=1_452, method='vertex', x=0.1235)"
    )
    rows = [(i, i * 0.5) for i in range(100)]
    card = html_card("T <&>", [("a", 1)], header=("i", "v"), rows=rows)
    assert "<b>T &lt;&amp;&gt;</b>" in card  # escaped
    assert card.count("<td>") == 2 * HTML_MAX_ROWS and f"... and {100 - HTML_MAX_ROWS} more" in card
