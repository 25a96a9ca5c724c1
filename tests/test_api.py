"""The front door (issue 17): harmonix.analyze on MNE objects and arrays, read_analysis, errors."""

from __future__ import annotations

import warnings

import mne
import numpy as np
import pandas as pd
import pytest

import harmonix
from harmonix.errors import HarmonixError

CHANNELS = ["Fz", "Cz", "Pz", "Oz", "C3", "C4"]
SFREQ = 128.0


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    t = np.arange(int(30 * SFREQ)) / SFREQ
    x = rng.normal(0, 8e-6, (len(CHANNELS), t.size)) + 15e-6 * np.sin(2 * np.pi * 10 * t)
    return x


def _values(analysis) -> pd.Series:
    table = analysis.to_data_frame()
    return table.set_index(["condition", "metric", "band", "component"])["value"].sort_index()


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


def test_raw_and_array_give_the_same_metrics(data):
    raw = mne.io.RawArray(data, mne.create_info(CHANNELS, SFREQ, "eeg"), verbose=False)
    raw.set_montage("standard_1005", verbose=False)
    from_raw = _quiet(harmonix.analyze, raw, session="s")
    from_array = _quiet(harmonix.analyze, data, sfreq=SFREQ, ch_names=CHANNELS, session="s")
    pd.testing.assert_series_equal(_values(from_raw), _values(from_array))
    assert isinstance(from_raw, harmonix.Analysis) and "harmonix Analysis" in from_raw._repr_html_()
    wide = from_raw.to_data_frame(wide=True)
    assert wide.shape == (1, len(from_raw.metrics)) and "band_power|alpha|Cz" in wide.columns


def test_epochs_and_3d_array_give_the_same_metrics(data):
    trials = data[:, : 7 * int(4 * SFREQ)].reshape(len(CHANNELS), 7, int(4 * SFREQ)).transpose(1, 0, 2).copy()
    epochs = mne.EpochsArray(trials, mne.create_info(CHANNELS, SFREQ, "eeg"), verbose=False)
    epochs.set_montage("standard_1005", verbose=False)
    from_epochs = _quiet(harmonix.analyze, epochs, session="e")
    from_array = _quiet(harmonix.analyze, trials, sfreq=SFREQ, ch_names=CHANNELS, session="e")
    pd.testing.assert_series_equal(_values(from_epochs), _values(from_array))
    assert from_epochs.params["n_epochs"] == 7


def test_read_analysis_gives_back_the_whole_analysis(data, tmp_path):
    from harmonix.cli import main

    raw = mne.io.RawArray(data, mne.create_info(CHANNELS, SFREQ, "eeg"), verbose=False)
    path = tmp_path / "rec_raw.fif"
    raw.save(path, fmt="double", verbose=False)
    assert main(["-q", "analyze", str(path), "--harmonics", "off", "--out", str(tmp_path / "out")]) == 0
    back = harmonix.read_analysis(tmp_path / "out" / "rec_raw")
    direct = _quiet(harmonix.analyze, raw, session="rec_raw")
    np.testing.assert_allclose(_values(back).to_numpy(), _values(direct).to_numpy(), rtol=1e-6, equal_nan=True)
    assert back.params["sfreq"] == SFREQ and back.arrays["psd"].shape == direct.arrays["psd"].shape


BAD_CALLS = [
    ("analyze", ("rec.edf",), {}, "not a path"),
    ("analyze", ([["a", "b"]],), {"sfreq": 100.0}, "numeric array"),
    ("analyze", (np.zeros(100),), {"sfreq": 100.0}, "shape"),
    ("analyze", (np.zeros((2, 100)),), {}, "sampling rate"),
    ("analyze", (np.zeros((2, 100)),), {"sfreq": -5}, "positive"),
    ("analyze", (np.zeros((2, 100)),), {"sfreq": 100.0, "ch_names": ["a"]}, "name each"),
    ("analyze", (np.ones((2, 1000)) * np.nan,), {"sfreq": 100.0}, "NaN"),
    ("analyze", (np.random.default_rng(0).normal(0, 1e-5, (2, 6000)),), {"sfreq": 100.0, "colour": 1},
     "unexpected keyword"),
    ("analyze", (np.random.default_rng(0).normal(0, 1e-5, (2, 6000)),), {"sfreq": 100.0, "verbose": "LOUD"},
     "verbose"),
    ("analyze_music", (np.zeros(100),), {"session": "m"}, "Audio"),
    ("read_analysis", ("/nonexistent/analysis",), {}, "nonexistent"),
    ("spectral.compute_psd", (np.zeros((2, 1000)),), {}, "sampling rate"),
    ("spectral.compute_psd", ("not data",), {"sfreq": 100.0}, "real numbers"),
    ("spectral.band_power", (np.zeros((2, 10)),), {}, "Spectrum"),
    ("spectral.band_power", (mne.io.RawArray(np.zeros((2, 1000)), mne.create_info(2, 100.0, "eeg"), verbose=False),),
     {}, "compute its spectrum first"),
]


@pytest.mark.parametrize("name, args, kwargs, text", BAD_CALLS, ids=[f"{c[0]}-{c[3]}" for c in BAD_CALLS])
def test_wrong_input_is_a_harmonix_error(name, args, kwargs, text):
    owner, _, attr = name.rpartition(".")
    entry = getattr(getattr(harmonix, owner) if owner else harmonix, attr)
    with pytest.raises(HarmonixError, match=text):
        _quiet(entry, *args, **kwargs)


def test_analysis_goes_into_an_mne_report(data, tmp_path):
    """Issue 17: Analysis.add_to_report puts the spectrum, summary and checks into an mne.Report."""
    analysis = _quiet(harmonix.analyze, data, sfreq=SFREQ, ch_names=CHANNELS, session="rec")
    report = mne.Report(title="study", verbose=False)
    assert analysis.add_to_report(report) is report
    path = tmp_path / "report.html"
    report.save(path, open_browser=False, verbose=False)
    page = path.read_text(encoding="utf-8")
    assert "harmonix: rec: power spectrum" in page and "harmonix: rec: summary" in page
    assert "harmonix Analysis" in page
    with pytest.raises(HarmonixError, match="mne.Report"):
        analysis.add_to_report("not a report")
    fig = analysis.plot_psd()
    assert len(fig.axes) >= 1


def test_mne_spectra_and_instances_are_accepted_where_a_spectrum_is(data):
    """Issue 17: MNE's Spectrum and Raw go where a harmonix Spectrum goes, with the same numbers."""
    from harmonix.estimators.complexity import spectral_entropy
    from harmonix.estimators.entrainment import steady_state_snr
    from harmonix.spectral import band_power, compute_psd

    raw = mne.io.RawArray(data, mne.create_info(CHANNELS, SFREQ, "eeg"), verbose=False)
    ours = compute_psd(raw, window_seconds=2.0)
    # MNE's Welch with harmonix's window and overlap: the same estimator, so the same numbers.
    theirs = raw.compute_psd(method="welch", n_fft=256, n_overlap=128, window="hann", verbose=False)
    np.testing.assert_allclose(band_power(theirs).absolute, band_power(ours).absolute, rtol=1e-10)
    np.testing.assert_allclose(steady_state_snr(theirs, 10.0), steady_state_snr(ours, 10.0), rtol=1e-10)
    np.testing.assert_allclose(spectral_entropy(theirs), spectral_entropy(ours), rtol=1e-10)
    epochs = mne.make_fixed_length_epochs(raw, duration=5.0, verbose=False)
    assert band_power(epochs.compute_psd(verbose=False)).absolute.shape == (len(CHANNELS), 5)
    assert ours.info is not None and ours.info["ch_names"] == CHANNELS


def test_recording_positions_travel_with_the_analysis(data, tmp_path):
    """Issue 17: the recording's own electrode positions (not a template's) reach the analysis and its maps."""
    from harmonix.cli import main
    from harmonix.io.channels import channel_positions

    names = [f"E{i}" for i in range(1, len(CHANNELS) + 1)]  # in no template: only the file can place them
    angles = np.linspace(0, 2 * np.pi, len(names), endpoint=False)
    positions = np.column_stack([0.07 * np.cos(angles), 0.07 * np.sin(angles), np.full(len(names), 0.04)])
    raw = mne.io.RawArray(data, mne.create_info(names, SFREQ, "eeg"), verbose=False)
    raw.set_montage(mne.channels.make_dig_montage(dict(zip(names, positions)), coord_frame="head"))
    path = tmp_path / "placed_raw.fif"
    raw.save(path, verbose=False)
    assert main(["-q", "analyze", str(path), "--harmonics", "off", "--report", "--out", str(tmp_path / "out")]) == 0
    back = harmonix.read_analysis(tmp_path / "out" / "placed_raw")
    np.testing.assert_allclose(back.arrays["ch_pos"], positions, atol=1e-7)
    np.testing.assert_allclose(channel_positions(back.info), positions, atol=1e-7)
    fig = back.plot_topomap("band_power", log=True, scale=1e12)
    assert [ax.get_title() for ax in fig.axes if ax.get_title()][:2] == ["delta", "theta"]
    page = (tmp_path / "out" / "placed_raw" / "report.html").read_text(encoding="utf-8")
    assert "Electrode positions as stored with the recording" in page
    unplaced = harmonix.analyze(data, sfreq=SFREQ, ch_names=names, harmonic_model=False)
    with pytest.raises(HarmonixError, match="0 of 6 channels have a position in the recording"):
        unplaced.plot_topomap()
