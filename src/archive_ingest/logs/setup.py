"""Install the command's log format on stderr.

``text`` (the default) is what the command always printed: ``LEVEL logger: message`` lines
and the people's lines of :data:`archive_ingest.cli_support.err`. ``json``: every line on
stderr is one JSON object (``json_lines``): the log records, and also whatever else would have
gone to stderr (the people's lines, ``warnings``, an uncaught exception's traceback), each
turned into a record of its own (``archive_ingest.console``: ``error:`` lines at ERROR,
``warning:`` lines at WARNING, the rest at INFO). Handlers other libraries put on stderr
(Prefect's console handlers) are taken over by :func:`adopt_stream_handlers`, so no line comes
twice and none comes as text. Text written without a final newline becomes its record on
``flush()`` or at exit; each thread's partial text is its own (two threads' halves never
merge). Only what goes through ``sys.stderr`` is turned into JSON: the bytes a child process
(an OCR tool, a subprocess) writes to file descriptor 2 itself are not; the code that starts
one captures its stderr and logs it instead.
"""

from __future__ import annotations

import atexit
import io
import json
import logging
import re
import sys
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, TextIO

from archive_ingest.logs.json_lines import ContextFilter, JsonFormatter

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")
#: the logger of the lines that reached stderr without a logger (the people's lines)
CONSOLE_LOGGER = "archive_ingest.console"
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class _Json:
    handler: logging.Handler
    stderr: TextIO  # the real one, where the JSON lines go


_json: _Json | None = None


def json_enabled() -> bool:
    """Whether this process logs JSON lines (a progress bar would break them)."""
    return _json is not None


def real_stderr() -> TextIO:
    """The process's stderr, also while JSON mode has put its line catcher in ``sys.stderr``."""
    return _json.stderr if _json is not None else sys.stderr


def configure(log_format: LogFormat, *, level: int | None = logging.WARNING) -> None:
    """Install ``log_format`` on the root logger (``level``; None: leave it). JSON is installed
    once per process; text only when nothing else configured the root logger (basicConfig)."""
    if log_format == "text":
        if level is not None:
            logging.basicConfig(level=level, stream=sys.stderr, format=TEXT_FORMAT)
        return
    global _json
    if _json is None:
        stream = sys.stderr
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(ContextFilter())
        _json = _Json(handler=handler, stderr=stream)
        lines = _ConsoleLines(_json)
        sys.stderr = lines
        atexit.register(lines.flush_all)  # after logging's own (atexit runs the last first)
        logging.captureWarnings(True)  # the filters stay as in text mode: the same warnings
        sys.excepthook = _log_uncaught
        threading.excepthook = _log_uncaught_in_thread
    if level is not None:
        logging.getLogger().setLevel(level)
    adopt_stream_handlers()


def adopt_stream_handlers() -> None:
    """JSON mode: every handler that writes to stderr (Prefect's console handlers, a
    basicConfig) is replaced by the JSON handler: on the root logger and on each logger that
    does not pass its records on to it; elsewhere it is only removed (the root writes them)."""
    if _json is None:
        return
    ours = _json.handler
    stderr_streams = (_json.stderr, sys.stderr, sys.__stderr__)
    manager = logging.Logger.manager
    loggers = [logging.getLogger()] + [
        logger for logger in list(manager.loggerDict.values()) if isinstance(logger, logging.Logger)
    ]
    root = logging.getLogger()
    for logger in loggers:
        removed = False
        for handler in list(logger.handlers):
            if handler is ours or isinstance(handler, logging.FileHandler):
                continue
            if isinstance(handler, logging.StreamHandler) and any(
                handler.stream is stream for stream in stderr_streams
            ):
                logger.removeHandler(handler)
                removed = True
        own = logger is root or (removed and not logger.propagate)
        if own and ours not in logger.handlers:
            logger.addHandler(ours)
    logging.getLogger(CONSOLE_LOGGER).setLevel(logging.INFO)


def _emit(name: str, level: int, message: str, exc_info: _ExcInfo | None = None) -> None:
    """A record straight to the JSON handler: also while ``logging.disable`` is on (a Ctrl-C
    turns logging off, then prints its one line)."""
    if _json is None:
        return
    record = logging.getLogger(name).makeRecord(name, level, "", 0, message, (), exc_info)
    _json.handler.handle(record)


_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    message = f"uncaught {kind.__name__}: {value}"
    _emit("archive_ingest", logging.CRITICAL, message, (kind, value, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or isinstance(args.exc_value, SystemExit):
        return
    name = args.thread.name if args.thread is not None else "?"
    exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
    message = f"uncaught in thread {name}: {args.exc_type.__name__}: {args.exc_value}"
    _emit("archive_ingest", logging.CRITICAL, message, exc_info)


def _level_of(line: str) -> tuple[int, str]:
    """The level a person's line stands for, and the line without its ``error:`` prefix."""
    for prefix, level in (("error:", logging.ERROR), ("warning:", logging.WARNING)):
        if line.lower().startswith(prefix):
            return level, line[len(prefix) :].strip()
    return logging.INFO, line


class _ConsoleLines(io.TextIOBase):
    """``sys.stderr`` in JSON mode: each line written becomes one JSON record."""

    def __init__(self, target: _Json) -> None:
        super().__init__()
        self._target = target
        self._pending: dict[int, str] = {}  # per thread: its text after its last newline
        self._lock = threading.RLock()
        self._inside = threading.local()

    @property
    def encoding(self) -> str:  # type: ignore[override]  # read-only on TextIOBase
        return "utf-8"

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._target.stderr.fileno()

    def write(self, text: str) -> int:
        key = threading.get_ident()
        with self._lock:
            *lines, rest = (self._pending.pop(key, "") + text).split("\n")
            if rest:
                self._pending[key] = rest
        for line in lines:
            self._line(line)
        return len(text)

    def flush(self) -> None:
        """The calling thread's text without its newline yet becomes its record."""
        with self._lock:
            rest = self._pending.pop(threading.get_ident(), "")
        if rest:
            self._line(rest)
        self._target.stderr.flush()

    def flush_all(self) -> None:
        """Every thread's pending text (at exit)."""
        with self._lock:
            rests, self._pending = list(self._pending.values()), {}
        for rest in rests:
            self._line(rest)
        self._target.stderr.flush()

    def _line(self, line: str) -> None:
        clean = _ANSI.sub("", line).rstrip()
        if not clean.strip():
            return
        if getattr(self._inside, "active", False):  # the handler itself wrote to stderr
            self._target.stderr.write(json.dumps({"message": clean}) + "\n")
            return
        self._inside.active = True
        try:
            _emit(CONSOLE_LOGGER, *_level_of(clean))
        finally:
            self._inside.active = False
