"""Charts as inline SVG, built in Python (pure: no I/O, no JavaScript, no chart library).

Two shapes cover the health page (review/health_routes.py):

- :func:`column_chart`: vertical bars, each a stack of segments (one per series), on a shared
  value axis with round ticks; each bar's total is written above it;
- :func:`row_chart`: horizontal bars, each a stack of segments, on a shared scale or each row
  scaled to its own total (a share: a gauge); each row's figures are written beside it.

Every chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (its numbers in
words), axis labels, and the numbers as text, so nothing depends on colour; the parts it is
drawn with (scales, elements, legend) are in review/svg.py. The result is :class:`Markup`.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from archive_ingest.review.svg import (
    CHAR_WIDTH,
    Bar,
    Frame,
    attr,
    axis_max,
    draw_empty_note,
    el,
    legend,
    legend_lines,
    markup,
    nice_step,
    number,
    percent,
    segment,
    svg_root,
    with_legend,
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
    lines = legend_lines(series, bars, frame.plot_width) if len(series) > 1 else []
    frame = with_legend(frame, lines)
    root = svg_root(chart_id, title, desc, frame)
    top = axis_max(max((b.total() for b in bars), default=0))
    step = nice_step(top)
    base = frame.top + frame.plot_height
    axes = el(root, "g", class_="axes")
    ticks = round(top / step)
    for i in range(ticks + 1):
        value = step * i
        y = base - value / top * frame.plot_height
        el(axes, "line", x1=frame.left, x2=frame.width - frame.right, y1=y, y2=y, class_="grid")
        el(axes, "text", number(value), x=frame.left - 6, y=y + 4, class_="tick", text_anchor="end")
    el(axes, "line", x1=frame.left, x2=frame.left, y1=frame.top, y2=base, class_="axis")
    el(axes, "line", x1=frame.left, x2=frame.width - frame.right, y1=base, y2=base, class_="axis")
    middle = frame.top + frame.plot_height / 2
    el(
        axes,
        "text",
        y_label,
        x=14,
        y=middle,
        class_="axis-label",
        text_anchor="middle",
        transform=f"rotate(-90 14 {attr(middle)})",
    )
    el(
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
    plot = el(root, "g", class_="bars")
    for i, bar in enumerate(bars):
        x = frame.left + slot * i + (slot - width) / 2
        group = el(plot, "g", class_="bar", data_label=bar.label, data_total=bar.total())
        y = base
        for name in series:
            value = bar.values.get(name, 0)
            if value <= 0:
                continue
            height = value / top * frame.plot_height
            y -= height
            segment(group, bar, name, (x, y, width, height))
        if bar.total() > 0:
            el(
                group,
                "text",
                number(bar.total()),
                x=x + width / 2,
                y=y - 4,
                class_="bar-total",
                text_anchor="middle",
            )
        if i % max(1, label_every) == 0 or i == len(bars) - 1:
            el(
                group,
                "text",
                bar.label,
                x=x + width / 2,
                y=base + 16,
                class_="tick",
                text_anchor="middle",
            )
    if not any(b.total() for b in bars):
        draw_empty_note(root, frame, empty_note)
    if lines:
        legend(root, lines, frame)
    return markup(root)


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
    lines = legend_lines(series, bars, frame.width - frame.left - 16)
    frame = with_legend(frame, lines)
    root = svg_root(chart_id, title, desc, frame)
    base = frame.top + frame.plot_height
    top = axis_max(max((b.total() for b in bars), default=0))
    axes = el(root, "g", class_="axes")
    el(axes, "line", x1=frame.left, x2=frame.left, y1=frame.top, y2=base, class_="axis")
    el(
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
        el(axes, "text", text, x=x, y=base + 14, class_="tick", text_anchor=anchor)
    el(
        axes,
        "text",
        x_label,
        x=frame.left + frame.plot_width / 2,
        y=base + 30,
        class_="axis-label",
        text_anchor="middle",
    )
    plot = el(root, "g", class_="bars")
    for i, bar in enumerate(bars):
        y = frame.top + row_height * i + 6
        height = row_height - 12
        total = bar.total()
        group = el(plot, "g", class_="bar", data_label=bar.label, data_total=total)
        el(
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
            el(
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
            segment(group, bar, name, (x, y, length, height))
            x += length
        el(
            group,
            "text",
            _row_figure(bar, series, share),
            x=frame.left + frame.plot_width + 8,
            y=y + height / 2 + 4,
            class_="bar-total",
        )
    if not any(b.total() for b in bars):
        draw_empty_note(root, frame, empty_note)
    legend(root, lines, frame)
    return markup(root)


def _row_figure(bar: Bar, series: Sequence[str], share: bool) -> str:
    """What is written at a row's end: the first series' share, or the row's total."""
    total = bar.total()
    if not share:
        return number(total)
    if total == 0:
        return "none"
    first = bar.values.get(series[0], 0)
    return f"{percent(first, total)} of {number(total)}"
