"""Condition and frequency spec strings: ``'rest=T0,left=T1@13Hz'``, ``'13,17,21'``.

The command-line form of a condition mapping (:func:`parse_conditions`)::

    rest=T0,left=T1,right=T2        one code per condition
    stim=2|3|4                      several codes pooled into one condition
    left=T1@13Hz                    the condition carries 13 Hz ('@13' also works)
    f13=2, 13Hz=2                   names of the form f<number> or <number>Hz carry that frequency

:func:`parse_condition_frequencies` reads the frequencies a spec gives its
conditions (``@<f>Hz`` suffixes, else names such as ``f13``;
:func:`frequency_from_name`), and :func:`parse_frequencies` reads a list of
stimulation frequencies (``'13,17,21'``, ``'40Hz, 7.5'``). Every error is a
one-line :class:`~harmonix.errors.ParameterError` quoting the spec. Nothing
here looks at a recording: :mod:`harmonix.io.conditions` matches the parsed
codes against its events.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from harmonix.errors import ParameterError

__all__ = [
    "frequency_from_name",
    "parse_condition_frequencies",
    "parse_conditions",
    "parse_frequencies",
]

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_FREQ_VALUE = re.compile(rf"^({_NUMBER})\s*(?:hz)?$", re.IGNORECASE)
_FREQ_NAME = re.compile(rf"^(?:f\s*({_NUMBER})\s*(?:hz)?|({_NUMBER})\s*hz)$", re.IGNORECASE)
_RESERVED = set("=,|@")


def frequency_from_name(name: str) -> float | None:
    """The frequency a condition name denotes: ``'f13'``, ``'13Hz'``, ``'13.5 Hz'``, ``'f40hz'``; else None.

    A bare number (``'13'``) is not read as a frequency: it is usually an event code.

    Examples
    --------
    >>> frequency_from_name("f13"), frequency_from_name("21Hz"), frequency_from_name("rest"), frequency_from_name("2")
    (13.0, 21.0, None, None)
    """
    m = _FREQ_NAME.match(str(name).strip())
    if not m:
        return None
    value = float(m.group(1) or m.group(2))
    return value if value > 0 else None


def _split_spec(spec: str) -> list[tuple[str, tuple[str, ...], float | None]]:
    """``[(name, codes, frequency-after-@ or None), ...]`` with one-line errors."""
    if not isinstance(spec, str) or not spec.strip():
        raise ParameterError(f"conditions: expected 'name=code,...' (e.g. 'rest=T0,left=T1'), got {spec!r}")
    out: list[tuple[str, tuple[str, ...], float | None]] = []
    seen: set[str] = set()
    for item in spec.split(","):
        item = item.strip()
        if not item:
            raise ParameterError(f"conditions {spec!r}: empty entry (two commas, or a trailing comma)")
        if "=" not in item:
            raise ParameterError(f"conditions {spec!r}: entry {item!r} is not name=code (e.g. 'rest=T0')")
        name, rhs = (part.strip() for part in item.split("=", 1))
        if not name:
            raise ParameterError(f"conditions {spec!r}: entry {item!r} has no condition name before '='")
        if _RESERVED & set(name):
            raise ParameterError(f"conditions {spec!r}: condition name {name!r} may not contain = , | @")
        if name in seen:
            raise ParameterError(f"conditions {spec!r}: condition name {name!r} is given twice; "
                                 f"pool codes with '|' instead (e.g. '{name}=1|2')")
        seen.add(name)
        freq = None
        if "@" in rhs:
            rhs, ftext = (part.strip() for part in rhs.rsplit("@", 1))
            m = _FREQ_VALUE.match(ftext)
            if not m or float(m.group(1)) <= 0:
                raise ParameterError(f"conditions {spec!r}: {name!r}: frequency after '@' must be a positive "
                                     f"number of Hz (e.g. '@13Hz'), got {ftext!r}")
            freq = float(m.group(1))
        codes = tuple(code.strip() for code in rhs.split("|"))
        if not rhs or any(not code for code in codes):
            raise ParameterError(f"conditions {spec!r}: condition {name!r} needs event codes after '=' "
                                 f"(e.g. '{name}=T1' or '{name}=1|2')")
        if "=" in rhs:
            raise ParameterError(f"conditions {spec!r}: entry {item!r} has more than one '='")
        out.append((name, tuple(dict.fromkeys(codes)), freq))
    return out


def parse_conditions(spec: str) -> dict[str, tuple[str, ...]]:
    """Parse ``'rest=T0,left=T1,right=T2'`` into ``{name: codes}``.

    Syntax: comma-separated ``name=code``; ``|`` pools several codes into one
    condition (``stim=2|3|4``); an optional ``@<f>Hz`` after the codes gives
    the condition's stimulation frequency (``left=T1@13Hz``; read with
    :func:`parse_condition_frequencies`, stripped here). Spaces around items
    are ignored; names may not contain ``= , | @``.

    Raises
    ------
    ParameterError
        Empty spec or entry, an entry without ``=``, no codes, a repeated
        name, a malformed frequency.

    Examples
    --------
    >>> parse_conditions("rest=T0, left=T1,right=T2")
    {'rest': ('T0',), 'left': ('T1',), 'right': ('T2',)}
    >>> parse_conditions("stim=2|3|4@13Hz")
    {'stim': ('2', '3', '4')}
    """
    return {name: codes for name, codes, _ in _split_spec(spec)}


def parse_condition_frequencies(spec: str) -> dict[str, float]:
    """Frequencies (Hz) the conditions of a spec carry: ``@<f>Hz`` suffixes, else names like ``f13``/``13Hz``.

    Examples
    --------
    >>> parse_condition_frequencies("rest=1,f13=2,f21=3,fast=4@17")
    {'f13': 13.0, 'f21': 21.0, 'fast': 17.0}
    """
    out = {}
    for name, _, freq in _split_spec(spec):
        freq = freq if freq is not None else frequency_from_name(name)
        if freq is not None:
            out[name] = freq
    return out


def parse_frequencies(spec: str | Sequence[float]) -> tuple[float, ...]:
    """Parse ``'13,17,21'`` (or ``'13Hz, 17.5'``, or a sequence of numbers) into positive frequencies.

    Raises
    ------
    ParameterError
        Empty, not a number, not positive or finite, or a frequency given twice.

    Examples
    --------
    >>> parse_frequencies("13,17,21")
    (13.0, 17.0, 21.0)
    >>> parse_frequencies("40Hz, 7.5")
    (40.0, 7.5)
    """
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    if not items or (isinstance(spec, str) and not spec.strip()):
        raise ParameterError(f"frequencies: expected comma-separated Hz values (e.g. '13,17,21'), got {spec!r}")
    out: list[float] = []
    for item in items:
        if isinstance(item, str):
            text = item.strip()
            m = _FREQ_VALUE.match(text)
            if not m:
                raise ParameterError(f"frequencies {spec!r}: {text!r} is not a frequency in Hz (e.g. '13' or '13Hz')")
            value = float(m.group(1))
        else:
            try:
                value = float(item)
            except (TypeError, ValueError) as err:
                raise ParameterError(f"frequencies {spec!r}: {item!r} is not a number") from err
        if not (math.isfinite(value) and value > 0):
            raise ParameterError(f"frequencies {spec!r}: {value:g} Hz is not a positive frequency")
        if value in out:
            raise ParameterError(f"frequencies {spec!r}: {value:g} Hz is given twice")
        out.append(value)
    return tuple(out)

