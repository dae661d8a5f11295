"""review/charts.py and review/health.py: the SVG the health page draws (pure, no browser).

The SVG is parsed back with ElementTree: bars' sizes are proportional to their values, each
segment sits on the one below it, every chart has a title, a description and axis labels,
numbers are written as text, text is escaped, and an empty archive draws a note, not bars."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from archive_ingest.monitoring.history import (
    AgeBucket,
    DayOutcomes,
    HealthHistory,
    TargetCopies,
    TargetCoverage,
)
from archive_ingest.review import charts, health, svg
from archive_ingest.review.svg import Bar

NS = {"s": svg.SVG_NS}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def segments(root: ET.Element) -> list[ET.Element]:
    return root.findall(".//s:rect[@class]", NS) and [
        r for r in root.iter(f"{{{svg.SVG_NS}}}rect") if "segment" in r.get("class", "")
    ]


def texts(root: ET.Element, cls: str) -> list[str]:
    return [t.text or "" for t in root.iter(f"{{{svg.SVG_NS}}}text") if t.get("class") == cls]


def test_column_heights_are_proportional_and_stacked() -> None:
    bars = [Bar("a", {"x": 1, "y": 2}), Bar("b", {"x": 4}), Bar("c", {}), Bar("d", {"y": 8})]
    root = parse(charts.column_chart("c1", "T", "D", bars, ["x", "y"], x_label="X", y_label="Y"))
    rects = segments(root)
    assert [(r.get("data-series"), r.get("data-value")) for r in rects] == [
        ("x", "1"),
        ("y", "2"),
        ("x", "4"),
        ("y", "8"),
    ]  # no rectangle for a zero
    heights = [float(r.get("height", "0")) for r in rects]
    unit = heights[0]
    assert unit > 0
    for h, v in zip(heights, (1, 2, 4, 8), strict=True):
        assert h == pytest.approx(v * unit, rel=1e-3)
    # y's segment of bar a starts where x's ends (stacked, growing upwards)
    x_a, y_a = rects[0], rects[1]
    assert float(y_a.get("y", "0")) + float(y_a.get("height", "0")) == pytest.approx(
        float(x_a.get("y", "0")), abs=0.01
    )
    # every bar sits on the same base line
    bottoms = {
        round(float(r.get("y", "0")) + float(r.get("height", "0")), 1)
        for r in (rects[0], rects[2], rects[3])
    }
    assert len(bottoms) == 1
    assert texts(root, "bar-total") == ["3", "4", "8"]
    assert texts(root, "axis-label") == ["Y", "X"]
    groups = [g for g in root.iter(f"{{{svg.SVG_NS}}}g") if g.get("class") == "bar"]
    assert [g.get("data-total") for g in groups] == ["3", "4", "0", "8"]


def test_the_axis_top_is_a_round_number_above_the_largest_bar() -> None:
    assert [svg.axis_max(v) for v in (0, 1, 5, 7, 13, 99, 101, 4321)] == [
        1,
        1,
        5,
        8,
        15,
        100,
        150,
        5000,
    ]
    root = parse(
        charts.column_chart("c", "T", "D", [Bar("a", {"x": 7})], ["x"], x_label="X", y_label="Y")
    )
    assert texts(root, "tick")[:5] == ["0", "2", "4", "6", "8"]


def test_title_description_and_role() -> None:
    root = parse(
        charts.column_chart("c9", "Title <b>", "Desc & more", [], ["x"], x_label="X", y_label="Y")
    )
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c9-title c9-desc"
    assert root.find("s:title", NS).text == "Title <b>"  # type: ignore[union-attr]
    assert root.find("s:desc", NS).text == "Desc & more"  # type: ignore[union-attr]
    raw = str(
        charts.column_chart(
            "c9", "<script>", "D", [Bar("<i>", {"x": 1})], ["x"], x_label="X", y_label="Y"
        )
    )
    assert "<script>" not in raw and "&lt;script&gt;" in raw and "<i>" not in raw


def test_empty_charts_say_so() -> None:
    root = parse(
        charts.column_chart(
            "e",
            "T",
            "D",
            [Bar("a"), Bar("b")],
            ["x"],
            x_label="X",
            y_label="Y",
            empty_note="Nothing",
        )
    )
    assert segments(root) == [] and texts(root, "empty-note") == ["Nothing"]
    row = parse(charts.row_chart("r", "T", "D", [], ["x"], x_label="X", empty_note="None yet"))
    assert texts(row, "empty-note") == ["None yet"]


def test_row_chart_shared_scale_and_share() -> None:
    bars = [Bar("one", {"a": 2, "b": 2}), Bar("two", {"a": 1})]
    shared = parse(charts.row_chart("r", "T", "D", bars, ["a", "b"], x_label="X"))
    widths = [float(r.get("width", "0")) for r in segments(shared)]
    assert widths[0] == pytest.approx(widths[1]) and widths[0] == pytest.approx(2 * widths[2])
    assert texts(shared, "bar-total") == ["4", "1"]
    gauge = parse(charts.row_chart("g", "T", "D", bars, ["a", "b"], x_label="X", share=True))
    widths = [float(r.get("width", "0")) for r in segments(gauge)]
    # each row fills the plot width for its own total: "two" is all a
    assert widths[0] + widths[1] == pytest.approx(widths[2])
    assert texts(gauge, "bar-total") == ["50% of 4", "100% of 1"]
    legend = texts(gauge, "legend-label")
    assert legend == ["a (3)", "b (2)"]


def test_percent_floors() -> None:
    assert [svg.percent(p, w) for p, w in ((999, 1000), (1, 3), (0, 0), (5, 5))] == [
        "99%",
        "33%",
        "0%",
        "100%",
    ]


def _history() -> HealthHistory:
    now = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
    days = [
        DayOutcomes(
            day=dt.date(2026, 5, 17) + dt.timedelta(days=i),
            counts={"deposited": i % 3, "failed": 1 if i == 29 else 0},
        )
        for i in range(30)
    ]
    return HealthHistory(
        now=now,
        days=days,
        queue_ages=[
            AgeBucket(label="< 1 day", min_days=0, count=4),
            AgeBucket(label="1-3 days", min_days=1, count=2),
        ],
        cycle_days=30,
        coverage=[
            TargetCoverage(target="primary", objects=10, within_cycle=9, never_hashed=1),
            TargetCoverage(target="offsite", objects=10, within_cycle=5, never_hashed=0),
        ],
        copies=[
            TargetCopies(target="primary", verified=5, missing=1),
            TargetCopies(target="offsite", verified=3, failed=2),
        ],
    )


def test_health_charts_carry_the_figures() -> None:
    daily, queue, coverage, copies = health.health_charts(_history())
    root = parse(daily.svg)
    groups = [g for g in root.iter(f"{{{svg.SVG_NS}}}g") if g.get("class") == "bar"]
    assert len(groups) == 30 and groups[-1].get("data-label") == "06-15"
    assert groups[-1].get("data-total") == str(29 % 3 + 1)
    assert "2026-06-15: deposited 2, failed 1" in root.find("s:desc", NS).text  # type: ignore[operator, union-attr]
    assert [t for t in texts(root, "tick") if "-" in t] == [
        "05-17",
        "05-22",
        "05-27",
        "06-01",
        "06-06",
        "06-11",
        "06-15",
    ]

    assert texts(parse(queue.svg), "bar-total") == ["4", "2"]
    cov = parse(coverage.svg)
    labels = [
        g.get("data-label") for g in cov.iter(f"{{{svg.SVG_NS}}}g") if g.get("class") == "bar"
    ]
    assert labels == ["all targets", "primary", "offsite"]
    assert texts(cov, "bar-total") == ["70% of 20", "90% of 10", "50% of 10"]
    assert texts(parse(copies.svg), "bar-total") == ["6", "5"]
