"""Steady-state responses per condition: SNR, ITC and trial classification in one table.

:func:`steady_state_by_condition` takes the trials of each condition (for
example ``rest``, ``f13``, ``f17``, ``f21`` of an SSVEP session, read with
:func:`harmonix.io.conditions.condition_trials`) and, for every condition,
channel and stimulation frequency, computes

* the power SNR (:func:`~harmonix.estimators.entrainment.steady_state_snr`)
  of the trial-averaged Welch PSD inside the trials;
* the inter-trial phase coherence
  (:func:`~harmonix.estimators.entrainment.inter_trial_coherence`) with its
  Rayleigh p-value and chance level;

and, when at least two conditions carry distinct frequencies, classifies
every trial (:func:`~harmonix.estimators.steady_state_classifier.classify_steady_state`,
conditions without a frequency standing for rest) into a confusion matrix.
:meth:`SteadyStateTable.rows` gives tidy rows for the metrics table.

References
----------
Meigen T., Bach M. (1999). On the statistical significance of electro-
physiological steady-state responses. Doc Ophthalmol 98:207-232.

Norcia A. M., Appelbaum L. G., Ales J. M., Cottereau B. R., Rossion B. (2015).
The steady-state visual evoked potential in vision research: a review.
J Vis 15(6):4.

Zar J. H. (1999). Biostatistical Analysis, 4th ed., ch. 27 (Rayleigh test).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.signal

from harmonix.errors import DataQualityError, ParameterError
from harmonix.estimators.entrainment import inter_trial_coherence, itc_chance_level, steady_state_snr
from harmonix.estimators.steady_state_classifier import SteadyStateClassification, classify_steady_state

__all__ = [
    "REST_LABEL",
    "SteadyStateConfusion",
    "SteadyStateTable",
    "freq_label",
    "steady_state_by_condition",
]

REST_LABEL = "rest"
"""Class label of trials without a stimulation frequency in the classification."""


def freq_label(freq: float) -> str:
    """Band label of a frequency: ``13.0 -> '13Hz'``, ``40.018 -> '40.018Hz'``.

    Examples
    --------
    >>> freq_label(13.0), freq_label(7.5)
    ('13Hz', '7.5Hz')
    """
    return f"{float(freq):g}Hz"


@dataclass(frozen=True)
class SteadyStateConfusion:
    """Trial classification among the conditions' stimulation frequencies.

    Attributes
    ----------
    classes : tuple of str
        Class labels: the candidate frequencies (``'13Hz'``, ...) in
        ascending order, then ``'rest'`` when some condition has no frequency.
    candidates : ndarray
        Candidate frequencies (Hz).
    conditions : tuple of str
        The classified conditions (rows of ``confusion``).
    truth : tuple of str
        True class of each condition.
    confusion : ndarray of int, shape (n_conditions, n_classes)
        Trials of each condition (row) assigned to each class (column).
    accuracy : ndarray, shape (n_conditions,)
        Fraction of each condition's trials assigned to its true class.
    overall_accuracy : float
        Fraction of all trials correctly classified.
    chance : float
        ``1 / n_classes``.
    result : SteadyStateClassification
        The per-trial decisions, scores and p-values, trials in condition order.
    """

    classes: tuple[str, ...]
    candidates: np.ndarray
    conditions: tuple[str, ...]
    truth: tuple[str, ...]
    confusion: np.ndarray
    accuracy: np.ndarray
    overall_accuracy: float
    chance: float
    result: SteadyStateClassification


@dataclass(frozen=True)
class SteadyStateTable:
    """Steady-state SNR and ITC per condition, channel and frequency.

    Attributes
    ----------
    conditions : tuple of str
        Condition names.
    ch_names : tuple of str
        Channel names.
    freqs : ndarray, shape (n_freqs,)
        Frequencies analysed (Hz).
    condition_freqs : tuple of (float | None)
        Stimulation frequency each condition carries.
    n_trials : ndarray of int, shape (n_conditions,)
        Trials per condition.
    snr : ndarray, shape (n_conditions, n_channels, n_freqs)
        Power SNR of the trial-averaged PSD (unitless; ~1 without a response).
    itc : ndarray, shape (n_conditions, n_channels, n_freqs)
        Inter-trial phase coherence in [0, 1] (NaN with fewer than 2 trials).
    itc_p : ndarray, shape (n_conditions, n_channels, n_freqs)
        Rayleigh p-value of the ITC.
    itc_chance : ndarray, shape (n_conditions,)
        ITC expected from random phases, ``sqrt(pi / (4 N))``.
    classification : SteadyStateConfusion | None
        Present when at least two conditions carry distinct frequencies.
    segment_seconds : float | None
        Welch segment length (s) of the SNR; None: the whole trial.
    n_neighbors, skip : ndarray of int, shape (n_conditions,)
        Neighbour bins averaged on each side and bins skipped next to the
        target (the Hann main lobe), on each condition's ``1 / T`` grid.
    neighbor_hz : float
        Neighbourhood width on each side (Hz).
    notes : tuple of str
        What was adapted (segments shortened to short trials, trials cut to a
        common length for the classification, ITC skipped for one trial, a
        classification that could not run).
    """

    conditions: tuple[str, ...]
    ch_names: tuple[str, ...]
    freqs: np.ndarray
    condition_freqs: tuple[float | None, ...]
    n_trials: np.ndarray
    snr: np.ndarray
    itc: np.ndarray
    itc_p: np.ndarray
    itc_chance: np.ndarray
    classification: SteadyStateConfusion | None
    segment_seconds: float | None
    n_neighbors: np.ndarray
    skip: np.ndarray
    neighbor_hz: float
    notes: tuple[str, ...] = field(default=())

    def index(self, condition: str) -> int:
        """Position of a condition."""
        try:
            return self.conditions.index(condition)
        except ValueError as err:
            raise ParameterError(f"no condition {condition!r}; have {', '.join(self.conditions)}") from err

    def best_channel(self, condition: str, freq: float) -> tuple[str, float]:
        """The channel with the highest SNR at ``freq`` in ``condition``, and that SNR.

        Examples
        --------
        >>> rng = np.random.default_rng(0)
        >>> t = np.arange(1000) / 250.0
        >>> x = rng.normal(size=(10, 2, 1000)); x[:, 1] += np.sin(2 * np.pi * 15 * t)
        >>> table = steady_state_by_condition({"f15": x}, 250.0, [15.0], ["O1", "Oz"])
        >>> table.best_channel("f15", 15.0)[0]
        'Oz'
        """
        k = self._freq_index(freq)
        c = self.index(condition)
        j = int(np.nanargmax(self.snr[c, :, k]))
        return self.ch_names[j], float(self.snr[c, j, k])

    def _freq_index(self, freq: float) -> int:
        hits = np.flatnonzero(np.isclose(self.freqs, float(freq)))
        if not hits.size:
            raise ParameterError(f"{freq:g} Hz was not analysed; frequencies are "
                                 f"{', '.join(freq_label(f) for f in self.freqs)}")
        return int(hits[0])

    def rows(self) -> list[dict[str, object]]:
        """Tidy rows ``{condition, metric, band, component, value, unit}`` for the metrics table.

        Metrics (``band`` is the frequency label ``'13Hz'``; ``component`` the
        channel name, or ``'all'`` for per-condition values):

        * ``steady_state_snr``, ``steady_state_itc``,
          ``steady_state_itc_rayleigh_p``: per condition, channel and frequency;
        * ``steady_state_itc_chance``, ``steady_state_n_trials``: per condition
          (band empty, component ``'all'``);
        * with a classification: ``steady_state_classification_accuracy``
          per condition (band: its true class) and for all trials (condition
          empty, band ``'all'``), ``steady_state_classification_chance``
          (condition empty) and ``steady_state_classification_confusion``:
          trials of the condition assigned to the class named in ``band``.

        Units are ``'1'`` (ratios, fractions, p-values, counts).

        Examples
        --------
        >>> rng = np.random.default_rng(0)
        >>> table = steady_state_by_condition({"rest": rng.normal(size=(4, 1, 500))}, 250.0, [12.0], ["Oz"])
        >>> sorted({r["metric"] for r in table.rows()})  # doctest: +NORMALIZE_WHITESPACE
        ['steady_state_itc', 'steady_state_itc_chance', 'steady_state_itc_rayleigh_p', 'steady_state_n_trials',
         'steady_state_snr']
        """
        out: list[dict[str, object]] = []

        def add(condition: str, metric: str, band: str, component: str, value: float) -> None:
            out.append({"condition": condition, "metric": metric, "band": band, "component": component,
                        "value": float(value), "unit": "1"})

        labels = [freq_label(f) for f in self.freqs]
        for c, cond in enumerate(self.conditions):
            for metric, values in (("steady_state_snr", self.snr), ("steady_state_itc", self.itc),
                                   ("steady_state_itc_rayleigh_p", self.itc_p)):
                for j, ch in enumerate(self.ch_names):
                    for k, band in enumerate(labels):
                        add(cond, metric, band, ch, values[c, j, k])
            add(cond, "steady_state_itc_chance", "", "all", self.itc_chance[c])
            add(cond, "steady_state_n_trials", "", "all", self.n_trials[c])
        cls = self.classification
        if cls is not None:
            for i, cond in enumerate(cls.conditions):
                add(cond, "steady_state_classification_accuracy", cls.truth[i], "all", cls.accuracy[i])
                for k, label in enumerate(cls.classes):
                    add(cond, "steady_state_classification_confusion", label, "all", cls.confusion[i, k])
            add("", "steady_state_classification_accuracy", "all", "all", cls.overall_accuracy)
            add("", "steady_state_classification_chance", "all", "all", cls.chance)
        return out


def _as_trials(name: str, x: object, n_channels: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise ParameterError(f"condition {name!r}: trials must be a real numeric array, got dtype {arr.dtype}")
    arr = arr.astype(float, copy=False)
    if arr.ndim == 2 and n_channels == 1:
        arr = arr[:, np.newaxis, :]
    if arr.ndim != 3:
        raise ParameterError(f"condition {name!r}: trials must be (n_trials, n_channels, n_times), got shape "
                             f"{arr.shape}")
    if arr.shape[0] < 1:
        raise ParameterError(f"condition {name!r} has no trials")
    if arr.shape[1] != n_channels:
        raise ParameterError(f"condition {name!r}: {arr.shape[1]} channels in the trials but {n_channels} "
                             "channel names")
    if not np.isfinite(arr).all():
        raise DataQualityError(f"condition {name!r}: trials contain NaN or Inf values")
    return arr


def _trial_psd(x: np.ndarray, sfreq: float, nper: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Trial-averaged Hann-Welch PSD on the ``1 / T`` grid, and the bins the window's main lobe covers.

    Segments of ``nper`` samples, 50 % overlap, zero-padded to the trial
    length ``T`` (grid spacing ``1/T``, the same grid as
    :func:`~harmonix.estimators.steady_state_classifier.classify_steady_state`). A Hann
    window of ``L = nper / sfreq`` s spreads a line over a main lobe of
    half-width ``2/L`` Hz; ``skip`` is the number of grid bins strictly
    inside it on each side, so that no leaked peak power counts as noise
    (1 bin for a whole-trial segment, 4 bins for 2-s segments of 5-s trials).
    """
    n_times = x.shape[-1]
    grid, psd = scipy.signal.welch(x, sfreq, window="hann", nperseg=nper, noverlap=nper // 2, nfft=n_times,
                                   detrend="constant", axis=-1)
    df = grid[1] - grid[0]
    lobe_bins = 2.0 * sfreq / nper / df
    skip = max(1, int(np.ceil(lobe_bins - 1e-9)) - 1)
    return grid, psd.mean(axis=0), skip


def steady_state_by_condition(
    trials: Mapping[str, np.ndarray],
    sfreq: float,
    freqs: Sequence[float],
    ch_names: Sequence[str],
    *,
    condition_freqs: Mapping[str, float | None] | None = None,
    segment_seconds: float | None = None,
    neighbor_hz: float = 2.0,
    window: str | None = "hann",
    classify: bool = True,
    classify_segment_seconds: float = 2.0,
    n_harmonics: int = 2,
    alpha: float = 0.05,
    line_noise: str | float | None = "auto",
) -> SteadyStateTable:
    """Steady-state SNR and ITC per condition, channel and frequency, and trial classification.

    **Power SNR.** For the ``N`` trials of a condition (each ``T`` s long),
    the Hann-windowed PSD of every trial and channel is averaged over trials,
    :math:`\\bar P(f) = \\frac1N \\sum_n P_n(f)`, on the grid
    :math:`f_k = k/T`, and

    .. math::

        \\mathrm{SNR}(f) = \\frac{\\bar P(f_k)}{\\frac{1}{2M}\\sum_{j=s+1}^{s+M}
        \\left[\\bar P(f_{k-j}) + \\bar P(f_{k+j})\\right]}

    (:func:`~harmonix.estimators.entrainment.steady_state_snr`) with
    :math:`f_k` the bin nearest ``f``, :math:`M = \\mathrm{round}(
    \\text{neighbor\\_hz} \\cdot T)` neighbours on each side and :math:`s`
    bins skipped next to the target: those strictly inside the Hann main
    lobe (half-width :math:`2/L` for segments of :math:`L` s), so the
    peak's leakage is not counted as noise.

    Resolution: by default each trial is one Hann segment (``L = T``,
    resolution ``1/T``; ``s = 1``; with 5-s trials and 2-Hz neighbourhoods
    that is the usual 10 bins on each side beyond the adjacent one). A
    steady-state response is a spectral line, whose power ratio to the
    background grows with ``L``; the variance reduction that Welch averaging
    would buy is already provided by averaging the ``N`` trials, so shorter
    segments (``segment_seconds``) only blur the line. Averaging trial PSDs
    keeps responses that are not phase-locked (total power); about 1
    without a response (Meigen & Bach 1999; Norcia et al. 2015).

    **ITC.** Per channel, the phase of the Hann-windowed Fourier transform of
    each whole trial exactly at ``f`` (:func:`~harmonix.estimators.
    entrainment.inter_trial_coherence`):

    .. math:: \\mathrm{ITC}(f) = \\left|\\frac1N\\sum_n X_n(f)/|X_n(f)|\\right|,

    with the Rayleigh p-value :math:`p = \\exp(\\sqrt{1 + 4N + 4(N^2 - R^2)}
    - (1 + 2N))`, :math:`R = N\\,\\mathrm{ITC}` (Zar 1999), and the chance
    level :math:`\\sqrt{\\pi/(4N)}`. NaN for a condition with one trial.

    **Classification.** When at least two conditions carry distinct
    frequencies, every trial of every condition is classified by
    :func:`~harmonix.estimators.steady_state_classifier.classify_steady_state` among
    those frequencies (score: the same SNR, averaged over ``n_harmonics``
    harmonics, best channel); conditions without a frequency are rest, and
    when there are any, a trial whose best score does not beat the control
    frequencies at ``alpha`` is labelled rest. A single trial's PSD needs
    Welch averaging to be stable, so this step keeps
    ``classify_steady_state``'s 2-s segments (``classify_segment_seconds``,
    at most the trial length). Trials are cut to the shortest condition's
    length for this step. Accuracy per condition, overall, and chance
    ``1 / n_classes``.

    Parameters
    ----------
    trials : dict of str to ndarray, shape (n_trials, n_channels, n_times)
        Each condition's trials (V; any unit works, the results are ratios).
        Conditions may differ in trial count and length.
    sfreq : float
        Sampling rate (Hz).
    freqs : sequence of float
        Frequencies to analyse (Hz); conditions' own frequencies are added.
    ch_names : sequence of str
        Channel names (the trials' second axis).
    condition_freqs : dict of str to float | None
        Stimulation frequency each condition carries (e.g. from
        :attr:`harmonix.io.conditions.Condition.frequency`).
    segment_seconds : float | None
        Welch segment length (s) for the SNR; ``None`` (default) = the whole
        trial. Capped at the trial length.
    neighbor_hz : float
        Neighbourhood on each side of ``f`` (Hz) for the noise estimate.
    window : str | None
        Taper of the ITC's Fourier transform.
    classify : bool
        Run the classification when conditions carry frequencies.
    classify_segment_seconds : float
        Welch segment length for the per-trial classification.
    n_harmonics, alpha, line_noise
        Passed to :func:`~harmonix.estimators.steady_state_classifier.classify_steady_state`
        (``line_noise``: ``'auto'`` detects mains on the trials, a frequency
        names it, ``'off'`` keeps every harmonic).

    Returns
    -------
    table : SteadyStateTable

    Raises
    ------
    ParameterError
        No conditions or frequencies, a non-positive or above-Nyquist
        frequency, trials too short for a frequency or its neighbours,
        shape mismatches, a frequency for an unknown condition.
    DataQualityError
        NaN/Inf samples.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(1250) / 250.0
    >>> stim = np.sin(2 * np.pi * 13 * t) + rng.normal(size=(20, 1, 1250))
    >>> rest = rng.normal(size=(20, 1, 1250))
    >>> table = steady_state_by_condition({"f13": stim, "rest": rest}, 250.0, [13.0], ["Oz"],
    ...                                   condition_freqs={"f13": 13.0})
    >>> bool(table.snr[0, 0, 0] > 10), bool(table.snr[1, 0, 0] < 2)
    (True, True)
    >>> bool(table.itc[0, 0, 0] > 0.9), bool(table.itc_p[0, 0, 0] < 1e-6)
    (True, True)
    """
    if not isinstance(trials, Mapping) or not trials:
        raise ParameterError("steady_state_by_condition needs at least one condition's trials")
    sfreq = _positive(sfreq, "sfreq")
    ch_names = tuple(str(c) for c in ch_names)
    names = tuple(str(n) for n in trials)
    cond_freqs = dict(condition_freqs or {})
    unknown = [n for n in cond_freqs if n not in names]
    if unknown:
        raise ParameterError(f"condition_freqs names {', '.join(map(repr, unknown))}, not among the conditions "
                             f"{', '.join(names)}")
    per_cond = tuple(None if cond_freqs.get(n) is None else _positive(cond_freqs[n], f"frequency of {n!r}")
                     for n in names)
    analysed: list[float] = []
    for f in [*list(freqs), *[f for f in per_cond if f is not None]]:
        f = _positive(f, "frequency (Hz)")
        if f >= sfreq / 2:
            raise ParameterError(f"frequency {f:g} Hz is at or above the Nyquist frequency {sfreq / 2:g} Hz")
        if not any(np.isclose(f, g) for g in analysed):
            analysed.append(f)
    if not analysed:
        raise ParameterError("steady_state_by_condition needs at least one frequency (e.g. 13,17,21 Hz)")
    seg_req = None if segment_seconds is None else _positive(segment_seconds, "segment_seconds")
    neighbor_hz = _positive(neighbor_hz, "neighbor_hz")
    cls_seg = _positive(classify_segment_seconds, "classify_segment_seconds")

    data = {n: _as_trials(n, trials[n], len(ch_names)) for n in names}
    n_c, n_ch, n_f = len(names), len(ch_names), len(analysed)
    snr = np.full((n_c, n_ch, n_f), np.nan)
    itc = np.full((n_c, n_ch, n_f), np.nan)
    itc_p = np.full((n_c, n_ch, n_f), np.nan)
    chance = np.full(n_c, np.nan)
    n_nb_all = np.zeros(n_c, dtype=int)
    skip_all = np.zeros(n_c, dtype=int)
    notes: list[str] = []
    for c, name in enumerate(names):
        x = data[name]
        n_trials, _, n_times = x.shape
        nper = n_times if seg_req is None else min(int(round(seg_req * sfreq)), n_times)
        if seg_req is not None and nper < int(round(seg_req * sfreq)):
            notes.append(f"{name}: trials of {n_times / sfreq:.3g} s are shorter than segment_seconds="
                         f"{seg_req:g}; one segment per trial")
        grid, mean_psd, skip = _trial_psd(x, sfreq, nper)
        n_nb = max(1, int(round(neighbor_hz / (grid[1] - grid[0]))))
        skip_all[c], n_nb_all[c] = skip, n_nb
        for k, f in enumerate(analysed):
            try:
                snr[c, :, k] = steady_state_snr(mean_psd, grid, f, n_neighbors=n_nb, skip=skip)
                if n_trials >= 2:
                    res = inter_trial_coherence(x, sfreq, f, window=window)
                    itc[c, :, k], itc_p[c, :, k] = res.itc, res.p_value
            except ParameterError as err:
                raise ParameterError(f"condition {name!r}: {err}") from err
        if n_trials >= 2:
            chance[c] = itc_chance_level(n_trials)
        else:
            notes.append(f"{name}: one trial, no ITC")

    confusion = None
    carried = sorted({f for f in per_cond if f is not None})
    if classify and len(carried) >= 2:
        min_len = min(x.shape[-1] for x in data.values())
        if any(x.shape[-1] != min_len for x in data.values()):
            notes.append(f"classification: trials cut to the shortest condition's {min_len / sfreq:.3g} s")
        has_rest = any(f is None for f in per_cond)
        stacked = np.concatenate([data[n][..., :min_len] for n in names], axis=0)
        try:
            result = classify_steady_state(stacked, sfreq, carried, rest_label=0.0 if has_rest else None,
                                           alpha=alpha, n_harmonics=n_harmonics, line_noise=line_noise,
                                           segment_seconds=min(cls_seg, min_len / sfreq), neighbor_hz=neighbor_hz)
        except ParameterError as err:
            notes.append(f"classification skipped: {err}")
        else:
            notes.extend(f"classification: {n}" for n in result.notes)
            confusion = _confusion(names, per_cond, [data[n].shape[0] for n in names], carried, has_rest, result)
    elif classify and len(carried) == 1:
        notes.append("classification skipped: only one stimulation frequency among the conditions")

    return SteadyStateTable(
        conditions=names, ch_names=ch_names, freqs=np.asarray(analysed), condition_freqs=per_cond,
        n_trials=np.array([data[n].shape[0] for n in names]), snr=snr, itc=itc, itc_p=itc_p, itc_chance=chance,
        classification=confusion, segment_seconds=seg_req, n_neighbors=n_nb_all, skip=skip_all,
        neighbor_hz=neighbor_hz, notes=tuple(notes),
    )


def _positive(value: object, what: str) -> float:
    try:
        val = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{what} must be a positive number, got {value!r}") from err
    if not (np.isfinite(val) and val > 0):
        raise ParameterError(f"{what} must be a positive number, got {value!r}")
    return val


def _confusion(
    names: tuple[str, ...], per_cond: tuple[float | None, ...], counts: list[int], carried: list[float],
    has_rest: bool, result: SteadyStateClassification,
) -> SteadyStateConfusion:
    classes = [freq_label(f) for f in carried] + ([REST_LABEL] if has_rest else [])
    predicted = [REST_LABEL if p == 0.0 else freq_label(p) for p in result.predicted]
    matrix = np.zeros((len(names), len(classes)), dtype=int)
    truth = []
    start = 0
    for i, (name, f, n) in enumerate(zip(names, per_cond, counts)):
        truth.append(REST_LABEL if f is None else freq_label(f))
        for label in predicted[start:start + n]:
            matrix[i, classes.index(label)] += 1
        start += n
    correct = np.array([matrix[i, classes.index(t)] for i, t in enumerate(truth)])
    totals = np.asarray(counts)
    return SteadyStateConfusion(
        classes=tuple(classes), candidates=np.asarray(carried, dtype=float), conditions=names, truth=tuple(truth),
        confusion=matrix, accuracy=correct / totals, overall_accuracy=float(correct.sum() / totals.sum()),
        chance=1.0 / len(classes), result=result,
    )
