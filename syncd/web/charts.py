"""Server-side SVG charts: horizontal bars, vertical columns (histograms) and lines, fully labelled.

Each chart has a title, axis titles, tick labels and the value of every bar or the last point of
every line written on it, so it reads without hovering and prints as is. No script, no external
font or stylesheet: the SVG is inline in the page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from syncd.web.markup import Markup, element, join

PALETTE = ("#2f6db5", "#e08a1e", "#3a9a5b", "#b5443b", "#7a5bb5", "#5f7a8a")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"

Format = Callable[[float], str]


@dataclass(frozen=True, slots=True)
class Series:
    """One named row of values (None: no value at that position, e.g. a line not yet reached)."""

    name: str
    values: Sequence[float | None]
    dashed: bool = False


def plain(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def compact(value: float) -> str:
    """Tick labels: 1,500 → 1.5k, 2,000,000 → 2M."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def nice_ticks(low: float, high: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 × 10^k) covering low..high, zero included.

    With `integer` (counts) the step is a whole number.
    """
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1.0
    raw = (high - low) / count
    if integer:
        raw = max(raw, 1.0)
    magnitude = 10 ** math.floor(math.log10(raw))
    multiples = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(m * magnitude for m in multiples if m * magnitude >= raw)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    n = round((last - first) / step)
    return [first + i * step for i in range(n + 1)]


def _text(x: float, y: float, content: str, cls: str, **attrs: object) -> Markup:
    return element("text", {"x": f"{x:.1f}", "y": f"{y:.1f}", "class": cls, **attrs}, content)


def _frame(title: str, width: int, height: int, body: list[Markup], description: str) -> Markup:
    style = (
        f"text{{font-family:{FONT};fill:#1d2733}}"
        ".chart-title{font-size:15px;font-weight:600}.axis-title{font-size:12px;fill:#4a5866}"
        ".tick{font-size:11px;fill:#4a5866}.category{font-size:12px}.value{font-size:11px;font-weight:600}"
        ".legend{font-size:12px}.grid{stroke:#e3e8ee;stroke-width:1}.axis{stroke:#8a97a5;stroke-width:1}"
    )
    return element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {width} {height}",
            "width": width,
            "height": height,
            "role": "img",
            "aria-label": f"{title}. {description}",
            "class": "chart",
        },
        element("title", None, title),
        element("style", None, style),
        element("rect", {"x": 0, "y": 0, "width": width, "height": height, "fill": "#ffffff"}),
        _text(12, 22, title, "chart-title"),
        join(body),
    )


def _legend(series: Sequence[Series], x: float, y: float) -> list[Markup]:
    items: list[Markup] = []
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        items.append(
            element("rect", {"x": f"{x:.1f}", "y": f"{y - 9:.1f}", "width": 12, "height": 10, "fill": color})
        )
        items.append(_text(x + 16, y, s.name, "legend"))
        x += 28 + 7.0 * len(s.name)
    return items


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    axis_title: str,
    value_format: Format = plain,
    tick_format: Format = compact,
    width: int = 760,
) -> Markup:
    """Horizontal bars, one group per category and one bar per series, each with its value written."""
    n_series = max(len(series), 1)
    label_width = min(max((len(c) for c in categories), default=4) * 7 + 16, 240)
    left, right = label_width + 12, 90
    top = 44 if n_series == 1 else 64
    bar = 16
    row = bar * n_series + 12
    plot_h = max(row * len(categories), row)
    height = top + plot_h + 52
    values = [v for s in series for v in s.values if v is not None]
    integer = all(float(v).is_integer() for v in values)
    ticks = nice_ticks(min(values, default=0.0), max(values, default=0.0), integer=integer)
    lo, hi = ticks[0], ticks[-1]
    plot_w = width - left - right

    def x_of(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot_w

    body: list[Markup] = []
    if len(series) > 1:
        body += _legend(series, left, 46)
    for t in ticks:
        x = x_of(t)
        body.append(
            element(
                "line", {"x1": f"{x:.1f}", "x2": f"{x:.1f}", "y1": top, "y2": top + plot_h, "class": "grid"}
            )
        )
        body.append(_text(x, top + plot_h + 16, tick_format(t), "tick", **{"text-anchor": "middle"}))
    zero = x_of(0.0)
    if not categories:
        body.append(
            _text(
                left + plot_w / 2, top + plot_h / 2 + 4, "no data", "axis-title", **{"text-anchor": "middle"}
            )
        )
    for ci, category in enumerate(categories):
        y0 = top + ci * row + 6
        body.append(_text(left - 8, y0 + row / 2 - 4, category, "category", **{"text-anchor": "end"}))
        for si, s in enumerate(series):
            value = s.values[ci] if ci < len(s.values) else None
            if value is None:
                continue
            y = y0 + si * bar
            x1, x2 = sorted((zero, x_of(value)))
            body.append(
                element(
                    "rect",
                    {
                        "x": f"{x1:.1f}",
                        "y": f"{y:.1f}",
                        "width": f"{max(x2 - x1, 1):.1f}",
                        "height": bar - 3,
                        "fill": PALETTE[si % len(PALETTE)],
                    },
                    element("title", None, f"{category} — {s.name}: {value_format(value)}"),
                )
            )
            if value >= 0:
                body.append(_text(x2 + 4, y + bar - 6, value_format(value), "value"))
            else:
                body.append(
                    _text(x1 - 4, y + bar - 6, value_format(value), "value", **{"text-anchor": "end"})
                )
    body.append(
        element(
            "line", {"x1": f"{zero:.1f}", "x2": f"{zero:.1f}", "y1": top, "y2": top + plot_h, "class": "axis"}
        )
    )
    body.append(_text(left + plot_w / 2, height - 10, axis_title, "axis-title", **{"text-anchor": "middle"}))
    description = "; ".join(
        f"{c}: " + ", ".join(value_format(v) for s in series if (v := _at(s, i)) is not None)
        for i, c in enumerate(categories)
    )
    return _frame(title, width, height, body, description)


def _at(series: Series, i: int) -> float | None:
    return series.values[i] if i < len(series.values) else None


def column_chart(
    title: str,
    bins: Sequence[str],
    counts: Sequence[float],
    *,
    x_title: str,
    y_title: str,
    value_format: Format = plain,
    width: int = 760,
    height: int = 320,
) -> Markup:
    """Vertical columns (a histogram when `bins` are value ranges), each with its count on top."""
    left, right, top, bottom = 64, 20, 48, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = nice_ticks(0.0, max(counts, default=0.0), integer=all(float(c).is_integer() for c in counts))
    hi = ticks[-1]

    def y_of(v: float) -> float:
        return top + plot_h - v / hi * plot_h

    body: list[Markup] = []
    for t in ticks:
        y = y_of(t)
        body.append(
            element(
                "line", {"x1": left, "x2": left + plot_w, "y1": f"{y:.1f}", "y2": f"{y:.1f}", "class": "grid"}
            )
        )
        body.append(_text(left - 6, y + 4, compact(t), "tick", **{"text-anchor": "end"}))
    slot = plot_w / max(len(bins), 1)
    for i, (label, count) in enumerate(zip(bins, counts, strict=True)):
        x = left + i * slot
        y = y_of(count)
        body.append(
            element(
                "rect",
                {
                    "x": f"{x + 3:.1f}",
                    "y": f"{y:.1f}",
                    "width": f"{slot - 6:.1f}",
                    "height": f"{top + plot_h - y:.1f}",
                    "fill": PALETTE[0],
                },
                element("title", None, f"{label}: {value_format(count)}"),
            )
        )
        body.append(_text(x + slot / 2, y - 5, value_format(count), "value", **{"text-anchor": "middle"}))
        body.append(_text(x + slot / 2, top + plot_h + 16, label, "tick", **{"text-anchor": "middle"}))
    body.append(
        element(
            "line", {"x1": left, "x2": left + plot_w, "y1": top + plot_h, "y2": top + plot_h, "class": "axis"}
        )
    )
    body.append(_text(left + plot_w / 2, height - 14, x_title, "axis-title", **{"text-anchor": "middle"}))
    body.append(
        _text(
            16,
            top + plot_h / 2,
            y_title,
            "axis-title",
            **{"text-anchor": "middle", "transform": f"rotate(-90 16 {top + plot_h / 2:.1f})"},
        )
    )
    description = "; ".join(f"{b}: {value_format(c)}" for b, c in zip(bins, counts, strict=True))
    return _frame(title, width, height, body, description)


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    x_title: str,
    y_title: str,
    value_format: Format = plain,
    tick_format: Format = compact,
    y_max: float | None = None,
    width: int = 760,
    height: int = 340,
) -> Markup:
    """Lines over evenly spaced x positions; the last value of each line is written at its end."""
    left, right, top, bottom = 64, 96, 64, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None]
    ticks = nice_ticks(0.0, max([*values, y_max or 0.0], default=0.0))
    lo, hi = ticks[0], ticks[-1]
    n = len(x_labels)

    def x_of(i: int) -> float:
        return left + (i / (n - 1) * plot_w if n > 1 else plot_w / 2)

    def y_of(v: float) -> float:
        return top + plot_h - (v - lo) / (hi - lo) * plot_h

    body: list[Markup] = _legend(series, left, 46)
    for t in ticks:
        y = y_of(t)
        body.append(
            element(
                "line", {"x1": left, "x2": left + plot_w, "y1": f"{y:.1f}", "y2": f"{y:.1f}", "class": "grid"}
            )
        )
        body.append(_text(left - 6, y + 4, tick_format(t), "tick", **{"text-anchor": "end"}))
    step = max(1, math.ceil(n / 8))
    for i in range(0, n, step):
        body.append(_text(x_of(i), top + plot_h + 16, x_labels[i], "tick", **{"text-anchor": "middle"}))
    body.append(
        element(
            "line", {"x1": left, "x2": left + plot_w, "y1": top + plot_h, "y2": top + plot_h, "class": "axis"}
        )
    )
    for si, s in enumerate(series):
        color = PALETTE[si % len(PALETTE)]
        segments: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(s.values[:n]):
            if v is None:
                segments.append([])
            else:
                segments[-1].append((x_of(i), y_of(v)))
        for points in segments:
            if len(points) > 1:
                body.append(
                    element(
                        "polyline",
                        {
                            "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in points),
                            "fill": "none",
                            "stroke": color,
                            "stroke-width": 2.5,
                            "stroke-dasharray": "6 4" if s.dashed else None,
                        },
                    )
                )
            if n <= 40 or len(points) == 1:
                for x, y in points:
                    body.append(
                        element("circle", {"cx": f"{x:.1f}", "cy": f"{y:.1f}", "r": 3, "fill": color})
                    )
        last = next(((i, v) for i, v in reversed(list(enumerate(s.values[:n]))) if v is not None), None)
        if last is not None:
            body.append(
                _text(x_of(last[0]) + 6, y_of(last[1]) + 4, value_format(last[1]), "value", fill=color)
            )
    body.append(_text(left + plot_w / 2, height - 12, x_title, "axis-title", **{"text-anchor": "middle"}))
    body.append(
        _text(
            16,
            top + plot_h / 2,
            y_title,
            "axis-title",
            **{"text-anchor": "middle", "transform": f"rotate(-90 16 {top + plot_h / 2:.1f})"},
        )
    )
    description = "; ".join(
        f"{s.name}: last {value_format(v)}"
        for s in series
        if (v := next((x for x in reversed(s.values) if x is not None), None)) is not None
    )
    return _frame(title, width, height, body, description)
