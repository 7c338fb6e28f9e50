"""The dashboard's charts, drawn on the server as SVG: text escaped, axes rounded, stacked
bars, gaps in lines where a day has no value, and the figures as a table too."""

from conversations.review.charts import Series, bars, lines


def test_every_text_is_escaped():
    chart = bars("<b>Tokens</b>", ["<day>"], [Series('"model"', [3])], unit="&")
    svg = str(chart.svg)
    assert "<b>" not in svg and "<day>" not in svg and '"model"' not in svg
    assert "&lt;b&gt;Tokens&lt;/b&gt;" in svg and "&lt;day&gt;" in svg
    assert 'role="img" aria-label="&lt;b&gt;Tokens&lt;/b&gt;"' in svg


def test_stacked_bars_share_a_rounded_axis():
    chart = bars("Replies", ["Mon", "Tue"], [Series("a", [30, 0]), Series("b", [40, None])])
    svg = str(chart.svg)
    assert svg.count("<rect ") == 2  # Nothing drawn for zero or no value.
    assert ">100</text>" in svg  # 70 at most: the axis goes to a round 100.
    assert chart.rows == [("Mon", [30, 40]), ("Tue", [0, None])]


def test_large_values_are_labelled_short():
    svg = str(bars("Tokens", ["d"], [Series("t", [1_800_000])], unit=" tok").svg)
    assert ">2M tok</text>" in svg and ">500k</text>" in svg


def test_a_line_breaks_where_a_day_has_no_value():
    chart = lines("Latency", ["1", "2", "3", "4", "5"], [Series("p50", [1, 2, None, 4, None])])
    svg = str(chart.svg)
    assert svg.count("<polyline ") == 1 and svg.count("<circle ") == 1
    assert '<line class="grid"' in svg
    fixed = str(lines("Share", ["1"], [Series("x", [0.2])], top=1).svg)
    assert ">1</text>" in fixed  # A fixed axis, not rounded from the values.
