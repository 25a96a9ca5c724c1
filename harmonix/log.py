"""One package logger, with MNE's ``verbose`` convention.

Every harmonix module logs through ``logging.getLogger("harmonix")`` (or a
child, ``harmonix.<module>``). ``verbose`` is read as MNE reads it: ``True``
is INFO, ``False`` WARNING, a level name or number that level, ``None`` the
current level.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from harmonix.errors import ParameterError

logger = logging.getLogger("harmonix")

__all__ = ["logger", "set_log_level", "verbosity"]


def _level(verbose: bool | str | int | None) -> int | None:
    if verbose is None:
        return None
    if isinstance(verbose, bool):
        return logging.INFO if verbose else logging.WARNING
    if isinstance(verbose, int):
        return verbose
    level = logging.getLevelName(str(verbose).upper())
    if not isinstance(level, int):
        raise ParameterError(f"verbose={verbose!r}: use True, False, a level name (DEBUG, INFO, WARNING, ERROR) "
                             "or a number")
    return level


def set_log_level(verbose: bool | str | int | None) -> int:
    """Set the harmonix logger's level; return the previous one.

    Examples
    --------
    >>> previous = set_log_level("INFO")
    >>> logger.getEffectiveLevel() == logging.INFO
    True
    >>> _ = set_log_level(previous)
    """
    previous = logger.level
    level = _level(verbose)
    if level is not None:
        logger.setLevel(level)
    return previous


@contextlib.contextmanager
def verbosity(verbose: bool | str | int | None) -> Iterator[None]:
    """Run a block with the harmonix logger at ``verbose`` (MNE's convention), then restore it."""
    previous = set_log_level(verbose)
    try:
        yield
    finally:
        logger.setLevel(previous)
