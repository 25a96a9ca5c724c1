"""Mains detection (issue 15 part 1) and the calibrated rest decision (part 3)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats

from harmonix.errors import DataWarning
from harmonix.estimators.steady_state_classifier import classify_steady_state
from harmonix.spectral.line_noise import detect_line_noise

SFREQ = 250.0


def test_detects_60hz_and_harmonic(rng):
    t = np.arange(int(20 * SFREQ)) / SFREQ
    x = rng.normal(size=(3, t.size))
    x[1] += 0.5 * np.sin(2 * np.pi * 60 * t) + 0.3 * np.sin(2 * np.pi * 120 * t)
    res = detect_line_noise(x, SFREQ)
    assert res.freq == 60.0
    assert res.detected_harmonics.tolist() == [60.0, 120.0]
    assert res.excess_db[0] > 10 and "60 Hz" in res.summary()
    x50 = rng.normal(size=(2, t.size)) + np.sin(2 * np.pi * 50 * t)
    assert detect_line_noise(x50, SFREQ).freq == 50.0


def test_no_false_detection_on_noise(rng):
    """Family-wise rate alpha=0.05: false detections on white noise within the binomial 99 % interval."""
    n = 200
    hits = sum(detect_line_noise(rng.normal(size=(4, 2500)), SFREQ, alpha=0.05).freq is not None for _ in range(n))
    assert hits <= scipy.stats.binom.ppf(0.995, n, 0.05)


def _pink(rng, shape):
    """1/f-power noise (amplitude ~ f^-1/2) by shaping white noise in the frequency domain."""
    spec = np.fft.rfft(rng.normal(size=shape), axis=-1)
    f = np.fft.rfftfreq(shape[-1], 1 / SFREQ)
    spec *= 1.0 / np.sqrt(np.maximum(f, 1.0))
    return np.fft.irfft(spec, n=shape[-1], axis=-1)


def test_rest_false_positive_rate_matches_alpha(rng):
    """Acceptance 3: 'response' on rest trials at rate alpha within the binomial 99 % interval."""
    n_rest, n_stim, alpha = 600, 60, 0.05
    cands = [9.0, 11.0, 14.0]
    t = np.arange(int(4 * SFREQ)) / SFREQ
    rest = _pink(rng, (n_rest, 2, t.size))
    stim = _pink(rng, (n_stim, 2, t.size))
    truth = np.array([cands[i % 3] for i in range(n_stim)])
    for i, f in enumerate(truth):
        stim[i] += 0.15 * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    res = classify_steady_state(np.concatenate([rest, stim]), SFREQ, cands, rest_label=0.0, alpha=alpha,
                                line_noise="off")
    fp = int(np.sum(res.predicted[:n_rest] != 0.0))
    lo, hi = scipy.stats.binom.interval(0.99, n_rest, alpha)
    print(f"\nrest trials called 'response': {fp}/{n_rest} = {fp / n_rest:.3f} (alpha {alpha}, 99 % interval "
          f"{lo:.0f}-{hi:.0f}); stimulated trials right: {np.mean(res.predicted[n_rest:] == truth):.2f}; "
          f"{res.control_freqs.size} control frequencies")
    assert lo <= fp <= hi
    assert np.mean(res.predicted[n_rest:] == truth) >= 0.9
    # alpha is the knob: at 0.1 about twice as many rest trials are called 'response'
    loose = classify_steady_state(rest, SFREQ, cands, rest_label=0.0, alpha=0.1, line_noise="off")
    fp10 = int(np.sum(loose.predicted != 0.0))
    lo10, hi10 = scipy.stats.binom.interval(0.99, n_rest, 0.1)
    print(f"alpha 0.1: {fp10}/{n_rest} (99 % interval {lo10:.0f}-{hi10:.0f})")
    assert lo10 <= fp10 <= hi10


def test_mains_collision_warns_and_excludes(rng):
    t = np.arange(int(4 * SFREQ)) / SFREQ
    ep = rng.normal(size=(10, 1, t.size)) + 2.0 * np.sin(2 * np.pi * 60 * t)
    ep[:5] += 0.5 * np.sin(2 * np.pi * 20 * t)
    with pytest.warns(DataWarning, match="30 Hz: harmonic"):
        res = classify_steady_state(ep, SFREQ, [20.0, 30.0], n_harmonics=2)
    assert res.excluded_harmonics == {30.0: (60.0,)} and res.line_noise.freq == 60.0
    assert res.notes and np.all(res.predicted[:5] == 20.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        off = classify_steady_state(ep, SFREQ, [20.0, 30.0], n_harmonics=2, line_noise="off")
    assert off.excluded_harmonics == {}
    with pytest.warns(DataWarning):
        fixed = classify_steady_state(ep, SFREQ, [20.0, 30.0], n_harmonics=2, line_noise=60)
    assert fixed.excluded_harmonics == {30.0: (60.0,)}


@pytest.mark.real_data
def test_muse_ssvep_mains_collision(shared_data):
    """Acceptance 1: Muse SSVEP (marker 1 = 30 Hz, 2 = 20 Hz) >= 90 % right with defaults; 60 Hz reported."""
    from harmonix.io import load_eeg
    from harmonix.io.conditions import condition_trials, conditions_from_events

    raw = load_eeg(shared_data / "eegnb_muse_ssvep_s1_2017-09-14-21.20.04.csv", verbose=False)
    m1, m2 = conditions_from_events(raw, "m1=1@30Hz,m2=2@20Hz", tmax=3.0)
    x = np.concatenate([condition_trials(raw, m1, picks=["Right AUX"]), condition_trials(raw, m2, picks=["Right AUX"])])
    truth = np.r_[np.full(len(condition_trials(raw, m1, picks=["Right AUX"])), 30.0), np.full(18, 20.0)]
    sfreq = raw.info["sfreq"]
    with pytest.warns(DataWarning, match="60 Hz"):
        res = classify_steady_state(x, sfreq, [20.0, 30.0])
    acc = np.mean(res.predicted == truth)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = np.mean(classify_steady_state(x, sfreq, [20.0, 30.0], line_noise="off").predicted == truth)
    print(f"\nMuse AUX: {res.line_noise.summary()}; excluded {res.excluded_harmonics}; accuracy {acc:.2f} "
          f"(without mains handling {before:.2f}), n={truth.size}")
    assert res.line_noise.freq == 60.0 and res.excluded_harmonics == {30.0: (60.0,)}
    assert acc >= 0.9
