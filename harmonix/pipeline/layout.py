"""Where an analysis reads its samples: channels, contiguous spans, conditions.

A recording becomes a *stream* of samples in spans. For a Raw the stream
coordinates are sample indices from its first sample and the spans are the
stretches outside ``BAD_*``/``EDGE`` annotations
(:func:`harmonix.io.events.good_spans`); for Epochs epoch ``e``
occupies ``[e L, (e + 1) L)`` and every epoch is a span. Samples are read on
request, a block at a time (an unloaded Raw is never loaded whole), so the
analysis holds one block, never the recording.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mne
import numpy as np

from harmonix.errors import ChannelError, DataQualityError, ParameterError
from harmonix.spectral.filterbank import FilteredSource, SignalSource
from harmonix.io.events import good_spans
from harmonix.spectral.segments import RawSource, intersect_intervals


@dataclass
class _EpochSource:
    """One epoch of an ``mne.Epochs`` as a :class:`~harmonix.spectral.filterbank.SignalSource`."""

    epochs: mne.BaseEpochs
    picks: np.ndarray
    index: int
    n_times: int
    _data: np.ndarray | None = None

    @property
    def n_channels(self) -> int:
        return len(self.picks)

    def read(self, start: int, stop: int) -> np.ndarray:
        if self._data is None:
            self._data = self.epochs.get_data(picks=self.picks, item=self.index, verbose=False)[0]
        return self._data[:, start:stop]


@dataclass
class RecordingLayout:
    """A recording's analysed channels and spans, and how to read them.

    Attributes
    ----------
    ch_names : list of str
        Good EEG channels, in the order of the rows read.
    sfreq : float
        Hz.
    spans : ndarray of int, shape (n_spans, 2)
        ``[start, stop)`` in stream coordinates.
    epoched : bool
        Spans are the epochs of an epoched recording (equal lengths).
    rejected_seconds : float
        Duration left out by annotations (Raw).
    fir : ndarray | None
        Zero-phase FIR (e.g. a mains notch) every reader applies, per span
        (:class:`~harmonix.spectral.filterbank.FilteredSource`); ``None``: raw samples.
    """

    inst: mne.io.BaseRaw | mne.BaseEpochs
    picks: np.ndarray
    ch_names: list[str]
    sfreq: float
    spans: np.ndarray
    epoched: bool
    rejected_seconds: float
    fir: np.ndarray | None = None

    @property
    def n_channels(self) -> int:
        return len(self.picks)

    @property
    def span_lengths(self) -> np.ndarray:
        return self.spans[:, 1] - self.spans[:, 0]

    @property
    def longest_span(self) -> int:
        return int(self.span_lengths.max())

    @property
    def total_samples(self) -> int:
        return int(self.span_lengths.sum())

    def source(self, span: int) -> SignalSource:
        """Reader of span ``span`` (coordinates from the span's start), through :attr:`fir` when set."""
        start, stop = (int(v) for v in self.spans[span])
        if self.epoched:
            reader = _EpochSource(self.inst, self.picks, span, stop - start)
        elif isinstance(self.inst, mne.BaseEpochs):  # a single epoch analysed as one continuous segment
            reader = _EpochSource(self.inst, self.picks, 0, stop - start)
        else:
            reader = RawSource(self.inst, self.picks, start, stop - start)
        return reader if self.fir is None else FilteredSource(reader, self.fir)

    def span_of(self, start: int, stop: int) -> int:
        """Index of the span holding ``[start, stop)``; :class:`ParameterError` if none does."""
        i = int(np.searchsorted(self.spans[:, 0], start, side="right")) - 1
        if i < 0 or stop > self.spans[i, 1]:
            raise ParameterError(f"samples [{start}, {stop}) do not lie inside one good span")
        return i

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` (stream coordinates, inside one span)."""
        i = self.span_of(start, stop)
        offset = int(self.spans[i, 0])
        return np.asarray(self.source(i).read(start - offset, stop - offset), dtype=float)


def recording_layout(inst: mne.io.BaseRaw | mne.BaseEpochs, source: str) -> RecordingLayout:
    """Good EEG channels and spans of ``inst`` (data are not read).

    Raises
    ------
    ChannelError
        No EEG channel left (all missing or marked bad).
    DataQualityError
        Annotations leave no good sample.
    """
    picks = mne.pick_types(inst.info, eeg=True, exclude="bads")
    if len(picks) == 0:
        raise ChannelError(f"{source}: no EEG channels left to analyse (all missing or marked bad)")
    names = [inst.ch_names[i] for i in picks]
    sfreq = float(inst.info["sfreq"])
    if isinstance(inst, mne.BaseEpochs):
        n_epochs, length = len(inst), len(inst.times)
        if n_epochs == 0:
            raise DataQualityError(f"{source}: the file holds no epochs")
        # A single epoch is one continuous segment (nothing to average across trials).
        epoched = n_epochs > 1
        starts = np.arange(n_epochs if epoched else 1, dtype=np.int64) * length
        spans = np.column_stack([starts, starts + length])
        return RecordingLayout(inst, picks, names, sfreq, spans, epoched, 0.0)
    spans = good_spans(inst)
    if spans.size == 0:
        raise DataQualityError(f"{source}: every sample lies in a span annotated bad; nothing to analyse")
    rejected = (inst.n_times - int((spans[:, 1] - spans[:, 0]).sum())) / sfreq
    return RecordingLayout(inst, picks, names, sfreq, spans, False, rejected)


def condition_intervals(layout: RecordingLayout, condition, source: str) -> np.ndarray:
    """``(n_trials, 2)`` stream intervals of a condition, cut to the good spans."""
    if layout.epoched:
        epochs = np.asarray(condition.epochs if condition.epochs is not None else [], dtype=np.int64)
        intervals = layout.spans[epochs] if epochs.size else np.empty((0, 2), np.int64)
    else:
        intervals = np.column_stack([np.asarray(condition.starts, np.int64), np.asarray(condition.stops, np.int64)])
        intervals = intersect_intervals(intervals, layout.spans)
    if intervals.size == 0:
        raise ParameterError(f"{source}: condition {condition.name!r} has no trial inside the good data")
    return intervals


def check_block_finite(block: np.ndarray, names: Sequence[str], start: int, sfreq: float, source: str) -> None:
    """One-line :class:`DataQualityError` naming channels with NaN/Inf samples in a block."""
    bad = ~np.isfinite(block)
    if not bad.any():
        return
    rows = np.flatnonzero(bad.any(axis=1))
    first = start + int(np.flatnonzero(bad.any(axis=0))[0])
    noun = "channel" if rows.size == 1 else "channels"
    raise DataQualityError(
        f"{source}: {noun} {', '.join(names[i] for i in rows)} {'has' if rows.size == 1 else 'have'} NaN/Inf "
        f"samples (first at {first / sfreq:.3f} s); interpolate or drop them, or mark the channels bad, before analysis"
    )


def scan_second_moment(layout: RecordingLayout, rows: np.ndarray, *, chunk_samples: int, source: str) -> np.ndarray:
    """``Σ_t y(t) y(t)ᵀ`` of the chosen rows over every good sample, read block by block.

    What the harmonic decomposition's generalised cross-validation needs
    (:func:`harmonix.harmonics.decompose.sensor_inverse`), and a first check
    that every sample is finite.
    """
    rows = np.asarray(rows)
    moment = np.zeros((rows.size, rows.size))
    for i, (start, stop) in enumerate(layout.spans):
        reader = layout.source(i)
        for a in range(0, int(stop - start), chunk_samples):
            b = min(a + chunk_samples, int(stop - start))
            block = np.asarray(reader.read(a, b), dtype=float)
            check_block_finite(block, layout.ch_names, int(start) + a, layout.sfreq, source)
            y = block[rows]
            moment += y @ y.T
    return moment


__all__ = ["RecordingLayout", "recording_layout", "condition_intervals", "check_block_finite", "scan_second_moment"]
