"""Charts as inline SVG, built in Python (pure: no I/O, no JavaScript, no chart library).

Two shapes cover the health page (review/health_routes.py):

- :func:`column_chart`: vertical bars, each a stack of segments (one per series), on a shared
  value axis with round ticks; each bar's total is written above it;
- :func:`row_chart`: horizontal bars, each a stack of segments, on a shared scale or each row
  scaled to its own total (a share: a gauge); each row's figures are written beside it.

Every chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (its numbers in
words), axis labels, and the numbers as text, so nothing depends on colour. Colours come from
CSS classes (``series-<name>``) in the review stylesheet: the page's Content-Security-Policy
allows no inline style. Text is escaped by ElementTree; the result is :class:`Markup`.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"
CHAR_WIDTH = 6.6  # rough width of one character of 11px sans-serif text, for layout only


@dataclass(frozen=True)
class Bar:
    """One bar: its label and its value per series (series absent = 0)."""

    label: str
    values: dict[str, int] = field(default_factory=dict)

    def total(self) -> int:
        return sum(self.values.values())


@dataclass(frozen=True)
class Frame:
    """The chart's size (viewBox units) and its plot area's margins."""

    width: int = 640
    height: int = 300
    left: int = 60
    right: int = 16
    top: int = 24
    bottom: int = 82

    @property
    def plot_width(self) -> float:
        return float(self.width - self.left - self.right)

    @property
    def plot_height(self) -> float:
        return float(self.height - self.top - self.bottom)


def nice_step(maximum: float, ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 times a power of ten, at least 1) for ``maximum``."""
    if maximum <= ticks:
        return 1.0
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return float(factor * power)
    return float(10 * power)


def axis_max(maximum: float) -> float:
    """The value axis' top: ``maximum`` rounded up to a whole tick step (1 when empty)."""
    step = nice_step(maximum)
    return max(step, step * math.ceil(maximum / step))


def number(value: float) -> str:
    """A figure as the charts write it: thousands separated, no needless decimals."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def slug(text: str) -> str:
    """A class-name-safe form of a series name."""
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "x"


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    node = ET.SubElement(
        parent, tag, {k.rstrip("_").replace("_", "-"): _attr(v) for k, v in attrs.items()}
    )
    if text is not None:
        node.text = text
    return node


def _attr(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _svg(chart_id: str, title: str, desc: str, frame: Frame) -> ET.Element:
    root = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "id": chart_id,
            "class": "chart",
            "viewBox": f"0 0 {frame.width} {frame.height}",
            "role": "img",
            "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
        },
    )
    _el(root, "title", title, id=f"{chart_id}-title")
    _el(root, "desc", desc, id=f"{chart_id}-desc")
    return root


def _markup(root: ET.Element) -> Markup:
    # ElementTree escaped every text and attribute
    return Markup(ET.tostring(root, encoding="unicode", short_empty_elements=True))


LEGEND_LINE = 16


def _legend_lines(
    series: Sequence[str], bars: Sequence[Bar], width: float
) -> list[list[tuple[str, str, float]]]:
    """The legend's entries (series, text, x) in lines no wider than ``width``."""
    lines: list[list[tuple[str, str, float]]] = [[]]
    x = 0.0
    for name in series:
        text = f"{name} ({number(sum(b.values.get(name, 0) for b in bars))})"
        size = 14 + len(text) * CHAR_WIDTH
        if lines[-1] and x + size > width:
            lines.append([])
            x = 0.0
        lines[-1].append((name, text, x))
        x += size + 16
    return lines


def _with_legend(frame: Frame, lines: Sequence[object]) -> Frame:
    """``frame`` grown by the legend's extra lines (the plot keeps its size)."""
    extra = LEGEND_LINE * max(0, len(lines) - 1)
    return replace(frame, height=frame.height + extra, bottom=frame.bottom + extra)


def _legend(
    root: ET.Element, lines: Sequence[Sequence[tuple[str, str, float]]], frame: Frame
) -> None:
    """Swatches with each series' name and total, under the x-axis title."""
    group = _el(root, "g", class_="legend")
    top = frame.height - 10.0 - LEGEND_LINE * (len(lines) - 1)
    for row, line in enumerate(lines):
        y = top + LEGEND_LINE * row
        for name, text, offset in line:
            x = frame.left + offset
            _el(
                group,
                "rect",
                x=x,
                y=y - 9,
                width=10,
                height=10,
                class_=f"swatch series-{slug(name)}",
            )
            _el(group, "text", text, x=x + 14, y=y, class_="legend-label", data_series=name)


def _empty_note(root: ET.Element, frame: Frame, note: str) -> None:
    _el(
        root,
        "text",
        note,
        x=frame.left + frame.plot_width / 2,
        y=frame.top + frame.plot_height / 2,
        class_="empty-note",
        text_anchor="middle",
    )


def column_chart(
    chart_id: str,
    title: str,
    desc: str,
    bars: Sequence[Bar],
    series: Sequence[str],
    *,
    x_label: str,
    y_label: str,
    empty_note: str = "Nothing to show yet",
    label_every: int = 1,
    frame: Frame | None = None,
) -> Markup:
    """Vertical stacked bars on a shared value axis (see the module doc). Bar ``i``'s label is
    written under it when ``i % label_every == 0`` or it is the last; a bar's height is
    proportional to its total, a segment's to its value."""
    frame = frame or Frame()
    lines = _legend_lines(series, bars, frame.plot_width) if len(series) > 1 else []
    frame = _with_legend(frame, lines)
    root = _svg(chart_id, title, desc, frame)
    top = axis_max(max((b.total() for b in bars), default=0))
    step = nice_step(top)
    base = frame.top + frame.plot_height
    axes = _el(root, "g", class_="axes")
    ticks = round(top / step)
    for i in range(ticks + 1):
        value = step * i
        y = base - value / top * frame.plot_height
        _el(axes, "line", x1=frame.left, x2=frame.width - frame.right, y1=y, y2=y, class_="grid")
        _el(
            axes, "text", number(value), x=frame.left - 6, y=y + 4, class_="tick", text_anchor="end"
        )
    _el(axes, "line", x1=frame.left, x2=frame.left, y1=frame.top, y2=base, class_="axis")
    _el(axes, "line", x1=frame.left, x2=frame.width - frame.right, y1=base, y2=base, class_="axis")
    middle = frame.top + frame.plot_height / 2
    _el(
        axes,
        "text",
        y_label,
        x=14,
        y=middle,
        class_="axis-label",
        text_anchor="middle",
        transform=f"rotate(-90 14 {_attr(middle)})",
    )
    _el(
        axes,
        "text",
        x_label,
        x=frame.left + frame.plot_width / 2,
        y=base + 46,
        class_="axis-label",
        text_anchor="middle",
    )
    slot = frame.plot_width / max(1, len(bars))
    width = slot * 0.7
    plot = _el(root, "g", class_="bars")
    for i, bar in enumerate(bars):
        x = frame.left + slot * i + (slot - width) / 2
        group = _el(plot, "g", class_="bar", data_label=bar.label, data_total=bar.total())
        y = base
        for name in series:
            value = bar.values.get(name, 0)
            if value <= 0:
                continue
            height = value / top * frame.plot_height
            y -= height
            rect = _el(
                group,
                "rect",
                x=x,
                y=y,
                width=width,
                height=height,
                class_=f"segment series-{slug(name)}",
                data_series=name,
                data_value=value,
            )
            _el(rect, "title", f"{bar.label}: {name} {number(value)}")
        if bar.total() > 0:
            _el(
                group,
                "text",
                number(bar.total()),
                x=x + width / 2,
                y=y - 4,
                class_="bar-total",
                text_anchor="middle",
            )
        if i % max(1, label_every) == 0 or i == len(bars) - 1:
            _el(
                group,
                "text",
                bar.label,
                x=x + width / 2,
                y=base + 16,
                class_="tick",
                text_anchor="middle",
            )
    if not any(b.total() for b in bars):
        _empty_note(root, frame, empty_note)
    if lines:
        _legend(root, lines, frame)
    return _markup(root)


def row_chart(
    chart_id: str,
    title: str,
    desc: str,
    bars: Sequence[Bar],
    series: Sequence[str],
    *,
    x_label: str,
    share: bool = False,
    empty_note: str = "Nothing to show yet",
    row_height: int = 34,
    width: int = 640,
) -> Markup:
    """Horizontal stacked bars, one row per bar (see the module doc). ``share``: each row spans
    the full width for its own total and is labelled with its first series' percentage (a
    gauge); otherwise all rows share one scale, the largest total filling the width."""
    label_width = max((len(b.label) for b in bars), default=4) * CHAR_WIDTH + 12
    frame = Frame(
        width=width,
        height=int(24 + row_height * max(1, len(bars)) + 62),
        left=int(min(max(label_width, 60), width / 3)),
        right=150,
        top=24,
        bottom=62,
    )
    lines = _legend_lines(series, bars, frame.width - frame.left - 16)
    frame = _with_legend(frame, lines)
    root = _svg(chart_id, title, desc, frame)
    base = frame.top + frame.plot_height
    top = axis_max(max((b.total() for b in bars), default=0))
    axes = _el(root, "g", class_="axes")
    _el(axes, "line", x1=frame.left, x2=frame.left, y1=frame.top, y2=base, class_="axis")
    _el(
        axes,
        "line",
        x1=frame.left,
        x2=frame.left + frame.plot_width,
        y1=base,
        y2=base,
        class_="axis",
    )
    ends = ("0%", "100%") if share else ("0", number(top))
    for x, text, anchor in (
        (frame.left, ends[0], "start"),
        (frame.left + frame.plot_width, ends[1], "end"),
    ):
        _el(axes, "text", text, x=x, y=base + 14, class_="tick", text_anchor=anchor)
    _el(
        axes,
        "text",
        x_label,
        x=frame.left + frame.plot_width / 2,
        y=base + 30,
        class_="axis-label",
        text_anchor="middle",
    )
    plot = _el(root, "g", class_="bars")
    for i, bar in enumerate(bars):
        y = frame.top + row_height * i + 6
        height = row_height - 12
        total = bar.total()
        group = _el(plot, "g", class_="bar", data_label=bar.label, data_total=total)
        _el(
            group,
            "text",
            bar.label,
            x=frame.left - 6,
            y=y + height / 2 + 4,
            class_="tick",
            text_anchor="end",
        )
        scale = (total if share else top) or 1
        if share:
            _el(
                group,
                "rect",
                x=frame.left,
                y=y,
                width=frame.plot_width,
                height=height,
                class_="track",
            )
        x = float(frame.left)
        for name in series:
            value = bar.values.get(name, 0)
            if value <= 0:
                continue
            length = value / scale * frame.plot_width
            rect = _el(
                group,
                "rect",
                x=x,
                y=y,
                width=length,
                height=height,
                class_=f"segment series-{slug(name)}",
                data_series=name,
                data_value=value,
            )
            _el(rect, "title", f"{bar.label}: {name} {number(value)}")
            x += length
        _el(
            group,
            "text",
            _row_figure(bar, series, share),
            x=frame.left + frame.plot_width + 8,
            y=y + height / 2 + 4,
            class_="bar-total",
        )
    if not any(b.total() for b in bars):
        _empty_note(root, frame, empty_note)
    _legend(root, lines, frame)
    return _markup(root)


def _row_figure(bar: Bar, series: Sequence[str], share: bool) -> str:
    """What is written at a row's end: the first series' share, or the row's total."""
    total = bar.total()
    if not share:
        return number(total)
    if total == 0:
        return "none"
    first = bar.values.get(series[0], 0)
    return f"{percent(first, total)} of {number(total)}"


def percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a whole percentage (floored, so 99.9% is not shown as 100%)."""
    if whole <= 0:
        return "0%"
    return f"{math.floor(part * 100 / whole)}%"
