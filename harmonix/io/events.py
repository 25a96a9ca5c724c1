"""One way to get events from any recording: stim channel, annotations, epochs or an events file.

Three entry points:

* :func:`find_events` returns MNE's ``(events, event_id)`` pair, from the one
  place the file stored its events (for epoching and quick looks);
* :func:`read_events_file` returns the same pair from a separate events file
  (MNE ``-eve.fif``/``.eve``/``.txt``/``.lst``, or a BIDS ``*_events.tsv``);
* :func:`list_events` returns every event source of a recording (stim
  channel *and* annotations, or an explicit events array, or the epochs),
  each as an :class:`EventList` that keeps annotation durations, uses
  sample indices from the first sample of the data, and knows which
  spellings select each event (``'T1'``, ``'Stimulus/S253'``, ``'253'``,
  ``'square'`` for ``'square/rt'``). It is what
  :mod:`harmonix.io.conditions` builds conditions from. :func:`bad_spans`
  gives the ``BAD_``/``EDGE`` spans that trials must avoid.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import mne
import numpy as np

from harmonix.errors import InputFileError, ParameterError

__all__ = ["EventList", "bad_spans", "find_events", "good_spans", "list_events", "read_events_file"]

_BAD_PREFIXES = ("bad", "edge")
"""Annotation descriptions starting with these (any case) mark data to avoid, as in MNE."""


def _is_bad(description: str) -> bool:
    return str(description).lower().startswith(_BAD_PREFIXES)


def _stim_channels(raw: mne.io.BaseRaw) -> list[str]:
    return [raw.ch_names[i] for i in mne.pick_types(raw.info, meg=False, stim=True, exclude=[])]


def _stim_events(raw: mne.io.BaseRaw, verbose: bool | str | int | None) -> tuple[np.ndarray, dict[str, int]]:
    stim = _stim_channels(raw)
    if not stim:
        return np.empty((0, 3), dtype=int), {}
    # shortest_event=1: headset markers and many trigger boxes hold a code for a single sample.
    # mne.find_events reads only the stim channels, also from an unloaded Raw.
    events = mne.find_events(raw, stim_channel=stim, shortest_event=1, initial_event=True, verbose=verbose)
    codes = np.unique(events[:, 2])
    return events, {str(int(code)): int(code) for code in codes}


def find_events(
    inst: mne.io.BaseRaw | mne.BaseEpochs, *, verbose: bool | str | int | None = None
) -> tuple[np.ndarray, dict[str, int]]:
    """Return the events of a recording, wherever the file stored them.

    Sources, in order of preference:

    1. Epochs: their own ``events`` and ``event_id``.
    2. Stim channels (``stim`` type, e.g. BDF ``Status`` or the ``STI``
       channel of a headset CSV), read with :func:`mne.find_events` and
       ``shortest_event=1``. Preferred when they hold events because their
       codes are sample-exact and are what the acquisition system wrote.
       Event names are the codes as strings (``{'1': 1, '2': 2}``).
    3. Annotations (EDF+, BrainVision, EEGLAB, BIDS ``events.tsv``), via
       :func:`mne.events_from_annotations`; annotations starting with
       ``BAD`` or ``EDGE`` are skipped. Codes are numbered in sorted order
       of the descriptions unless MNE knows better (BrainVision ``S 12`` -> 12).

    Only one source is returned, and annotation durations are dropped. To
    build conditions (several sources, durations, code spellings, sample
    indices without ``first_samp``), use :func:`list_events` or
    :func:`harmonix.io.conditions.conditions_from_events`. Only the stim
    channels are read from the file; the rest of an unloaded Raw stays on disk.

    Parameters
    ----------
    inst : mne.io.Raw | mne.Epochs
        The recording; not modified.
    verbose : bool | str | int | None
        MNE verbosity.

    Returns
    -------
    events : ndarray of int, shape (n_events, 3)
        MNE events: sample (including ``first_samp``), previous value, code.
        Empty (shape ``(0, 3)``) when the recording has no events.
    event_id : dict of str to int
        Event name to code.

    Examples
    --------
    >>> info = mne.create_info(["Cz", "STI"], 100.0, ["eeg", "stim"])
    >>> data = np.zeros((2, 500)); data[1, [100, 300]] = [1, 2]
    >>> events, event_id = find_events(mne.io.RawArray(data, info, verbose=False), verbose=False)
    >>> events[:, [0, 2]].tolist(), event_id
    ([[100, 1], [300, 2]], {'1': 1, '2': 2})
    """
    if isinstance(inst, mne.BaseEpochs):
        return inst.events.copy(), dict(inst.event_id)
    events, event_id = _stim_events(inst, verbose)
    if len(events) or not len(inst.annotations):
        return events, event_id
    events, event_id = mne.events_from_annotations(inst, verbose=verbose)
    return events.astype(int, copy=False), {str(k): int(v) for k, v in event_id.items()}


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
    except Exception as err:  # noqa: BLE001 - pandas' parser errors vary by file; each is a problem with this file
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


# --------------------------------------------------------------------------- event lists


@dataclass(frozen=True)
class EventList:
    """The events of one source of a recording, ready to be matched by name.

    Attributes
    ----------
    origin : str
        Where they come from: ``'stim channel STI'``, ``'annotations'``,
        ``'events array'`` (or the events file's name), ``'epochs'``.
    samples : ndarray of int64, shape (n_events,)
        Onset sample, 0-based from the first sample of the data (``first_samp``
        removed). For epochs: the epochs' own event samples (``epochs.events[:, 0]``).
    durations : ndarray of int64, shape (n_events,)
        Duration in samples (annotation durations; 0 for point events).
    names : tuple of str
        Each event's name: the annotation description, the ``event_id`` name
        of its code, or the code as a string.
    aliases : dict of str to tuple of str
        For each distinct name, the other spellings that select it: its
        integer code (``'253'`` for BrainVision ``'Stimulus/S253'``; ``'2'``
        for an ``event_id`` name coded 2) and its ``/``-separated tags
        (``'square'`` selects ``'square/rt'``, as MNE's epoch selection does).
    """

    origin: str
    samples: np.ndarray
    durations: np.ndarray
    names: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    def distinct(self) -> list[str]:
        """Distinct event names, in order of first appearance."""
        return list(dict.fromkeys(self.names))

    def matching(self, code: str) -> list[str]:
        """Names that ``code`` selects: the name itself and every name having it as an alias.

        As in MNE's epoch selection, a tag selects every name holding it
        (``'square'`` selects ``'square'``, ``'square/rt'`` and ``'square/square/rt'``).
        """
        code = str(code).strip()
        return [n for n in self.distinct() if n == code or code in self.aliases.get(n, ())]

    def select(self, code: str) -> np.ndarray:
        """Indices (into ``samples``) of the events that ``code`` selects; empty when none."""
        wanted = set(self.matching(code))
        return np.array([i for i, n in enumerate(self.names) if n in wanted], dtype=np.int64)

    def describe(self, limit: int = 20) -> str:
        """``'annotations: T0 (15), T1 (8), T2 (7)'`` for error messages."""
        names, counts = np.unique(np.asarray(self.names, dtype=object), return_counts=True) if self.names else ([], [])
        order = sorted(zip(names, counts), key=lambda item: _natural_key(str(item[0])))
        parts = [f"{name} ({count})" for name, count in order[:limit]]
        if len(order) > limit:
            parts.append(f"... {len(order) - limit} more")
        return f"{self.origin}: {', '.join(parts) if parts else 'none'}"


def _natural_key(text: str) -> tuple:
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def _tags(name: str) -> tuple[str, ...]:
    parts = [p.strip() for p in str(name).split("/")]
    return tuple(p for p in parts if p and p != name) if len(parts) > 1 else ()


def _code_list(
    origin: str, samples: np.ndarray, codes: np.ndarray, event_id: Mapping[str, int] | None
) -> EventList:
    """EventList of integer-coded events, named through ``event_id`` where it names the code."""
    by_code: dict[int, str] = {}
    for name, code in (event_id or {}).items():
        by_code.setdefault(int(code), str(name))
    names = tuple(by_code.get(int(c), str(int(c))) for c in codes)
    aliases = {}
    for name in dict.fromkeys(names):
        code = next((int(c) for c, n in zip(codes, names) if n == name), None)
        extra = (*_tags(name), str(code)) if code is not None else _tags(name)
        aliases[name] = tuple(a for a in dict.fromkeys(extra) if a != name)
    n = len(names)
    return EventList(
        origin=origin,
        samples=np.asarray(samples, dtype=np.int64).reshape(n),
        durations=np.zeros(n, dtype=np.int64),
        names=names,
        aliases=aliases,
    )


def _annotation_list(raw: mne.io.BaseRaw, verbose: bool | str | int | None) -> EventList | None:
    annot = raw.annotations
    keep = [i for i, d in enumerate(annot.description) if not _is_bad(d)]
    if not keep:
        return None
    sfreq = float(raw.info["sfreq"])
    onsets = raw.time_as_index(annot.onset[keep], use_rounding=True, origin=annot.orig_time)
    durations = np.round(np.asarray(annot.duration[keep], dtype=float) * sfreq).astype(np.int64)
    names = tuple(str(annot.description[i]) for i in keep)
    numeric: dict[str, int] = {}
    if type(raw).__name__ == "RawBrainVision":
        # MNE's BrainVision parser gives 'Stimulus/S253' its code 253 (and Response/R255 1255).
        try:
            _, event_id = mne.events_from_annotations(raw, verbose=False if verbose is None else verbose)
            numeric = {str(k): int(v) for k, v in event_id.items()}
        except (ValueError, RuntimeError):  # pragma: no cover - MNE could not parse them
            numeric = {}
    aliases = {}
    for name in dict.fromkeys(names):
        extra = list(_tags(name))
        if name in numeric:
            extra.append(str(numeric[name]))
        aliases[name] = tuple(a for a in dict.fromkeys(extra) if a != name)
    return EventList(
        origin="annotations",
        samples=np.asarray(onsets, dtype=np.int64),
        durations=durations,
        names=names,
        aliases=aliases,
    )


def list_events(
    inst: mne.io.BaseRaw | mne.BaseEpochs,
    *,
    events: np.ndarray | None = None,
    event_id: Mapping[str, int] | None = None,
    origin: str | None = None,
    verbose: bool | str | int | None = None,
) -> tuple[EventList, ...]:
    """Every event source of a recording, each as an :class:`EventList`.

    * ``events`` given (an MNE events array, e.g. from
      :func:`read_events_file`): that array alone,
      samples minus ``raw.first_samp`` (MNE events count from the
      acquisition start, like :func:`mne.find_events`); names from
      ``event_id`` where it names a code, else the code as a string.
    * :class:`mne.Epochs`: the epochs' ``events`` and ``event_id``, one
      event per epoch, in epoch order.
    * Raw: its stim channels (codes as strings; only the stim channels are
      read, never the whole recording), then its annotations (durations
      kept; ``BAD``/``EDGE`` ones left out, see :func:`bad_spans`). Sources
      without events are omitted.

    Parameters
    ----------
    inst : mne.io.Raw | mne.Epochs
        The recording; not modified, not loaded.
    events : ndarray, shape (n_events, 3) | None
        Explicit events (sample incl. ``first_samp``, previous, code).
    event_id : dict of str to int | None
        Names of the explicit events' codes.
    origin : str | None
        Label of the explicit events in messages (e.g. the events file's name).
    verbose : bool | str | int | None
        MNE verbosity.

    Returns
    -------
    sources : tuple of EventList
        In order of preference (a name found in an earlier source wins).

    Examples
    --------
    >>> info = mne.create_info(["Cz", "STI"], 100.0, ["eeg", "stim"])
    >>> data = np.zeros((2, 500)); data[1, [100, 300]] = [1, 2]
    >>> raw = mne.io.RawArray(data, info, verbose=False)
    >>> raw.set_annotations(mne.Annotations([1.0, 4.0], [2.0, 0.5], ["rest", "BAD_blink"]))  # doctest: +ELLIPSIS
    <RawArray ...>
    >>> [s.describe() for s in list_events(raw, verbose=False)]
    ['stim channel STI: 1 (1), 2 (1)', 'annotations: rest (1)']
    >>> ann = list_events(raw, verbose=False)[1]
    >>> ann.samples.tolist(), ann.durations.tolist()
    ([100], [200])
    """
    if events is not None:
        arr = np.asarray(events)
        if arr.ndim != 2 or arr.shape[1] != 3:
            raise ValueError(f"events must be an (n_events, 3) array, got shape {arr.shape}")
        first = 0 if isinstance(inst, mne.BaseEpochs) else int(inst.first_samp)
        return (_code_list(origin or "events array", arr[:, 0].astype(np.int64) - first, arr[:, 2], event_id),)
    if isinstance(inst, mne.BaseEpochs):
        return (_code_list("epochs", inst.events[:, 0], inst.events[:, 2], inst.event_id),)
    sources: list[EventList] = []
    stim = _stim_channels(inst)
    if stim:
        found, _ = _stim_events(inst, verbose)
        if len(found):
            label = "stim channel" + ("s " if len(stim) > 1 else " ") + ", ".join(stim)
            sources.append(_code_list(label, found[:, 0] - inst.first_samp, found[:, 2], None))
    annotated = _annotation_list(inst, verbose)
    if annotated is not None:
        sources.append(annotated)
    return tuple(sources)


def bad_spans(inst: mne.io.BaseRaw | mne.BaseEpochs) -> np.ndarray:
    """``BAD``/``EDGE`` annotation spans as ``(n, 2)`` int64 ``[start, stop)`` samples from the first sample.

    Zero-duration bad annotations span one sample. Epochs have none (returns
    an empty array): their rejected epochs are already dropped.

    Examples
    --------
    >>> raw = mne.io.RawArray(np.zeros((1, 1000)), mne.create_info(1, 100.0, "eeg"), verbose=False)
    >>> _ = raw.set_annotations(mne.Annotations([2.0, 5.0], [1.0, 0.0], ["BAD_jump", "edge"]))
    >>> bad_spans(raw).tolist()
    [[200, 300], [500, 501]]
    """
    if isinstance(inst, mne.BaseEpochs):
        return np.empty((0, 2), dtype=np.int64)
    annot = inst.annotations
    keep = [i for i, d in enumerate(annot.description) if _is_bad(d)]
    if not keep:
        return np.empty((0, 2), dtype=np.int64)
    sfreq = float(inst.info["sfreq"])
    starts = np.asarray(inst.time_as_index(annot.onset[keep], use_rounding=True, origin=annot.orig_time), np.int64)
    lengths = np.maximum(np.round(np.asarray(annot.duration[keep], dtype=float) * sfreq).astype(np.int64), 1)
    return np.column_stack([starts, starts + lengths])


def good_spans(raw: mne.io.BaseRaw) -> np.ndarray:
    """Sample ranges of ``raw`` outside its ``BAD``/``EDGE`` annotations (:func:`bad_spans`).

    Analyses run per span: no filter or spectral window crosses a gap, as
    MNE does with ``skip_by_annotation``. A zero-duration bad annotation
    (an instantaneous artefact marker) still splits the span there.

    Returns
    -------
    spans : ndarray of int, shape (n_spans, 2)
        ``[start, stop)`` from the first sample of the data, in time order, non-empty.

    Examples
    --------
    >>> raw = mne.io.RawArray(np.zeros((1, 1000)), mne.create_info(1, 100.0, "eeg"), verbose=False)
    >>> _ = raw.set_annotations(mne.Annotations([2.0], [1.5], ["BAD_blink"]))
    >>> good_spans(raw).tolist()
    [[0, 200], [350, 1000]]
    """
    n_times = raw.n_times
    depth = np.zeros(n_times + 1, dtype=np.int64)
    for start, stop in np.clip(bad_spans(raw), 0, n_times):
        if stop > start:
            depth[start] += 1
            depth[stop] -= 1
    good = np.cumsum(depth[:-1]) == 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], good.astype(np.int8), [0]])))
    return edges.reshape(-1, 2).astype(np.int64)
