"""Conditions from events: which stretches of a recording are 'rest', 'left', '13 Hz'.

A *condition* (:class:`Condition`) is a name, the event codes mapped to it
and its trials, each a ``[start, stop)`` span of samples.
:func:`conditions_from_events` builds conditions from events and a mapping:
the events of a stim channel, of the annotations (EDF+, BrainVision, EEGLAB,
BIDS ``events.tsv`` read by mne-bids), of a headset CSV's marker columns, of
:class:`mne.Epochs`, or of a separate events file
(:func:`harmonix.io.events.read_events_file`); trials are
``[onset + tmin, onset + tmax)``, the annotation's own duration, or whole
blocks from a start marker to the next end marker. :func:`condition_trials`
then reads one condition's trials. Conditions from the segments of a
rendered stimulation protocol are built in
:mod:`harmonix.io.protocol_conditions`; the mapping's command-line form
(``'rest=T0,left=T1@13Hz'``) is parsed in :mod:`harmonix.io.condition_specs`.

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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Union

import mne
import numpy as np

from harmonix.errors import ParameterError
from harmonix.io.condition_specs import (
    frequency_from_name,
    parse_condition_frequencies,
    parse_conditions,
    parse_frequencies,
)
from harmonix.io.events import EventList, bad_spans, list_events, read_events_file

__all__ = [
    "Condition",
    "condition_trials",
    "conditions_from_events",
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
        (:func:`~harmonix.io.condition_specs.parse_conditions`: ``'rest=T0,left=T1@13Hz'``).
    tmin, tmax : float | None
        Window in s relative to each event onset.
    block_end : str | sequence of str | None
        End-marker code(s) (``'|'``-separated in a string) for block trials.
    events : ndarray, shape (n, 3) | path | None
        Explicit events replacing the recording's own (samples include
        ``first_samp``, as MNE writes them), or an events file read with
        :func:`~harmonix.io.events.read_events_file` (at the recording's rate, ``first_samp`` added).
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
        From :func:`conditions_from_events` / :func:`~harmonix.io.protocol_conditions.conditions_from_protocol`.
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
