"""Every flow's log lines name its Prefect flow run (``run_id``), and a flow run a worker
started logs in the ``log_format`` setting (the command line installs it itself: a worker's
flow run never passes through it)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from prefect.context import FlowRunContext

from archive_ingest.logs import context as log_context
from archive_ingest.logs.setup import adopt_stream_handlers, configure, json_enabled
from archive_ingest.settings import get_settings

P = ParamSpec("P")
R = TypeVar("R")


def with_run_logs(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` (a flow's function, under ``@flow``) with its flow run's id bound for every log
    line it emits, and JSON lines installed first when ``log_format`` is json."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if get_settings().log_format == "json" and not json_enabled():
            configure("json", level=None)  # a worker's flow run: Prefect set the level
        adopt_stream_handlers()  # Prefect may have (re)configured its handlers meanwhile
        context = FlowRunContext.get()
        run_id = str(context.flow_run.id) if context and context.flow_run else None
        with log_context.bound(run_id=run_id):
            return fn(*args, **kwargs)

    return run
