"""Progress display for long work: the one place that draws on the terminal.

Three kinds of output, so that they never overwrite each other:

* **bars** (:func:`progress`, :func:`study`): tqdm bars on stderr when it is a
  terminal; nothing with ``--quiet``;
* **stages** (:func:`report_stage`): what the current recording of a study is
  doing (load, spectra, harmonics, proxies, write). On a terminal it is the
  line under the study bar; when stderr is not a terminal (a log file, CI) it
  is a plain line ``harmonix: [2/6] rec: spectra``; nothing with ``--quiet``
  or when no study is running;
* **lines** (:func:`write_line`): results and one-line errors, printed above
  the bars (``tqdm.write``) so that a result is never printed onto a bar.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, TypeVar

T = TypeVar("T")

_QUIET = False
_VERBOSE = False


def set_quiet(quiet: bool) -> None:
    """Silence (or re-enable) every progress bar and stage line in this process (``--quiet``)."""
    global _QUIET
    _QUIET = bool(quiet)


def set_verbose(verbose: bool) -> None:
    """Also show how long each stage took (``--verbose``)."""
    global _VERBOSE
    _VERBOSE = bool(verbose)


def _terminal() -> bool:
    return not _QUIET and sys.stderr.isatty()


class _Study:
    """State of the running study: the bar, the stage line, the current recording."""

    def __init__(self, total: int, desc: str) -> None:
        self.total = total
        self.desc = desc
        self.done = 0
        self.name = ""
        self.stage = ""
        self.stage_started = time.monotonic()
        self.bar = self.line = None
        if _terminal():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="rec", position=0, leave=False, file=sys.stderr,
                            dynamic_ncols=True)
            # A bar-less second line: the current recording and its stage.
            self.line = tqdm(total=0, position=1, bar_format="{desc}", leave=False, file=sys.stderr)

    def _log(self, text: str) -> None:
        if not _QUIET and self.bar is None:
            print(f"harmonix: [{self.done + 1}/{self.total}] {text}", file=sys.stderr, flush=True)

    def start(self, name: str) -> None:
        self.name, self.stage = name, ""
        self.stage_started = time.monotonic()
        if self.line is not None:
            self.line.set_description_str(f"  {name}", refresh=True)

    def set_stage(self, stage: str) -> None:
        now = time.monotonic()
        took = f" (previous stage {now - self.stage_started:.1f} s)" if _VERBOSE and self.stage else ""
        self.stage, self.stage_started = stage, now
        if self.line is not None:
            self.line.set_description_str(f"  {self.name}: {stage}", refresh=True)
        else:
            self._log(f"{self.name}: {stage}{took}")

    def finish(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
            self.line.set_description_str("", refresh=True)

    def close(self) -> None:
        for bar in (self.line, self.bar):
            if bar is not None:
                bar.close()


_ACTIVE: _Study | None = None


@contextlib.contextmanager
def study(total: int, *, desc: str = "recordings") -> Iterator[_Study]:
    """Show a study-level bar (recordings done / total, ETA) and the current stage under it.

    Use :meth:`start(name) <_Study.start>` when a recording begins and
    :meth:`finish() <_Study.finish>` when it ends (written, skipped or
    failed); :func:`report_stage` names what it is doing in between.

    Examples
    --------
    >>> with study(2, desc="analyze") as shown:
    ...     for name in ("a", "b"):
    ...         shown.start(name)
    ...         report_stage("load")
    ...         shown.finish()
    """
    global _ACTIVE
    previous = _ACTIVE
    _ACTIVE = _Study(total, desc)
    try:
        yield _ACTIVE
    finally:
        _ACTIVE.close()
        _ACTIVE = previous


def report_stage(name: str) -> None:
    """Say what the current recording is doing (``'load'``, ``'spectra'``, ``'harmonics'``, ...).

    Shown under the study bar on a terminal, logged as one plain line when
    stderr is not a terminal, silent with ``--quiet``, and a no-op when no
    study is running (library use, worker processes).

    Examples
    --------
    >>> report_stage("spectra")  # nothing is running: nothing happens
    """
    if _ACTIVE is not None:
        _ACTIVE.set_stage(name)


def write_line(text: str, *, file: IO[str] | None = None) -> None:
    """Print one line (a result, or an error on ``file=sys.stderr``) without breaking a bar."""
    file = sys.stdout if file is None else file
    if _ACTIVE is not None and _ACTIVE.bar is not None:
        from tqdm import tqdm

        tqdm.write(text, file=file)
    else:
        print(text, file=file, flush=True)


def stage_line(text: str) -> None:
    """Announce a stage of a long command on stderr (``harmonix: text``), terminal or not; silent with ``--quiet``."""
    if not _QUIET:
        write_line(f"harmonix: {text}", file=sys.stderr)


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str = "", lines: bool = False) -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm bar when stderr is a terminal and not quiet.

    Inside a :func:`study` the bar sits below the study's two lines. With
    ``lines``, when stderr is not a terminal (a log, CI) each item done is
    one plain line ``harmonix: desc 3/36 (41 s)`` instead, so that a long
    loop is never silent.
    """
    if not _terminal():
        if not lines or _QUIET:
            yield from iterable
            return
        started = time.monotonic()
        count = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
        for done, item in enumerate(iterable, start=1):
            yield item
            of = f"/{count}" if count is not None else ""
            print(f"harmonix: {desc} {done}{of} ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
        return
    from tqdm import tqdm

    position = 2 if _ACTIVE is not None and _ACTIVE.bar is not None else None
    yield from tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stderr, position=position)
