"""Small charts drawn on the server as inline SVG: no script, no library, no CDN.

Colours come from CSS classes (s0…s5) so the admin's light and dark themes both apply.
Every chart is also given as a table (for screen readers and exact figures).
"""

from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 600, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 10, 26


@dataclass
class Series:
    name: str
    values: list[float | None]


@dataclass
class Chart:
    title: str
    svg: SafeString
    labels: list[str]
    series: list[Series]
    unit: str = ""

    @property
    def rows(self) -> list[tuple[str, list]]:
        """(label, [value per series]) rows for the data table."""
        return [(label, [s.values[i] for s in self.series]) for i, label in enumerate(self.labels)]


def _nice_max(value: float) -> float:
    """A round top for the y axis at or above `value`."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover


def _short(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def _frame(title: str, labels: list[str], top: float, body: list[str], unit: str) -> SafeString:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i in range(5):  # Grid lines and y labels.
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        label = _short(top * i / 4) + (unit if i == 4 else "")
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
    step = max(1, len(labels) // 6)
    for i, label in enumerate(labels):  # A few x labels, evenly spread.
        if i % step == 0 or i == len(labels) - 1:
            x = LEFT + plot_w * (i + 0.5) / max(len(labels), 1)
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle">{escape(label)}</text>'
            )
    parts.append(
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>'
    )
    parts.extend(body)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text in it is escaped above


def bars(title: str, labels: list[str], series: list[Series], *, unit: str = "") -> Chart:
    """Bars per label, stacked when there are several series."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    body = []
    for i in range(len(labels)):
        base = 0.0
        for n, s in enumerate(series):
            value = s.values[i] or 0
            if value <= 0:
                continue
            h = plot_h * value / top
            y = TOP + plot_h - plot_h * base / top - h
            body.append(
                f'<rect class="s{n % 6}" x="{LEFT + slot * i + slot * 0.15:.1f}" y="{y:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{h:.1f}"><title>{escape(labels[i])} '
                f"{escape(s.name)}: {value:g}{escape(unit)}</title></rect>"
            )
            base += value
    return Chart(title, _frame(title, labels, top, body, unit), labels, series, unit)


def lines(
    title: str, labels: list[str], series: list[Series], *, unit: str = "", top: float = 0
) -> Chart:
    """One line per series; days without a value leave a gap. `top` fixes the y axis."""
    top = top or _nice_max(max((v for s in series for v in s.values if v is not None), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body = []
    for n, s in enumerate(series):
        run: list[str] = []
        for i, value in enumerate([*s.values, None]):
            if value is None:
                if len(run) > 1:
                    body.append(f'<polyline class="s{n % 6}" points="{" ".join(run)}"/>')
                elif run:
                    x, y = run[0].split(",")
                    body.append(f'<circle class="s{n % 6}" cx="{x}" cy="{y}" r="2.5"/>')
                run = []
                continue
            x = LEFT + plot_w * (i + 0.5) / max(len(labels), 1)
            y = TOP + plot_h - plot_h * value / top
            run.append(f"{x:.1f},{y:.1f}")
    return Chart(title, _frame(title, labels, top, body, unit), labels, series, unit)
