"""One exception family for everything a user can get wrong.

Every message says what was wrong, with which input, and what to do about it.
The CLI prints ``str(error)`` on one line and exits with status 2.
"""

from __future__ import annotations

from os import PathLike


class HarmonixError(Exception):
    """Base class of all errors caused by user input or parameters."""


class InputFileError(HarmonixError):
    """A file is missing, unreadable, truncated, or of an unknown format."""


class DataQualityError(HarmonixError):
    """The samples cannot be analysed: NaN/Inf values, flat or silent signals."""


class ParameterError(HarmonixError):
    """A parameter is invalid for this input (recording too short, band above Nyquist, ...)."""


class ChannelError(HarmonixError):
    """Channels are missing, unmatched, or cannot be given a montage."""


def describe_source(source: str | PathLike | None) -> str:
    """Return a short label for messages: the file name, or ``'<array>'``."""
    if source is None:
        return "<array>"
    return str(source)


class OutputError(HarmonixError):
    """An output cannot be written (not a folder, not writable, would overwrite foreign files)."""


class DataWarning(RuntimeWarning):
    """An input had a problem that harmonix worked around, and the result depends on how.

    Examples: an EDF header whose record count disagrees with the file size,
    BrainVision markers past the end of the data (a truncated copy), a
    headset CSV repaired on request. Each is also recorded in the output's
    ``params.json``; the CLI prints each as one ``harmonix: warning:`` line,
    also with ``--quiet``.
    """
