"""The screen of `archive-ingest status`: a :class:`~archive_ingest.monitoring.status.StatusReport`
as rich tables for a person at a terminal (``--json`` prints the report itself).

One headline (the health and what makes it so), then five tables: Services, Last runs, Queues,
Storage targets and Items. Every state is spelled out in words as well as colour (``up``,
``DOWN``, ``on demand``), so the screen reads the same without colour or through a pipe.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable

from rich import box
from rich.console import Console, Group, RenderableType
from rich.filesize import decimal
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from archive_ingest.monitoring.status_model import StatusReport, TargetReport

HEALTH_STYLE = {"ok": "bold green", "degraded": "bold yellow", "down": "bold red"}
HEADINGS = ("Services", "Last runs", "Queues", "Storage targets", "Items")
#: the @font-face rules of rich's SVG (they fetch a font from a CDN): removed, so that the
#: picture uses the reader's monospace font and loads nothing
_FONT_FACE = re.compile(r"@font-face \{.*?\}\s*", re.S)


def age(seconds: float | None) -> str:
    """``42 s``, ``5 min``, ``3 h 12 min``, ``4 d 2 h``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, hours, days = whole // 60, whole // 3600, whole // 86400
    if whole < 3600:
        return f"{minutes} min"
    if whole < 86400:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"


def when(at: dt.datetime | None) -> str:
    return "never" if at is None else at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def status_screen(report: StatusReport) -> RenderableType:
    """Everything on one screen (a rich renderable: print it, or record it for an SVG)."""
    return Group(
        _headline(report),
        _services(report),
        _last_runs(report),
        _queues(report),
        _targets(report),
        _items(report),
    )


def status_svg(report: StatusReport, *, width: int = 110) -> str:
    """The screen as an SVG picture (docs/images/status.svg), self-contained."""
    console = Console(record=True, width=width, file=io.StringIO(), force_terminal=True)
    console.print(status_screen(report))
    return _FONT_FACE.sub("", console.export_svg(title="archive-ingest status"))


def _headline(report: StatusReport) -> RenderableType:
    line = Text.assemble(
        ("archive-ingest status: ", "bold"),
        (report.health.upper(), HEALTH_STYLE[report.health]),
        f"  ({when(report.generated_at)})",
    )
    problems = [
        Text.assemble(
            ("  DOWN  " if p.severity == "down" else "  NOTE  ", _severity_style(p.severity)),
            p.what,
        )
        for p in report.problems
    ]
    return Group(line, *problems, Text(""))


def _severity_style(severity: str) -> str:
    return "red" if severity == "down" else "yellow"


def _table(title: str, *columns: str, right: Iterable[str] = ()) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    numeric = set(right)
    for column in columns:
        table.add_column(
            column,
            justify="right" if column in numeric else "left",
            # an address is cut nowhere (folded onto the next line when it is too long)
            overflow="fold" if column == "Where" else "ellipsis",
            no_wrap=column in ("Service", "State"),
        )
    return table


def _state(up: bool | None, *, on_demand: bool = False, optional: bool = False) -> Text:
    if up:
        return Text("up", style="green")
    if on_demand:
        return Text("on demand", style="cyan")
    if up is None:
        return Text("-", style="dim")
    return Text("down", style="dim" if optional else "bold red")


def _services(report: StatusReport) -> Table:
    table = _table("Services", "Service", "State", "Where", "Detail")
    catalogue = report.services.catalogue
    table.add_row(
        "catalogue",
        _state(catalogue.up),
        escape(catalogue.database),
        escape(catalogue.detail),
    )
    for target in report.targets:
        if target.configured:
            table.add_row(
                f"storage {escape(target.name)}",
                _state(target.up, on_demand=target.on_demand),
                escape(f"{target.endpoint} {target.bucket}"),
                escape(_target_detail(target)),
            )
    prefect = report.services.prefect
    if prefect is not None:
        table.add_row(
            f"Prefect API ({prefect.mode})",
            _state(prefect.up, on_demand=prefect.on_demand),
            escape(prefect.url or "-"),
            escape(prefect.detail),
        )
    web = report.services.web
    if web is not None:
        table.add_row(
            "review web (serve)",
            _state(web.up, optional=True),
            escape(web.url),
            escape(web.detail),
        )
    for tool in report.services.tools:
        table.add_row(
            f"tool {tool.name}",
            _state(tool.found, optional=not tool.required),
            escape(tool.path or "-"),
            f"{tool.stage}, {'required' if tool.required else 'optional'}",
        )
    return table


def _target_detail(target: TargetReport) -> str:
    if target.on_demand:
        return "embedded server stopped: commands that write start it"
    if not target.up:
        return target.detail
    flags = [
        f"versioning {'on' if target.versioning else 'OFF'}",
        f"lock {'on' if target.object_lock else 'OFF'}",
    ]
    if target.default_retention:
        flags.append(f"retention {target.default_retention}")
    if not target.bucket_exists:
        flags.insert(0, "bucket MISSING")
    return ", ".join(flags)


def _last_runs(report: StatusReport) -> Table:
    table = _table("Last runs", "Job", "Last run", "Age", "Outcome", "Last success")
    for run in report.last_runs:
        outcome = Text(run.outcome or "-")
        if run.outcome in ("failure", "failed"):
            outcome.stylize("bold red")
        table.add_row(run.job, when(run.at), age(run.age_seconds), outcome, when(run.last_success))
    if not report.figures_read:
        table.add_row("-", "not read", "", "", "")
    prefect = report.services.prefect
    for flow_run in prefect.flow_runs if prefect else []:
        ended = flow_run.ended_at
        seconds = None if ended is None else (report.generated_at - ended).total_seconds()
        table.add_row(
            f"flow {escape(flow_run.flow)}",
            when(ended),
            age(seconds),
            Text(flow_run.state, style="bold red" if flow_run.failed else ""),
            "-",
        )
    if prefect is not None and prefect.flow_runs_detail:
        table.add_row("flows", escape(prefect.flow_runs_detail), "", "", "")
    return table


def _queues(report: StatusReport) -> Table:
    table = _table("Queues", "Queue", "Items", "Oldest", right=("Items",))
    queues = report.queues
    if queues is None:
        table.add_row("-", "not read", "")
        return table
    rows = [
        ("review (needs_review)", queues.review, age(queues.review_oldest_age_seconds), False),
        ("failed", queues.failed, "", True),
        ("under_replicated", queues.under_replicated, "", True),
        ("approved, deposit pending", queues.approved, "", False),
        (
            f"stuck (> {queues.stuck_after_hours:g} h)",
            queues.stuck,
            age(queues.stuck_oldest_age_seconds),
            True,
        ),
    ]
    for name, count, oldest, alarming in rows:
        shown = Text(str(count), style="bold yellow" if alarming and count else "")
        table.add_row(name, shown, oldest)
    return table


def _targets(report: StatusReport) -> Table:
    numeric = ("Verified", "Not verified", "Objects", "Bytes", "Audit findings")
    table = _table("Storage targets", "Target", *numeric, right=numeric)
    for target in report.targets:
        if not report.figures_read:
            table.add_row(escape(target.name), *(["not read"] * len(numeric)))
            continue
        other = sum(n for s, n in target.copies.items() if s != "verified")
        detail = ", ".join(f"{n} {s}" for s, n in sorted(target.copies.items()) if s != "verified")
        findings = sum(target.findings.values())
        table.add_row(
            escape(target.name + ("" if target.configured else " (not configured)")),
            str(target.copies.get("verified", 0)),
            Text(f"{other} ({detail})" if other else "0", style="bold yellow" if other else ""),
            str(target.objects),
            decimal(target.bytes),
            Text(str(findings), style="bold red" if findings else ""),
        )
    table.caption = f"copies_required: {report.copies_required}"
    return table


def _items(report: StatusReport) -> Table:
    table = _table("Items", "State", "Items", right=("Items",))
    if not report.figures_read:
        table.add_row("-", "not read")
        return table
    shown = {state: n for state, n in report.items.items() if n}
    for state, count in shown.items():
        table.add_row(state, str(count))
    table.add_row(Text("total", style="bold"), Text(str(sum(shown.values())), style="bold"))
    return table
