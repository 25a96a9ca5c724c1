"""Conditions from events: which stretches of a recording are 'rest', 'left', '13 Hz'.

A *condition* is a name, the event codes mapped to it and its trials, each a
``[start, stop)`` span of samples. Conditions come from

* events and a mapping (:func:`conditions_from_events`): the events of a
  stim channel, of the annotations (EDF+, BrainVision, EEGLAB, BIDS
  ``events.tsv`` read by mne-bids), of a headset CSV's marker columns, of
  :class:`mne.Epochs`, or of a separate events file
  (:func:`read_events_file`); trials are ``[onset + tmin, onset + tmax)``,
  the annotation's own duration, or whole blocks from a start marker to the
  next end marker;
* the JSON sidecar of a protocol rendered by ``harmonix stimulate``
  (:func:`conditions_from_protocol`): each segment becomes a condition,
  placed after the recording's protocol-onset marker, carrying the segment's
  modulation frequency.

The command-line form of a mapping (:func:`parse_conditions`)::

    rest=T0,left=T1,right=T2        one code per condition
    stim=2|3|4                      several codes pooled into one condition
    left=T1@13Hz                    the condition carries 13 Hz ('@13' also works)
    f13=2, 13Hz=2                   names of the form f<number> or <number>Hz carry that frequency

Codes are matched against the event names of each source in turn (stim
channel first, then annotations): an annotation description (``T0``,
``Stimulus/S253``), an integer code as a string (``1``; ``253`` also selects
BrainVision's ``Stimulus/S253``), an ``event_id`` name, or a ``/``-separated
tag (``square`` selects ``square/rt``, as in MNE's epoch selection).

Trials that overlap a ``BAD_``/``EDGE`` annotation or reach beyond the
recording are left out and counted in :attr:`Condition.notes`; every error is
one line naming the file, the condition and what the recording does hold.
Nothing here loads a recording's data: only annotations and stim channels are
read (:func:`condition_trials` then reads just the trials).
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Union

import mne
import numpy as np

from harmonix.errors import InputFileError, ParameterError
from harmonix.io.events import EventList, bad_spans, list_events

__all__ = [
    "Condition",
    "ConditionSpec",
    "condition_trials",
    "conditions_from_events",
    "conditions_from_protocol",
    "frequencies_from_protocol",
    "frequency_from_name",
    "parse_condition_frequencies",
    "parse_conditions",
    "parse_frequencies",
    "read_events_file",
    "read_protocol_sidecar",
]

Instance = Union[mne.io.BaseRaw, mne.BaseEpochs]


@dataclass(frozen=True)
class Condition:
    """One condition and its trials.

    Attributes
    ----------
    name : str
        Condition name (``'rest'``).
    codes : tuple of str
        Event codes / annotation descriptions mapped to it (for a protocol
        condition: the onset marker).
    starts : ndarray of int64, shape (n_trials,)
        First sample of each trial, 0-based from the first sample of the data
        (``raw.first_samp`` removed). For :class:`mne.Epochs`, on the epochs'
        event-sample axis (``epochs.events[:, 0]`` plus the window start).
    stops : ndarray of int64, shape (n_trials,)
        Exclusive end sample of each trial.
    frequency : float | None
        Stimulation frequency (Hz) the condition carries, when known.
    epochs : ndarray of int64 | None
        For Epochs input: indices of the epochs in this condition (``starts``
        and ``stops`` then span the window of each epoch).
    notes : tuple of str
        What was left out and why (``'2 trials left out: overlap BAD_/EDGE
        annotations'``), frequency slides, ...
    origin : str
        Where the events came from (``'annotations'``, ``'stim channel STI'``,
        ``'ssvep_exo_s01-eve.fif'``, ``'protocol sidecar x.json'``).
    window : tuple of float | None
        ``(tmin, tmax)`` in s relative to each event when the trials are a
        fixed window (for Epochs: on ``epochs.times``); ``None`` when they are
        the events' durations or blocks.
    sfreq : float | None
        Sampling rate the samples refer to (Hz).
    """

    name: str
    codes: tuple[str, ...]
    starts: np.ndarray
    stops: np.ndarray
    frequency: float | None = None
    epochs: np.ndarray | None = None
    notes: tuple[str, ...] = ()
    origin: str = ""
    window: tuple[float, float] | None = None
    sfreq: float | None = None

    @property
    def n_trials(self) -> int:
        """Number of trials."""
        return int(len(self.starts))

    @property
    def lengths(self) -> np.ndarray:
        """Trial lengths in samples."""
        return np.asarray(self.stops, dtype=np.int64) - np.asarray(self.starts, dtype=np.int64)

    def describe(self) -> str:
        """One line: ``'rest: 15 trials (T0; annotations), 4.1-4.2 s'``."""
        text = f"{self.name}: {self.n_trials} trial{'s' if self.n_trials != 1 else ''} ({'|'.join(self.codes)}"
        text += f"; {self.origin})" if self.origin else ")"
        if self.sfreq and self.n_trials:
            lo, hi = self.lengths.min() / self.sfreq, self.lengths.max() / self.sfreq
            text += f", {lo:.3g} s" if np.isclose(lo, hi) else f", {lo:.3g}-{hi:.3g} s"
        if self.frequency is not None:
            text += f", {self.frequency:g} Hz"
        if self.notes:
            text += "; " + "; ".join(self.notes)
        return text


# --------------------------------------------------------------------------- parsing

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


# --------------------------------------------------------------------------- events files


def read_events_file(
    path: str | PathLike, *, sfreq: float | None = None, first_samp: int = 0
) -> tuple[np.ndarray, dict[str, int]]:
    """Read an events file into MNE ``(events, event_id)``.

    Formats:

    * MNE events: ``*-eve.fif`` (``.fif``, ``.fif.gz``) or text
      (``.eve``, ``.txt``, ``.lst``), read with :func:`mne.read_events`.
      ``event_id`` names each code by itself (``{'1': 1, ...}``). Samples
      count from the acquisition start, as MNE writes them.
    * BIDS ``*_events.tsv`` (``onset``, ``duration`` and ``trial_type``
      and/or ``value`` columns): the sample is the ``sample`` column when
      present, else ``round(onset * sfreq)``; ``first_samp`` is added so
      that the array follows MNE's convention (pass ``raw.first_samp``).
      Codes are the integer ``value`` column when it has one, else the
      ``trial_type`` names numbered 1..n in sorted order; ``event_id`` maps
      ``trial_type`` (or the code) to the code. Durations are not kept:
      give a window (``tmax``), or load the recording through BIDS
      (:func:`harmonix.io.load_eeg`), which makes them annotations.

    Parameters
    ----------
    path : path-like
        The events file.
    sfreq : float | None
        Sampling rate (Hz), needed for a TSV without a ``sample`` column.
    first_samp : int
        Added to TSV samples (``raw.first_samp``).

    Returns
    -------
    events : ndarray of int64, shape (n_events, 3)
    event_id : dict of str to int

    Raises
    ------
    InputFileError
        Missing, unreadable or malformed file, no events in it, unknown extension.
    ParameterError
        A TSV without a ``sample`` column and no ``sfreq``.

    Examples
    --------
    >>> events, event_id = read_events_file("ssvep_exo_s01-eve.fif")  # doctest: +SKIP
    >>> events.shape, event_id  # doctest: +SKIP
    ((32, 3), {'1': 1, '2': 2, '3': 3, '4': 4})
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: events file not found")
    name = path.name.lower()
    if name.endswith(".tsv"):
        return _read_events_tsv(path, sfreq, int(first_samp))
    if not name.endswith((".fif", ".fif.gz", ".eve", ".txt", ".lst")):
        raise InputFileError(f"{path}: unknown events file type; expected an MNE events file (-eve.fif, .eve, "
                             ".txt, .lst) or a BIDS *_events.tsv")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # naming conventions; corrupt tags end in an error
            events = mne.read_events(path, verbose=False)
    except Exception as err:  # noqa: BLE001 - every reader failure is a problem with this file
        detail = str(err).splitlines()[0] if str(err) else "no detail"
        raise InputFileError(f"{path}: not a readable MNE events file ({type(err).__name__}: {detail})") from err
    events = np.asarray(events, dtype=np.int64)
    if events.ndim != 2 or events.shape[1] != 3:
        raise InputFileError(f"{path}: expected events as rows of (sample, previous, code), got shape {events.shape}")
    if not len(events):
        raise InputFileError(f"{path}: the events file holds no events")
    return events, {str(int(c)): int(c) for c in np.unique(events[:, 2])}


def _read_events_tsv(path: Path, sfreq: float | None, first_samp: int) -> tuple[np.ndarray, dict[str, int]]:
    import pandas as pd

    try:
        table = pd.read_csv(path, sep="\t", na_values=["n/a", "N/A", ""], keep_default_na=True)
    except Exception as err:  # noqa: BLE001
        raise InputFileError(f"{path}: not a readable tab-separated events table ({err})") from err
    if "onset" not in table.columns:
        raise InputFileError(f"{path}: a BIDS events.tsv needs an 'onset' column; columns are "
                             f"{', '.join(map(str, table.columns)) or 'none'}")
    if "trial_type" not in table.columns and "value" not in table.columns:
        raise InputFileError(f"{path}: need a 'trial_type' or 'value' column to name the events; columns are "
                             f"{', '.join(map(str, table.columns))}")
    table = table[table["onset"].notna()]
    if "trial_type" in table.columns:
        table = table[~table["trial_type"].astype(str).str.lower().str.startswith(("bad", "edge"))]
    if not len(table):
        raise InputFileError(f"{path}: the events table holds no events")
    if "sample" in table.columns and table["sample"].notna().all():
        samples = pd.to_numeric(table["sample"], errors="coerce")
        if samples.isna().any():
            raise InputFileError(f"{path}: the 'sample' column holds non-numbers")
        samples = np.round(samples.to_numpy(dtype=float)).astype(np.int64)
    else:
        if sfreq is None:
            raise ParameterError(f"{path}: no 'sample' column; give the recording's sampling rate (sfreq=) to "
                                 "turn onsets in s into samples")
        onsets = pd.to_numeric(table["onset"], errors="coerce")
        if onsets.isna().any():
            raise InputFileError(f"{path}: the 'onset' column holds non-numbers")
        samples = np.round(onsets.to_numpy(dtype=float) * float(sfreq)).astype(np.int64)
    names = table["trial_type"].astype(str).to_numpy() if "trial_type" in table.columns else None
    values = pd.to_numeric(table["value"], errors="coerce") if "value" in table.columns else None
    if values is not None and values.notna().all() and np.all(values == np.round(values)):
        codes = values.to_numpy(dtype=float).astype(np.int64)
        if names is None:
            event_id = {str(int(c)): int(c) for c in np.unique(codes)}
        else:
            event_id = {}
            for n, c in zip(names, codes):
                if event_id.setdefault(str(n), int(c)) != int(c):
                    raise InputFileError(f"{path}: trial_type {n!r} has several values ({event_id[n]}, {int(c)})")
    else:
        if names is None:
            names = table["value"].astype(str).to_numpy()
        event_id = {n: i for i, n in enumerate(sorted(set(names)), start=1)}
        codes = np.array([event_id[n] for n in names], dtype=np.int64)
    events = np.column_stack([samples + first_samp, np.zeros_like(samples), codes]).astype(np.int64)
    order = np.argsort(events[:, 0], kind="stable")
    return events[order], event_id


# --------------------------------------------------------------------------- conditions from events


def _source_label(inst: Any, source: str | PathLike | None) -> str:
    if source is not None:
        return str(source)
    names = [f for f in (getattr(inst, "filenames", None) or ()) if f]
    return Path(names[0]).name if names else "<recording>"


def _check_inst(inst: Any, where: str) -> None:
    if not isinstance(inst, (mne.io.BaseRaw, mne.BaseEpochs)):
        raise ParameterError(f"{where}: conditions need an mne.io.Raw or mne.Epochs, got {type(inst).__name__}")


def _normalise_mapping(
    mapping: Mapping[str, Any] | str, where: str
) -> tuple[dict[str, tuple[str, ...]], dict[str, float]]:
    if isinstance(mapping, str):
        try:
            return parse_conditions(mapping), parse_condition_frequencies(mapping)
        except ParameterError as err:
            raise ParameterError(f"{where}: {err}") from err
    if not isinstance(mapping, Mapping) or not mapping:
        raise ParameterError(f"{where}: conditions must map names to event codes (e.g. {{'rest': 'T0'}}), "
                             f"got {mapping!r}")
    out: dict[str, tuple[str, ...]] = {}
    for name, codes in mapping.items():
        name = str(name).strip()
        if not name:
            raise ParameterError(f"{where}: a condition has an empty name")
        if name in out:
            raise ParameterError(f"{where}: condition name {name!r} is given twice")
        if isinstance(codes, (str, int, np.integer)):
            codes = (codes,)
        codes = tuple(str(c).strip() for c in codes)
        if not codes or any(not c for c in codes):
            raise ParameterError(f"{where}: condition {name!r} has no event codes")
        out[name] = tuple(dict.fromkeys(codes))
    freqs = {n: f for n in out if (f := frequency_from_name(n)) is not None}
    return out, freqs


def _check_window(tmin: Any, tmax: Any, where: str) -> tuple[float | None, float | None]:
    vals = []
    for label, value in (("tmin", tmin), ("tmax", tmax)):
        if value is None:
            vals.append(None)
            continue
        try:
            v = float(value)
        except (TypeError, ValueError) as err:
            raise ParameterError(f"{where}: {label} must be a number of seconds, got {value!r}") from err
        if not math.isfinite(v):
            raise ParameterError(f"{where}: {label} must be finite, got {value!r}")
        vals.append(v)
    if vals[0] is not None and vals[1] is not None and vals[0] >= vals[1]:
        raise ParameterError(f"{where}: tmin={vals[0]:g} s must be below tmax={vals[1]:g} s")
    return vals[0], vals[1]


def _available(sources: Sequence[EventList]) -> str:
    if not sources:
        return "the recording has no events (no stim channel events, no annotations); give an events file"
    return "the recording has " + "; ".join(s.describe() for s in sources)


def _resolve(code: str, sources: Sequence[EventList], where: str, what: str) -> tuple[EventList, np.ndarray]:
    """The first source in which ``code`` selects events."""
    for src in sources:
        idx = src.select(code)
        if idx.size:
            return src, idx
    raise ParameterError(f"{where}: {what}: event code {code!r} is not in the recording ({_available(sources)})")


def _plural(n: int, word: str = "trial") -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _screen(
    starts: np.ndarray, stops: np.ndarray, n_times: int, bad: np.ndarray, reasons: list[str]
) -> tuple[np.ndarray, list[str]]:
    """Keep mask of trials inside the recording and clear of bad spans; notes counting the rest."""
    keep = np.ones(starts.size, dtype=bool)
    notes = []
    outside = (starts < 0) | (stops > n_times)
    if outside.any():
        notes.append(f"{_plural(int(outside.sum()))} left out: beyond the recording (0-{n_times} samples)")
    keep &= ~outside
    if len(bad):
        overlap = np.any((bad[None, :, 0] < stops[:, None]) & (bad[None, :, 1] > starts[:, None]), axis=1) & keep
        if overlap.any():
            notes.append(f"{_plural(int(overlap.sum()))} left out: overlap BAD_/EDGE annotations")
        keep &= ~overlap
    return keep, reasons + notes


def conditions_from_events(
    inst: Instance,
    mapping: Mapping[str, Any] | str,
    *,
    tmin: float | None = None,
    tmax: float | None = None,
    block_end: str | Sequence[str] | None = None,
    events: np.ndarray | str | PathLike | None = None,
    event_id: Mapping[str, int] | None = None,
    frequencies: Mapping[str, float | None] | None = None,
    source: str | PathLike | None = None,
    verbose: bool | str | int | None = None,
) -> tuple[Condition, ...]:
    """Conditions (named sets of trials) from a recording's events.

    Trial windows, in samples from the first sample of the data:

    * ``tmax`` given: ``[onset + tmin, onset + tmax)`` (``tmin`` defaults to 0);
    * no ``tmax``, events with durations (annotations such as EEGMMIDB's
      ``T0``/``T1``/``T2`` of about 4.1 s): ``[onset + tmin, onset + duration)``;
      zero-duration events (stim channels, markers) then raise, asking for ``tmax``;
    * ``block_end`` given: each trial runs from ``onset + tmin`` to the next
      end-marker event after the onset (blocks of stimulation between a start
      and an end marker); a start without a later end marker is left out.
    * :class:`mne.Epochs`: each selected epoch is a trial; ``tmin``/``tmax``
      (on ``epochs.times``) crop a window inside the epochs (default: all of it).

    Trials reaching beyond the recording or overlapping ``BAD_``/``EDGE``
    annotations are left out and counted in each condition's ``notes``.
    A condition's frequency is, in order: ``frequencies[name]``, the
    ``@<f>Hz`` of the spec, a name like ``f13``/``13Hz``; else None.

    Parameters
    ----------
    inst : mne.io.Raw | mne.Epochs
        The recording (loaded or not; its data are never read, only the stim
        channels and annotations).
    mapping : dict of str to code(s) | str
        ``{'rest': 'T0', 'stim': ('2', '3')}`` or a spec string
        (:func:`parse_conditions`: ``'rest=T0,left=T1@13Hz'``).
    tmin, tmax : float | None
        Window in s relative to each event onset.
    block_end : str | sequence of str | None
        End-marker code(s) (``'|'``-separated in a string) for block trials.
    events : ndarray, shape (n, 3) | path | None
        Explicit events replacing the recording's own (samples include
        ``first_samp``, as MNE writes them), or an events file read with
        :func:`read_events_file` (at the recording's rate, ``first_samp`` added).
    event_id : dict of str to int | None
        Names of the explicit events' codes.
    frequencies : dict of str to float | None
        Stimulation frequency (Hz) per condition name, overriding the spec.
    source : str | path | None
        File name used in messages (default: the recording's file name).
    verbose : bool | str | int | None
        MNE verbosity.

    Returns
    -------
    conditions : tuple of Condition
        In the order of ``mapping``.

    Raises
    ------
    ParameterError
        Malformed spec or window (``tmin >= tmax``), a code absent from the
        recording (the message lists the codes it has), zero-duration events
        without ``tmax``, ``tmax`` together with ``block_end``, a condition
        with no trials left (the message says why).
    InputFileError
        An unreadable events file.

    Examples
    --------
    >>> info = mne.create_info(["Oz", "STI"], 100.0, ["eeg", "stim"])
    >>> data = np.zeros((2, 3000)); data[1, [100, 700, 1300, 1900]] = [1, 2, 1, 2]
    >>> raw = mne.io.RawArray(data, info, verbose=False)
    >>> rest, f13 = conditions_from_events(raw, "rest=1,f13=2", tmax=5.0, verbose=False)
    >>> rest.starts.tolist(), rest.stops.tolist(), f13.frequency, f13.n_trials
    ([100, 1300], [600, 1800], 13.0, 2)
    """
    where = _source_label(inst, source)
    _check_inst(inst, where)
    names, spec_freqs = _normalise_mapping(mapping, where)
    tmin, tmax = _check_window(tmin, tmax, where)
    sfreq = float(inst.info["sfreq"])
    freq_of = dict(spec_freqs)
    for name, f in (frequencies or {}).items():
        if name not in names:
            raise ParameterError(f"{where}: frequencies name condition {name!r}, which is not one of "
                                 f"{', '.join(names)}")
        freq_of[name] = None if f is None else parse_frequencies([f])[0]
    origin = None
    if events is not None and not isinstance(events, np.ndarray):
        origin = Path(events).name
        events, event_id = read_events_file(
            events, sfreq=sfreq, first_samp=0 if isinstance(inst, mne.BaseEpochs) else inst.first_samp
        )
    elif events is not None:
        events = np.asarray(events)
        if events.ndim != 2 or events.shape[1] != 3 or events.dtype.kind not in "iu":
            raise ParameterError(f"{where}: events must be an integer (n_events, 3) array, got "
                                 f"shape {events.shape}, dtype {events.dtype}")
    sources = list_events(inst, events=events, event_id=event_id, origin=origin,
                          verbose=False if verbose is None else verbose)

    if isinstance(inst, mne.BaseEpochs):
        if block_end is not None:
            raise ParameterError(f"{where}: block_end needs a continuous recording, not epochs")
        return tuple(_epoch_condition(inst, name, codes, sources, tmin, tmax, freq_of.get(name), where)
                     for name, codes in names.items())

    if block_end is not None and tmax is not None:
        raise ParameterError(f"{where}: give either tmax (a window after each event) or block_end (trials end at "
                             "the next end marker), not both")
    end_samples = None
    if block_end is not None:
        end_codes = tuple(c.strip() for c in block_end.split("|")) if isinstance(block_end, str) else \
            tuple(str(c).strip() for c in block_end)
        if not end_codes or any(not c for c in end_codes):
            raise ParameterError(f"{where}: block_end must name an end-marker code, got {block_end!r}")
        parts = []
        for code in end_codes:
            src, idx = _resolve(code, sources, where, "block end marker")
            parts.append(src.samples[idx])
        end_samples = np.unique(np.concatenate(parts))

    n_times = int(inst.n_times)
    bad = bad_spans(inst)
    out = []
    for name, codes in names.items():
        onsets, durations, origins = [], [], []
        for code in codes:
            src, idx = _resolve(code, sources, where, f"condition {name!r}")
            onsets.append(src.samples[idx])
            durations.append(src.durations[idx])
            origins.append(src.origin)
        onset = np.concatenate(onsets)
        duration = np.concatenate(durations)
        onset, first = np.unique(onset, return_index=True)  # one trial per onset, sorted
        duration = duration[first]
        what = f"condition {name!r} ({'|'.join(codes)}; {', '.join(dict.fromkeys(origins))})"
        offset = 0 if tmin is None else int(round(tmin * sfreq))
        starts = onset + offset
        notes: list[str] = []
        window = None
        if end_samples is not None:
            pos = np.searchsorted(end_samples, onset, side="right")
            has_end = pos < end_samples.size
            stops = np.where(has_end, end_samples[np.minimum(pos, end_samples.size - 1)], -1)
            if not has_end.all():
                notes.append(f"{_plural(int((~has_end).sum()))} left out: no end marker after the start")
            short = has_end & (stops <= starts)
            if short.any():
                notes.append(f"{_plural(int(short.sum()))} left out: tmin={tmin:g} s reaches past the end marker")
            pre = has_end & ~short
        elif tmax is not None:
            stops = onset + int(round(tmax * sfreq))
            window = (0.0 if tmin is None else tmin, tmax)
            pre = np.ones(onset.size, dtype=bool)
        else:
            zero = duration <= 0
            if zero.any():
                raise ParameterError(
                    f"{where}: {what}: {_plural(int(zero.sum()), 'event')} of {onset.size} have no duration; give "
                    f"tmax (trial end in s after each event, e.g. --tmax 5) or a block end marker"
                )
            stops = onset + duration
            short = stops <= starts
            if short.any():
                notes.append(f"{_plural(int(short.sum()))} left out: tmin={tmin:g} s is past the event's duration")
            pre = ~short
        keep, notes = _screen(starts, stops, n_times, bad, notes)
        keep &= pre
        if not keep.any():
            reason = "; ".join(notes) if notes else "no events"
            raise ParameterError(f"{where}: {what}: no trials left of {onset.size} events ({reason})")
        out.append(Condition(
            name=name, codes=codes, starts=starts[keep].astype(np.int64), stops=stops[keep].astype(np.int64),
            frequency=freq_of.get(name), notes=tuple(notes), origin=", ".join(dict.fromkeys(origins)),
            window=window, sfreq=sfreq,
        ))
    return tuple(out)


def _epoch_condition(
    epochs: mne.BaseEpochs, name: str, codes: tuple[str, ...], sources: Sequence[EventList],
    tmin: float | None, tmax: float | None, freq: float | None, where: str,
) -> Condition:
    sfreq = float(epochs.info["sfreq"])
    times = epochs.times
    lo = float(times[0]) if tmin is None else tmin
    hi = float(times[-1]) + 1.0 / sfreq if tmax is None else tmax
    if lo < times[0] - 0.5 / sfreq or hi > times[-1] + 1.5 / sfreq:
        raise ParameterError(f"{where}: window tmin={lo:g}, tmax={hi:g} s is outside the epochs "
                             f"({times[0]:g} to {times[-1] + 1.0 / sfreq:g} s)")
    i0 = int(round((lo - times[0]) * sfreq))
    i1 = int(round((hi - times[0]) * sfreq))
    if i1 - i0 < 1:
        raise ParameterError(f"{where}: window tmin={lo:g}, tmax={hi:g} s holds no sample of the epochs")
    picked = []
    origins = []
    for code in codes:
        src, idx = _resolve(code, sources, where, f"condition {name!r}")
        picked.append(idx)
        origins.append(src.origin)
    idx = np.unique(np.concatenate(picked)).astype(np.int64)
    src = sources[0]
    if len(src) != len(epochs):  # explicit events do not index epochs
        raise ParameterError(f"{where}: condition {name!r}: explicit events cannot select epochs; "
                             "use the epochs' own event_id")
    starts = src.samples[idx] + int(round(times[0] * sfreq)) + i0
    return Condition(
        name=name, codes=codes, starts=starts.astype(np.int64), stops=(starts + (i1 - i0)).astype(np.int64),
        frequency=freq, epochs=idx, origin=", ".join(dict.fromkeys(origins)), window=(lo, hi), sfreq=sfreq,
    )


def condition_trials(
    inst: Instance, condition: Condition, *, picks: Any = None, n_times: int | None = None
) -> np.ndarray:
    """Read one condition's trials: ``(n_trials, n_channels, n_times)`` in V.

    Only the trials are read (``raw.get_data(start=, stop=)`` per trial on an
    unloaded Raw). Trials of unequal length (annotation durations of 4.1
    and 4.2 s, blocks) are cut to the shortest, or to ``n_times`` samples.

    Parameters
    ----------
    inst : mne.io.Raw | mne.Epochs
        The recording the condition was built from.
    condition : Condition
        From :func:`conditions_from_events` / :func:`conditions_from_protocol`.
    picks : channels | None
        MNE picks (default ``'data'``: EEG/MEG/... channels, no stim or misc).
    n_times : int | None
        Samples per trial (at most the shortest trial).

    Returns
    -------
    trials : ndarray, shape (n_trials, n_channels, n_times)

    Examples
    --------
    >>> info = mne.create_info(["Oz", "STI"], 100.0, ["eeg", "stim"])
    >>> data = np.zeros((2, 3000)); data[1, [100, 700]] = 1
    >>> raw = mne.io.RawArray(data, info, verbose=False)
    >>> (cond,) = conditions_from_events(raw, {"a": "1"}, tmax=2.0, verbose=False)
    >>> condition_trials(raw, cond, picks="eeg").shape
    (2, 1, 200)
    """
    picks = "data" if picks is None else picks
    shortest = int(condition.lengths.min()) if condition.n_trials else 0
    n = shortest if n_times is None else int(n_times)
    if condition.n_trials == 0 or n < 1 or n > shortest:
        raise ParameterError(f"condition {condition.name!r}: cannot read {n} samples per trial "
                             f"({condition.n_trials} trials, shortest {shortest} samples)")
    if isinstance(inst, mne.BaseEpochs):
        if condition.epochs is None or condition.window is None:
            raise ParameterError(f"condition {condition.name!r} was not built from epochs")
        sfreq = float(inst.info["sfreq"])
        i0 = int(round((condition.window[0] - inst.times[0]) * sfreq))
        data = inst[condition.epochs].get_data(picks=picks)
        return np.asarray(data[..., i0:i0 + n])
    return np.stack([inst.get_data(picks=picks, start=int(s), stop=int(s) + n) for s in condition.starts])


# --------------------------------------------------------------------------- protocol sidecars


def read_protocol_sidecar(sidecar: str | PathLike | Mapping[str, Any]):
    """The rendered :class:`~harmonix.stimulus.protocol.Protocol` (scaled as rendered) from a render sidecar.

    The JSON sidecar that :func:`harmonix.stimulus.render.render_protocol`
    (``harmonix stimulate``) writes next to the audio holds the protocol TOML
    (``protocol.toml``), the render options (``parameters.seconds`` for a
    time-scaled preview) and the rendered segment times
    (``parameters.segments``).

    Raises
    ------
    InputFileError
        Missing or unreadable file, not JSON, not a harmonix render sidecar.
    """
    from harmonix.stimulus import protocol as P

    label = "<sidecar>" if isinstance(sidecar, Mapping) else str(sidecar)
    if isinstance(sidecar, Mapping):
        meta = sidecar
    else:
        path = Path(sidecar)
        if not path.is_file():
            raise InputFileError(f"{path}: protocol sidecar not found")
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InputFileError(f"{path}: not a readable JSON file ({err})") from err
    not_ours = (f"{label}: not a harmonix render sidecar (expected the .json that 'harmonix stimulate' writes "
                "beside the audio, with protocol.toml and parameters.segments)")
    proto_meta = meta.get("protocol") if isinstance(meta, Mapping) else None
    params = meta.get("parameters") if isinstance(meta, Mapping) else None
    if not (isinstance(proto_meta, Mapping) and isinstance(proto_meta.get("toml"), Mapping)
            and isinstance(params, Mapping) and isinstance(params.get("segments"), list)):
        raise InputFileError(not_ours)
    try:
        proto = P.parse_protocol(dict(proto_meta["toml"]), source=str(proto_meta.get("source", label)))
        if params.get("seconds"):
            proto = proto.scaled(float(params["seconds"]))
    except (ParameterError, InputFileError, TypeError, ValueError) as err:
        raise InputFileError(f"{label}: the sidecar's protocol is not valid ({err})") from err
    rendered = params["segments"]
    if len(rendered) != len(proto.segments) or not all(
        isinstance(r, Mapping) and np.isclose(float(r.get("start", np.nan)), s.start, atol=1e-6)
        and np.isclose(float(r.get("duration", np.nan)), s.duration, atol=1e-6)
        for r, s in zip(rendered, proto.segments)
    ):
        raise InputFileError(f"{label}: parameters.segments do not match the sidecar's protocol (edited file?)")
    return proto


def _segment_frequency(seg) -> tuple[float | None, str | None]:
    """Constant modulation frequency of a segment, or None with a note for a slide."""
    from harmonix.stimulus.protocol import Slide

    mod = seg.modulation()
    if mod is None:
        return None, None
    voice, field_name, value = mod
    if isinstance(value, Slide):
        if np.isclose(value.start, value.end):
            return float(value.start), None
        return None, f"{voice.type} {field_name} slides {value.start:g}->{value.end:g} Hz: no single frequency"
    return float(value), None


def frequencies_from_protocol(sidecar: str | PathLike | Mapping[str, Any]) -> tuple[float, ...]:
    """The constant modulation frequencies (Hz) of a rendered protocol's segments, sorted, for ``--steady-state``.

    A segment's frequency is the rate of its loudest rhythmic voice
    (:meth:`~harmonix.stimulus.protocol.Segment.modulation`: binaural beat,
    isochronic/AM/click/burst rate, first stack rhythm); slides are skipped.

    Examples
    --------
    >>> meta = {"protocol": {"toml": {"segments": [
    ...     {"duration": 60, "label": "a", "voices": [{"type": "clicks", "rate": 40}]},
    ...     {"duration": 60, "label": "b", "voices": [{"type": "binaural", "beat": 6}]}]}},
    ...     "parameters": {"segments": [{"start": 0, "duration": 60}, {"start": 60, "duration": 60}]}}
    >>> frequencies_from_protocol(meta)
    (6.0, 40.0)
    """
    proto = read_protocol_sidecar(sidecar)
    freqs = {f for f, _ in map(_segment_frequency, proto.segments) if f is not None}
    return tuple(sorted(freqs))


def conditions_from_protocol(
    inst: Instance,
    sidecar: str | PathLike | Mapping[str, Any],
    *,
    onset_marker: str,
    source: str | PathLike | None = None,
    events: np.ndarray | str | PathLike | None = None,
    event_id: Mapping[str, int] | None = None,
    verbose: bool | str | int | None = None,
) -> tuple[Condition, ...]:
    """Conditions from the segments of a protocol rendered by ``harmonix stimulate``.

    The recording marks the start of the protocol's audio with an event
    (``onset_marker``); segment ``i`` of the rendered protocol then spans
    ``[onset + start_i, onset + start_i + duration_i)``. Every occurrence of
    the marker starts one run of the protocol (one trial per segment and
    run). Each segment becomes a condition named by its ``label`` (else
    ``segment<i>``, 1-based); segments sharing a label and a frequency pool
    their trials (alternating ``stim``/``rest`` blocks); a label shared by
    segments of different frequencies gets one condition per frequency
    (``stim_13Hz``, ``stim_17Hz``; ``stim_nofreq`` for one without). A
    condition's frequency is its segment's constant modulation rate (see
    :func:`frequencies_from_protocol`), None for segments without a rhythm
    or with a sliding one (noted).

    Parameters
    ----------
    inst : mne.io.Raw
        The recording made while the protocol played.
    sidecar : path | dict
        The render's JSON sidecar (or its parsed content).
    onset_marker : str
        Event code marking the protocol onset in the recording.
    source, events, event_id, verbose
        As :func:`conditions_from_events`.

    Returns
    -------
    conditions : tuple of Condition
        In protocol order of first appearance.

    Raises
    ------
    InputFileError
        The sidecar is missing, not JSON or not a harmonix render sidecar.
    ParameterError
        The onset marker is not in the recording (the message lists the
        codes that are), epochs given, or no segment fits in the recording.
    """
    where = _source_label(inst, source)
    _check_inst(inst, where)
    if isinstance(inst, mne.BaseEpochs):
        raise ParameterError(f"{where}: protocol conditions need a continuous recording, not epochs")
    proto = read_protocol_sidecar(sidecar)
    label = "<sidecar>" if isinstance(sidecar, Mapping) else Path(sidecar).name
    marker = str(onset_marker).strip() if onset_marker is not None else ""
    if not marker:
        raise ParameterError(f"{where}: name the event code that marks the protocol onset (onset_marker)")
    sfreq = float(inst.info["sfreq"])
    origin = None
    if events is not None and not isinstance(events, np.ndarray):
        origin = Path(events).name
        events, event_id = read_events_file(events, sfreq=sfreq, first_samp=inst.first_samp)
    sources = list_events(inst, events=events, event_id=event_id, origin=origin,
                          verbose=False if verbose is None else verbose)
    src, idx = _resolve(marker, sources, where, f"protocol onset marker of {label}")
    onsets = np.unique(src.samples[idx])

    segs = [(seg.label.strip() or f"segment{i + 1}", *_segment_frequency(seg)) for i, seg in enumerate(proto.segments)]
    freqs_of_label: dict[str, set] = {}
    for base, freq, _ in segs:
        freqs_of_label.setdefault(base, set()).add(freq)
    groups: dict[str, dict[str, Any]] = {}
    for i, (seg, (base, freq, note)) in enumerate(zip(proto.segments, segs)):
        name = base
        if len(freqs_of_label[base]) > 1:  # one label, several frequencies: one condition per frequency
            name = f"{base}_{freq:g}Hz" if freq is not None else f"{base}_nofreq"
        g = groups.setdefault(name, {"frequency": freq, "spans": [], "notes": []})
        if note:
            g["notes"].append(f"segment {i + 1}: {note}")
        g["spans"].append((int(round(seg.start * sfreq)), int(round(seg.end * sfreq))))

    n_times, bad = int(inst.n_times), bad_spans(inst)
    out = []
    for name, g in groups.items():
        spans = np.array(g["spans"], dtype=np.int64)
        starts = (onsets[:, None] + spans[None, :, 0]).ravel()
        stops = (onsets[:, None] + spans[None, :, 1]).ravel()
        order = np.argsort(starts, kind="stable")
        starts, stops = starts[order], stops[order]
        keep, notes = _screen(starts, stops, n_times, bad, list(g["notes"]))
        if not keep.any():
            raise ParameterError(f"{where}: protocol condition {name!r} of {label}: no trials left "
                                 f"({'; '.join(notes) or 'none'}) after onset marker {marker!r}")
        out.append(Condition(
            name=name, codes=(marker,), starts=starts[keep], stops=stops[keep], frequency=g["frequency"],
            notes=tuple(notes), origin=f"protocol sidecar {label} after {src.origin}", sfreq=sfreq,
        ))
    return tuple(out)


@dataclass(frozen=True)
class ConditionSpec:
    """How to find a recording's conditions: what the command line says, applied once the file is open.

    Either a ``mapping`` (``"rest=T0,left=T1"``; :func:`parse_conditions`)
    with the trial window (``tmin``/``tmax`` or ``block_end``), or the
    ``protocol`` sidecar of a ``harmonix stimulate`` render with the
    ``onset_marker`` that marks its start in the recording; ``events_file``
    replaces the recording's own events (e.g. an MNE ``-eve.fif``).

    Examples
    --------
    >>> info = mne.create_info(["Oz", "STI"], 100.0, ["eeg", "stim"])
    >>> data = np.zeros((2, 3000)); data[1, [100, 700]] = 1
    >>> raw = mne.io.RawArray(data, info, verbose=False)
    >>> [c.n_trials for c in ConditionSpec("a=1", tmax=2.0).build(raw, source="rec")]
    [2]
    """

    mapping: str | None = None
    tmin: float | None = None
    tmax: float | None = None
    block_end: str | None = None
    events_file: str | None = None
    protocol: str | None = None
    onset_marker: str | None = None

    def __post_init__(self) -> None:
        if (self.mapping is None) == (self.protocol is None):
            raise ParameterError("give conditions as a mapping (--conditions) or a protocol sidecar (--protocol), "
                                 "not both or neither")
        if self.protocol is not None and not self.onset_marker:
            raise ParameterError("--protocol needs --protocol-onset CODE: the event marking the protocol's start "
                                 "in the recording")
        if self.mapping is not None:
            parse_conditions(self.mapping)  # a malformed spec is a usage error, found before any work

    def build(self, inst: Instance, *, source: str | PathLike | None = None) -> tuple[Condition, ...]:
        """The conditions of ``inst`` (see :func:`conditions_from_events`, :func:`conditions_from_protocol`)."""
        events = event_id = None
        if self.events_file is not None:
            first = getattr(inst, "first_samp", 0)
            events, event_id = read_events_file(self.events_file, sfreq=float(inst.info["sfreq"]), first_samp=first)
        if self.protocol is not None:
            return conditions_from_protocol(inst, self.protocol, onset_marker=str(self.onset_marker), source=source,
                                            events=events, event_id=event_id, verbose=False)
        return conditions_from_events(inst, self.mapping, tmin=self.tmin, tmax=self.tmax, block_end=self.block_end,
                                      events=events, event_id=event_id, source=source, verbose=False)

    def describe(self) -> dict:
        """JSON-ready form, for provenance and ``params.json``."""
        return {k: v for k, v in self.__dict__.items() if v is not None}
