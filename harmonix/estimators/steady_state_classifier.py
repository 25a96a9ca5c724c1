"""Steady-state classification: which of several stimulation frequencies, or none, each trial carries.

:func:`classify_steady_state` scores every candidate by the frequency-tagging
SNR (:func:`~harmonix.estimators.entrainment.steady_state_snr`) at its
harmonics, leaves out harmonics that fall on mains hum
(:func:`harmonix.spectral.line_noise.detect_line_noise`), and decides "no
response" against control frequencies of the same trial at a stated
false-positive rate.

References
----------
Meigen T., Bach M. (1999). On the statistical significance of electro-
physiological steady-state responses. Doc Ophthalmol 98:207-232.

Norcia A. M., Appelbaum L. G., Ales J. M., Cottereau B. R., Rossion B. (2015).
The steady-state visual evoked potential in vision research: a review.
J Vis 15(6):4.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import mne
import numpy as np
import scipy.signal

from harmonix.errors import DataWarning, ParameterError
from harmonix.estimators.entrainment import _check_positive, _epochs_array, steady_state_snr

__all__ = ["MAINS_COLLISION_HZ", "SteadyStateClassification", "classify_steady_state"]


@dataclass(frozen=True)
class SteadyStateClassification:
    """Per-trial decision among candidate stimulation frequencies.

    Attributes
    ----------
    predicted : ndarray, shape (n_trials,)
        Winning candidate frequency (Hz), or ``rest_label`` for trials whose
        best candidate does not beat the null.
    scores : ndarray, shape (n_trials, n_candidates)
        Score of every candidate (SNR averaged over its kept harmonics, aggregated over channels).
    p_values : ndarray, shape (n_trials,)
        Sidak-adjusted p-value of the best candidate, ``1 - (1 - min_c p_c)^K``.
    candidates : ndarray
        Candidate frequencies (Hz).
    control_freqs : ndarray
        Control frequencies (Hz) forming the null distribution.
    candidate_p_values : ndarray, shape (n_trials, n_candidates)
        Empirical p-value ``p_c`` of every candidate against its own null.
    excluded_harmonics : dict
        ``{candidate: (harmonic frequencies left out, ...)}`` for harmonics within 1 Hz of a mains harmonic.
    line_noise : LineNoise | None
        Mains detection on the trials (``line_noise='auto'``).
    notes : tuple of str
        Warnings issued (mains collisions).
    """

    predicted: np.ndarray
    scores: np.ndarray
    p_values: np.ndarray
    candidates: np.ndarray
    control_freqs: np.ndarray
    candidate_p_values: np.ndarray | None = None
    excluded_harmonics: dict = field(default_factory=dict)
    line_noise: Any = None
    notes: tuple[str, ...] = ()


MAINS_COLLISION_HZ = 1.0


def classify_steady_state(
    epochs: np.ndarray | mne.BaseEpochs,
    sfreq: float | None,
    candidates: Sequence[float],
    *,
    rest_label: float | None = None,
    alpha: float = 0.05,
    threshold: float | None = None,
    n_harmonics: int = 2,
    segment_seconds: float = 2.0,
    neighbor_hz: float = 2.0,
    channel_aggregate: str = "max",
    control_range: tuple[float, float] | None = None,
    line_noise: str | float | None = "auto",
    tmin: float | None = None,
    tmax: float | None = None,
    picks: Any = None,
) -> SteadyStateClassification:
    """Which candidate stimulation frequency (or none) each trial carries.

    For every trial and channel a Welch PSD is computed inside the trial
    (Hann segments of ``segment_seconds`` with 50 % overlap, zero-padded to
    the trial length so that the grid spacing is ``1/T``). The SNR of
    :func:`steady_state_snr` is taken at each candidate ``f`` and its
    harmonics ``h f`` (``h = 1..n_harmonics``), with ``neighbor_hz`` Hz of
    neighbours on each side beyond one Welch resolution ``1/segment_seconds``
    skipped; the score :math:`S_c` of candidate ``c`` is the mean SNR over its
    kept harmonics :math:`H_c`, aggregated over channels (``'max'``: the best
    channel, ``'mean'``). The trial is assigned the candidate with the highest
    score.

    Mains. With ``line_noise='auto'`` mains interference is detected on the
    trials (:func:`harmonix.spectral.line_noise.detect_line_noise`); with
    ``50`` or ``60`` every harmonic of that frequency counts; ``None`` or
    ``'off'`` skips it. A candidate harmonic within 1 Hz of a (detected)
    mains harmonic is left out of :math:`H_c` with a
    :class:`~harmonix.errors.DataWarning` (a 30 Hz candidate's second harmonic
    is 60 Hz hum, not response). When every harmonic of a candidate collides
    they are all kept, with a warning that its score is unreliable.

    Rest decision (when ``rest_label`` is given), calibrated at a stated
    false-positive rate ``alpha``. The null comes from the same trial:
    control frequencies :math:`g` are the grid points in ``control_range``
    (default: from ``min(candidates)/2`` to the highest frequency whose
    harmonics and neighbours stay below Nyquist) whose harmonics
    :math:`h g` (``h = 1..n_harmonics``) are more than 1 Hz from every
    candidate harmonic (``h = 1..n_harmonics + 1``) and every mains harmonic.
    The null score of candidate ``c`` at ``g`` uses the same harmonic numbers,
    :math:`S_c(g) = \\mathrm{mean}_{h \\in H_c} \\mathrm{SNR}(h g)`, and

    .. math::

        p_c = \\frac{1 + \\#\\{g: S_c(g) \\ge S_c\\}}{1 + n_g}, \\qquad
        p = 1 - (1 - \\min_c p_c)^K

    (Sidak correction for the ``K`` candidates, i.e. a max-statistic test).
    The trial is labelled ``rest_label`` when ``p > alpha``; without a
    response this happens with probability ``1 - alpha`` (slightly more: the
    permutation p-value is discrete in steps of ``1/(1 + n_g)``, and treats
    controls and candidates as exchangeable). A fixed ``threshold`` on the best
    score can be given instead.

    Parameters
    ----------
    epochs, sfreq, tmin, tmax, picks
        As :func:`inter_trial_coherence`.
    candidates : sequence of float
        Stimulation frequencies in Hz.
    rest_label : float | None
        Label for "no stimulation" (e.g. ``0.0`` or ``np.nan``); ``None``
        always picks a candidate.
    alpha : float
        False-positive rate of "response" on trials without one.
    threshold : float | None
        Fixed score threshold replacing the test.
    n_harmonics : int
        Harmonics per candidate in the score.
    segment_seconds : float
        Welch segment length (s) within each trial.
    neighbor_hz : float
        Width (Hz) of the neighbourhood on each side.
    channel_aggregate : {'max', 'mean'}
        How channel scores are combined.
    control_range : (float, float) | None
        Range of the control frequencies (Hz). More controls give a finer
        p-value (its smallest value is ``1 / (1 + n_controls)``).
    line_noise : {'auto', 50, 60, None, 'off'}
        Mains handling (see above).

    Returns
    -------
    result : SteadyStateClassification
    """
    from harmonix.spectral.line_noise import detect_line_noise, mains_harmonics

    data, sfreq, _ = _epochs_array(epochs, sfreq, tmin, tmax, picks)
    cands = np.atleast_1d(np.asarray(candidates, dtype=float))
    if cands.size < 1 or np.any(cands <= 0):
        raise ParameterError(f"candidates must be positive frequencies in Hz, got {candidates!r}")
    if channel_aggregate not in ("max", "mean"):
        raise ParameterError(f"channel_aggregate must be 'max' or 'mean', got {channel_aggregate!r}")
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must be in (0, 1), got {alpha!r}")
    n_harmonics = int(n_harmonics)
    if n_harmonics < 1:
        raise ParameterError(f"n_harmonics must be >= 1, got {n_harmonics}")
    n_trials, _, n_times = data.shape
    nper = int(round(_check_positive(segment_seconds, "segment_seconds") * sfreq))
    if nper > n_times:
        raise ParameterError(
            f"segment_seconds={segment_seconds:g} s is longer than the trials ({n_times / sfreq:.2f} s)"
        )
    grid, psd = scipy.signal.welch(
        data, sfreq, window="hann", nperseg=nper, noverlap=nper // 2, nfft=n_times, detrend="constant", axis=-1
    )
    df = grid[1] - grid[0]
    skip = max(1, int(round(sfreq / nper / df)))
    n_nb = max(1, int(round(neighbor_hz / df)))
    reach = (skip + n_nb) * df

    top = cands.max() * n_harmonics
    if top + reach >= sfreq / 2:
        raise ParameterError(
            f"harmonic {n_harmonics} of {cands.max():g} Hz plus its neighbours ({top + reach:g} Hz) reaches "
            f"the Nyquist frequency {sfreq / 2:g} Hz; lower n_harmonics or neighbor_hz"
        )

    # Mains harmonics to avoid
    ln_result = None
    if line_noise is None or (isinstance(line_noise, str) and line_noise.lower() == "off"):
        mains = np.array([])
    elif isinstance(line_noise, str) and line_noise.lower() == "auto":
        ln_result = detect_line_noise(data, sfreq, segment_seconds=segment_seconds)
        mains = ln_result.detected_harmonics
    else:
        try:
            mains = mains_harmonics(float(line_noise), sfreq)
        except (TypeError, ValueError) as err:
            raise ParameterError(f"line_noise must be 'auto', 'off', None or a frequency, got {line_noise!r}") from err
    harm_sets: list[np.ndarray] = []
    excluded: dict[float, tuple[float, ...]] = {}
    notes: list[str] = []
    for c in cands:
        hs = np.arange(1, n_harmonics + 1)
        near = np.array([mains.size > 0 and np.min(np.abs(mains - h * c)) <= MAINS_COLLISION_HZ for h in hs])
        if near.any():
            bad = tuple(float(h * c) for h in hs[near])
            excluded[float(c)] = bad
            src = f"detected mains {ln_result.freq:g} Hz" if ln_result is not None else f"mains {float(line_noise):g} Hz"
            if near.all():
                msg = (f"candidate {c:g} Hz: every harmonic ({', '.join(f'{b:g}' for b in bad)} Hz) is within "
                       f"{MAINS_COLLISION_HZ:g} Hz of a harmonic of the {src}; kept, its score is unreliable")
            else:
                hs = hs[~near]
                msg = (f"candidate {c:g} Hz: harmonic(s) {', '.join(f'{b:g}' for b in bad)} Hz within "
                       f"{MAINS_COLLISION_HZ:g} Hz of a harmonic of the {src}; left out of the decision")
            warnings.warn(msg, DataWarning, stacklevel=2)
            notes.append(msg)
        harm_sets.append(hs)

    snr_cache: dict[float, np.ndarray] = {}

    def snr_at(f: float) -> np.ndarray:
        if f not in snr_cache:
            snr_cache[f] = steady_state_snr(psd, grid, f, n_neighbors=n_nb, skip=skip)  # (n_trials, n_channels)
        return snr_cache[f]

    def score(f: float, hs: np.ndarray) -> np.ndarray:
        snr = np.mean([snr_at(h * f) for h in hs], axis=0)
        return snr.max(axis=-1) if channel_aggregate == "max" else snr.mean(axis=-1)

    scores = np.stack([score(f, hs) for f, hs in zip(cands, harm_sets)], axis=-1)
    best = scores.max(axis=-1)
    predicted = cands[np.argmax(scores, axis=-1)].astype(float)

    h_max = max(int(hs.max()) for hs in harm_sets)
    if control_range is not None:
        lo, hi = control_range
    else:
        lo, hi = cands.min() / 2.0, (sfreq / 2 - reach - df) / h_max
    lo = max(lo, reach + df)
    taken = np.concatenate([np.array([h * c for c in cands for h in range(1, n_harmonics + 2)]), mains])
    controls = []
    for f in grid[(grid >= lo) & (grid <= hi)]:
        harm = f * np.arange(1, h_max + 1)
        if harm[-1] + reach >= sfreq / 2:
            continue
        if np.min(np.abs(harm[:, None] - taken[None, :])) > 1.0:
            controls.append(f)
    controls = np.asarray(controls)
    k = cands.size
    if controls.size:
        cand_p = np.stack(
            [(1.0 + (np.stack([score(g, hs) for g in controls], axis=-1) >= scores[:, [i]]).sum(axis=-1))
             / (1.0 + controls.size) for i, hs in enumerate(harm_sets)],
            axis=-1,
        )
        p_values = 1.0 - (1.0 - cand_p.min(axis=-1)) ** k
    else:
        cand_p = np.full((n_trials, k), np.nan)
        p_values = np.full(n_trials, np.nan)

    if rest_label is not None:
        if threshold is not None:
            rest = best < float(threshold)
        else:
            if controls.size < int(np.ceil(k / alpha)):
                raise ParameterError(
                    f"only {controls.size} control frequencies for a test of {k} candidates at alpha={alpha:g}; "
                    f"widen control_range or pass a fixed threshold"
                )
            rest = p_values > alpha
        predicted = np.where(rest, float(rest_label), predicted)
    return SteadyStateClassification(predicted, scores, p_values, cands, controls, cand_p, excluded, ln_result,
                                     tuple(notes))
