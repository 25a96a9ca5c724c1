"""The argument parser's parts: one-line usage errors, defaults in help, validated numbers and values."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from harmonix.errors import ParameterError

if TYPE_CHECKING:
    from harmonix.spectral.bands import Band


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one :class:`ParameterError` line, like every other bad input."""

    def error(self, message: str):
        raise ParameterError(f"{self.prog}: {message} (see {self.prog} --help)")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written, and every option's default shown unless its help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("default" in text.lower() or default in (None, False, argparse.SUPPRESS)
                or not action.option_strings or isinstance(default, bool)):
            return text
        return f"{text} (default: %(default)s)"


def _number(kind: type, name: str, *, low: float, inclusive: bool = True):
    """An argparse type: a ``kind`` number >= ``low`` (or > ``low``), with a message naming the bound."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if kind is int else ' number'}") from None
        if not (value >= low if inclusive else value > low) or (kind is float and value != value):
            raise argparse.ArgumentTypeError(f"{text}: {name} must be {'>=' if inclusive else '>'} {low:g}")
        return value

    parse.__name__ = name
    return parse


COUNT = _number(int, "a count", low=1)
SEED = _number(int, "a seed", low=0)
SECONDS = _number(float, "a duration in s", low=0, inclusive=False)
HERTZ = _number(float, "a rate in Hz", low=0, inclusive=False)
NON_NEGATIVE = _number(float, "this value", low=0)
__all__ = ["COUNT", "HERTZ", "NON_NEGATIVE", "SECONDS", "SEED", "HelpFormatter", "Parser"]


def parse_bands(spec: str | None) -> tuple[tuple["Band", ...], bool]:
    """Bands from ``--bands``: a CSV path, or ``name[,name]`` / ``name=lo-hi`` items.

    Returns the bands and whether the user chose them (then every band must be
    measurable in each recording, otherwise it is an error).
    """
    # Imported here: the band tables pull in the spectral stack, which a resumed batch never needs.
    from harmonix.spectral.bands import Band, load_bands

    if spec is None:
        return load_bands(), False
    if Path(spec).is_file():
        return load_bands(spec), True
    defaults = {b.name: b for b in load_bands()}
    chosen = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, limits = item.partition("=")
        if limits:
            try:
                low, high = (float(v) for v in limits.split("-"))
            except ValueError:
                raise ParameterError(f"--bands item {item!r}: write a custom band as name=fmin-fmax, e.g. sigma=12-15") from None
            chosen.append(Band(name, low, high))
        elif name in defaults:
            chosen.append(defaults[name])
        else:
            raise ParameterError(
                f"--bands: unknown band {name!r}; choose from {', '.join(defaults)}, write name=fmin-fmax, or give a CSV file"
            )
    return load_bands(chosen), True


def parse_channel_types(spec: str | None) -> dict[str, str] | None:
    """``"Right AUX=eeg,EXG1=eog"`` as ``{"Right AUX": "eeg", "EXG1": "eog"}``; a malformed pair is a usage error."""
    if not spec:
        return None
    types = {}
    for pair in spec.split(","):
        name, sep, kind = pair.partition("=")
        if not sep or not name.strip() or not kind.strip():
            raise ParameterError(f"--channel-types {spec!r}: each item must be NAME=TYPE (e.g. 'Right AUX=eeg')")
        types[name.strip()] = kind.strip().lower()
    return types
