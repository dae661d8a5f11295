"""The parts the health page's charts are drawn with (review/charts.py): pure, no I/O.

Scales (:func:`nice_step`, :func:`axis_max`), how figures are written (:func:`number`,
:func:`percent`), SVG elements through ElementTree (which escapes every text and attribute),
the ``<svg role="img">`` root with its ``<title>`` and ``<desc>``, the legend and the note an
empty chart shows. Colours are never set here: elements carry ``series-<name>`` classes the
review stylesheet colours (the page's Content-Security-Policy allows no inline style).
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


def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    node = ET.SubElement(
        parent, tag, {k.rstrip("_").replace("_", "-"): attr(v) for k, v in attrs.items()}
    )
    if text is not None:
        node.text = text
    return node


def attr(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def segment(group: ET.Element, bar: Bar, name: str, box: tuple[float, float, float, float]) -> None:
    """One series' part of a bar (``box``: x, y, width, height), its value in its title."""
    x, y, width, height = box
    value = bar.values.get(name, 0)
    rect = el(
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
    el(rect, "title", f"{bar.label}: {name} {number(value)}")


def svg_root(chart_id: str, title: str, desc: str, frame: Frame) -> ET.Element:
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
    el(root, "title", title, id=f"{chart_id}-title")
    el(root, "desc", desc, id=f"{chart_id}-desc")
    return root


def markup(root: ET.Element) -> Markup:
    # ElementTree escaped every text and attribute
    return Markup(ET.tostring(root, encoding="unicode", short_empty_elements=True))


LEGEND_LINE = 16


def legend_lines(
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


def with_legend(frame: Frame, lines: Sequence[object]) -> Frame:
    """``frame`` grown by the legend's extra lines (the plot keeps its size)."""
    extra = LEGEND_LINE * max(0, len(lines) - 1)
    return replace(frame, height=frame.height + extra, bottom=frame.bottom + extra)


def legend(
    root: ET.Element, lines: Sequence[Sequence[tuple[str, str, float]]], frame: Frame
) -> None:
    """Swatches with each series' name and total, under the x-axis title."""
    group = el(root, "g", class_="legend")
    top = frame.height - 10.0 - LEGEND_LINE * (len(lines) - 1)
    for row, line in enumerate(lines):
        y = top + LEGEND_LINE * row
        for name, text, offset in line:
            x = frame.left + offset
            el(
                group,
                "rect",
                x=x,
                y=y - 9,
                width=10,
                height=10,
                class_=f"swatch series-{slug(name)}",
            )
            el(group, "text", text, x=x + 14, y=y, class_="legend-label", data_series=name)


def draw_empty_note(root: ET.Element, frame: Frame, note: str) -> None:
    el(
        root,
        "text",
        note,
        x=frame.left + frame.plot_width / 2,
        y=frame.top + frame.plot_height / 2,
        class_="empty-note",
        text_anchor="middle",
    )


def percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a whole percentage (floored, so 99.9% is not shown as 100%)."""
    if whole <= 0:
        return "0%"
    return f"{math.floor(part * 100 / whole)}%"
