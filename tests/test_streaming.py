"""The one-pass analysis: streamed accumulators equal their batch estimators, and gaps are gaps."""

from __future__ import annotations

import mne
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmonix.estimators.accumulators import PhaseLockingSum, TrialPhaseLockingSum, WindowedLempelZiv
from harmonix.estimators.complexity import lempel_ziv_complexity
from harmonix.estimators.locking import plv_matrix, plv_over_trials
from harmonix.io.events import good_spans
from harmonix.pipeline import analyze_eeg
from harmonix.spectral.bands import Band, load_bands
from harmonix.spectral.filterbank import analytic_signal, iter_analytic_blocks
from harmonix.spectral.psd import compute_psd
from harmonix.spectral.segments import WelchAccumulator, WindowCollector, WindowMeans, tile_windows

SFREQ = 100.0


def _raw(data: np.ndarray, names=None) -> mne.io.RawArray:
    names = names or [f"E{i}" for i in range(data.shape[0])]
    return mne.io.RawArray(data, mne.create_info(names, SFREQ, "eeg"), verbose=False)


@settings(max_examples=25, deadline=None)
@given(block=st.integers(50, 3000), n_times=st.integers(600, 4000), nperseg=st.integers(20, 400))
def test_streamed_welch_equals_compute_psd_for_any_block_size(block, n_times, nperseg):
    x = np.random.default_rng(n_times).standard_normal((3, n_times))
    accumulator = WelchAccumulator(3, SFREQ, np.array([[0, n_times]]), nperseg)
    for start in range(0, n_times, block):
        accumulator.feed(start, x[:, start : start + block])
    reference = compute_psd(x, SFREQ, window_seconds=nperseg / SFREQ)
    assert accumulator.count == reference.params["n_segments"]
    np.testing.assert_allclose(accumulator.psd(), reference.psd, rtol=1e-10, atol=0)


def test_window_collector_hands_out_each_window_once_and_never_across_a_gap():
    x = np.arange(100.0)[np.newaxis]
    starts = np.array([0, 10, 35, 62])  # 35 + 10 crosses the gap [40, 60)
    collector = WindowCollector(starts, 10)
    seen = {}
    for start, stop in ((0, 17), (17, 40), (60, 80), (80, 100)):  # the stream skips [40, 60)
        index, windows = collector.feed(start, x[:, start:stop])
        seen.update({int(i): w[0] for i, w in zip(index, windows)})
    assert sorted(seen) == [0, 1, 3]
    for i in (0, 1, 3):
        np.testing.assert_array_equal(seen[i], np.arange(starts[i], starts[i] + 10))


def test_window_means_match_a_reshape():
    x = np.random.default_rng(1).standard_normal(1000)
    means = WindowMeans(tile_windows(np.array([[0, 1000]]), 100), 100, ())
    for start in range(0, 1000, 77):
        means.feed(start, x[start : start + 77])
    starts, values = means.result()
    np.testing.assert_allclose(values, x.reshape(10, 100).mean(axis=1))
    assert starts.tolist() == list(range(0, 1000, 100))


def test_phase_locking_sum_equals_plv_matrix(rng):
    band = Band("alpha", 8.0, 13.0)
    x = rng.standard_normal((5, 3000))
    x[1] += 0.8 * x[0]
    total = PhaseLockingSum(1, 5)
    for blk in iter_analytic_blocks(x, SFREQ, [band], chunk_seconds=7.0):
        total.feed(blk.values)
    expected = plv_matrix(analytic_signal(x, SFREQ, band))
    np.testing.assert_allclose(total.plv()[0], expected, atol=2e-5)
    assert total.plv()[0, 0, 1] > 0.5 > total.plv()[0, 0, 2]


def test_trial_phase_locking_sum_equals_plv_over_trials(rng):
    trials = rng.standard_normal((6, 3, 200)) + 1j * rng.standard_normal((6, 3, 200))
    total = TrialPhaseLockingSum(1, 3, 200)
    for trial in trials:
        total.feed(trial[np.newaxis].astype(np.complex64))
    np.testing.assert_allclose(total.plv()[0], plv_over_trials(trials, average_time=True), atol=1e-5)


def test_windowed_lempel_ziv_is_the_mean_over_windows(rng):
    envelope = np.abs(rng.standard_normal((1, 2, 1000))).astype(np.float32)
    lz = WindowedLempelZiv(tile_windows(np.array([[0, 1000]]), 250), 250, 1, 2)
    for start in range(0, 1000, 333):
        lz.feed(start, envelope[..., start : start + 333])
    expected = lempel_ziv_complexity(envelope[0].reshape(2, 4, 250)).mean(axis=1)
    np.testing.assert_allclose(lz.result()[0], expected)


def test_unloaded_raw_and_block_size_do_not_change_the_metrics(tmp_path, rng):
    data = 1e-5 * rng.standard_normal((4, 6000))
    path = tmp_path / "rec_raw.fif"
    _raw(data).save(path, verbose=False)
    loaded = analyze_eeg(mne.io.read_raw_fif(path, preload=True, verbose=False), session="a")
    streamed = analyze_eeg(mne.io.read_raw_fif(path, preload=False, verbose=False), session="a", chunk_seconds=7.0)
    a, b = loaded.metrics, streamed.metrics
    assert a[["metric", "band", "component"]].equals(b[["metric", "band", "component"]])
    np.testing.assert_allclose(a["value"], b["value"], rtol=2e-4, atol=1e-12)


def test_a_step_at_a_splice_never_reaches_a_spectrum_or_filter(rng):
    """Two good stretches either side of a BAD_ span, with a 1 mV step between them.

    Glued together (what analysing the concatenated good samples did) the step
    sits inside Welch windows and FIR filters and floods the low bands; analysed
    per span it is invisible: every metric equals that of the same recording
    with the offset removed.
    """
    n = 3000
    noise = 1e-5 * rng.standard_normal((3, 2 * n + 500))
    stepped = noise.copy()
    stepped[:, n + 500 :] += 1e-3  # the step happens inside the bad span
    raws = []
    for data in (stepped, noise):
        raw = _raw(data)
        raw.set_annotations(mne.Annotations([n / SFREQ], [5.0], ["BAD_movement"]))
        raws.append(raw)
    assert good_spans(raws[0]).tolist() == [[0, n], [n + 500, 2 * n + 500]]
    bands = load_bands({"delta": (1, 4), "alpha": (8, 13)})
    with_step, without = (analyze_eeg(r, session="s", bands=bands) for r in raws)
    for metric in ("band_power", "envelope_mean_amplitude", "plv_mean", "lempel_ziv"):
        x = with_step.metrics.query("metric == @metric")["value"].to_numpy()
        y = without.metrics.query("metric == @metric")["value"].to_numpy()
        np.testing.assert_allclose(x, y, rtol=1e-3, err_msg=metric)
    # The test can fail: a spliced analysis sees the step in delta power.
    glued = raws[0].get_data(reject_by_annotation="omit")
    spliced = compute_psd(glued, SFREQ, window_seconds=2.0)
    clean = compute_psd(raws[1].get_data(reject_by_annotation="omit"), SFREQ, window_seconds=2.0)
    delta = (spliced.freqs >= 1) & (spliced.freqs < 4)
    assert spliced.psd[:, delta].sum() > 10 * clean.psd[:, delta].sum()


def test_spans_too_short_for_a_band_are_reported(rng):
    data = 1e-5 * rng.standard_normal((3, 4000))
    raw = _raw(data)
    # a 2-s good span between two bad ones: longer than the alpha FIR (1.65 s), shorter than delta's (3.3 s)
    raw.set_annotations(mne.Annotations([8.5, 12.0], [1.5, 3.0], ["BAD_a", "BAD_b"]))
    analysis = analyze_eeg(raw, session="s", bands=load_bands({"delta": (1, 4), "alpha": (8, 13)}))
    spans = analysis.params["spans"]
    assert spans["n_spans"] == 3
    assert spans["too_short_for_band"]["delta"]["spans"] == 1
    assert "alpha" not in spans["too_short_for_band"]
    assert analysis.params["rejected_by_annotation_s"] == pytest.approx(4.5)


def test_proxies_are_skipped_with_a_reason_when_no_span_holds_a_null_window(default_connectome, default_harmonics):
    """30 s of data, but cut by bad spans into pieces shorter than the trauma null's window: no crash, a reason."""
    from harmonix.harmonics.model import HarmonicModel

    names = list(default_connectome.sensor_names)
    rng = np.random.default_rng(5)
    raw = mne.io.RawArray(1e-5 * rng.standard_normal((len(names), 4000)), mne.create_info(names, SFREQ, "eeg"),
                          verbose=False)
    raw.set_annotations(mne.Annotations([9.0, 19.5, 30.0], [0.5, 0.5, 0.5], ["BAD_a", "BAD_b", "BAD_c"]))
    analysis = analyze_eeg(raw, session="s", harmonic_model=HarmonicModel(default_connectome, default_harmonics),
                           bands=load_bands({"alpha": (8, 13)}))
    proxies = analysis.params["harmonics"]["proxies"]
    assert proxies["computed"] is False and "null" in proxies["reason"]
    assert not analysis.metrics["metric"].str.startswith("trauma").any()
    assert (analysis.metrics["metric"] == "harmonic_power").any()
