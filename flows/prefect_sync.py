"""Prefect's dual sync/async calls, as the synchronous calls the flows make.

``run_deployment``, ``Flow.from_source``, ``Flow.to_deployment`` and ``RunnerDeployment.apply``
look at their caller: from synchronous code they return the value, from a coroutine an
awaitable. Their types say "either"; the flows only call them from synchronous code, and
:func:`sync` narrows the type to the value (failing loudly if that ever stops being true).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")


def sync(value: _T | Coroutine[Any, Any, _T]) -> _T:
    """The value of a Prefect call made from synchronous code."""
    if isinstance(value, Coroutine):
        value.close()  # never awaited: no "coroutine was never awaited" warning
        raise RuntimeError("a Prefect call made from async code returned a coroutine")
    return value
