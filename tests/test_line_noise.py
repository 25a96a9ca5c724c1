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


# ---- mains in every analysis, the notch, AUX channel typing (issue 15 parts 1 and 2)


def _hum_raw(rng, mains=60.0, amplitude=20e-6, seconds=60.0, sfreq=256.0):
    import mne

    t = np.arange(int(seconds * sfreq)) / sfreq
    x = rng.normal(0, 10e-6, (6, t.size)) + amplitude * np.sin(2 * np.pi * mains * t)
    return mne.io.RawArray(x, mne.create_info([f"E{i}" for i in range(6)], sfreq, "eeg"), verbose=False)


def test_filtered_source_equals_mne_notch_filter(rng):
    """The streaming notch, read block by block, equals Raw.notch_filter on the whole span.

    Away from the span's edges (half the filter length): there MNE extends by point reflection
    (2 x[0] - x), harmonix by mirror reflection, as its filter bank does.
    """
    from harmonix.spectral.filterbank import ArraySource, FilteredSource
    from harmonix.spectral.line_noise import notch_taps

    raw = _hum_raw(rng, seconds=30.0)
    taps, freqs = notch_taps(60.0, raw.info["sfreq"])
    expected = raw.copy().notch_filter(freqs, verbose=False).get_data()
    source = FilteredSource(ArraySource(raw.get_data()), taps)
    blocks = [source.read(a, min(a + 1000, source.n_times)) for a in range(0, source.n_times, 1000)]
    got = np.concatenate(blocks, axis=1)
    inner = slice(taps.size // 2, -(taps.size // 2))
    assert np.max(np.abs(got - expected)[:, inner]) < 1e-9 * np.max(np.abs(expected))
    assert np.max(np.abs(got - expected)) < np.max(np.abs(expected))  # the edges differ, but stay bounded


def test_analysis_reports_and_removes_mains(rng):
    from harmonix.pipeline import analyze_eeg
    from harmonix.spectral.bands import Band

    raw = _hum_raw(rng)
    with pytest.warns(DataWarning, match=r"mains 60 Hz detected.*removed by a notch at 60, 120 Hz"):
        notched = analyze_eeg(raw, session="hum")
    record = notched.params["line_noise"]
    assert record["detected_hz"] == 60.0 and record["notch"]["applied"] and record["notch"]["freqs_hz"] == [60.0, 120.0]
    with pytest.warns(DataWarning, match=r"not removed \(notch off\)"):
        kept = analyze_eeg(raw, session="hum", notch="off", bands=[Band("gamma", 30.0, 62.0)])
    freqs, psd = kept.arrays["psd_freqs"], kept.arrays["psd"]
    at_60 = np.argmin(np.abs(freqs - 60.0))
    assert psd[0, at_60] > 50 * np.median(psd[0, (freqs > 50) & (freqs < 58)])  # the hum is in the spectrum
    removed = analyze_eeg(raw, session="hum", bands=[Band("gamma", 30.0, 62.0)]).arrays["psd"]
    assert removed[0, at_60] < 0.1 * psd[0, at_60]
    clean = _hum_raw(rng, amplitude=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        result = analyze_eeg(clean, session="clean")
    assert result.params["line_noise"]["detected_hz"] is None and not result.params["line_noise"]["notch"]["applied"]
    with pytest.raises(Exception, match="notch must be"):
        analyze_eeg(clean, session="clean", notch=55)


def test_channel_types_keep_aux_as_eeg(shared_data):
    from harmonix.errors import ParameterError
    from harmonix.io import load_eeg

    path = shared_data / "eegnb_muse_ssvep_s1_2017-09-14-21.20.04.csv"
    assert load_eeg(path, verbose=False).get_channel_types(["Right AUX"]) == ["misc"]
    raw = load_eeg(path, verbose=False, channel_types={"Right AUX": "eeg"})
    assert raw.get_channel_types(["Right AUX"]) == ["eeg"]
    with pytest.raises(ParameterError, match="'Left AUX', not in the file"):
        load_eeg(path, verbose=False, channel_types={"Left AUX": "eeg"})
    with pytest.raises(ParameterError, match="unknown channel type"):
        load_eeg(path, verbose=False, channel_types={"Right AUX": "brain"})


def test_cli_channel_types_and_notch(shared_data, tmp_path, capsys):
    import json

    from harmonix.cli import main

    path = shared_data / "eegnb_muse_ssvep_s1_2017-09-14-21.20.04.csv"
    out = tmp_path / "out"
    assert main(["-q", "analyze", str(path), "--out", str(out), "--harmonics", "off",
                 "--channel-types", "Right AUX=eeg", "--notch", "60"]) == 0
    params = json.loads(next(out.glob("*/params.json")).read_text())
    assert "Right AUX" in params["channels_analysed"]
    assert params["line_noise"]["notch"]["applied"] and params["line_noise"]["notch"]["freqs_hz"][0] == 60.0
    assert "harmonix: warning:" in capsys.readouterr().err  # the 60 Hz hum is reported on the console
    assert main(["-q", "analyze", str(path), "--out", str(tmp_path / "bad"), "--channel-types", "Right AUX"]) == 2
    assert "each item must be NAME=TYPE" in capsys.readouterr().err
