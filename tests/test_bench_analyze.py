"""The recording generator of scripts/bench_analyze.py writes what the benchmark claims to analyse."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import mne
import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_analyze.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("bench_analyze", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_fif_matches_request_and_leadfield(tmp_path, default_connectome):
    bench = _load_script()
    # 10 s written in 4-s parts: exercises the unloaded concatenation path of long recordings.
    path = bench.generate_recording(tmp_path / "bench_raw.fif", 10.0, seed=1, segment_seconds=4.0)
    raw = mne.io.read_raw_fif(path, preload=True, verbose="error")

    assert raw.info["sfreq"] == 500.0
    assert raw.n_times == 5000
    assert len(raw.ch_names) == 64
    assert set(raw.get_channel_types()) == {"eeg"}
    assert len(raw.annotations) == 0  # the parts are one continuous signal, no boundary annotations
    sensors = set(default_connectome.sensor_names)
    assert len(sensors) == 63
    assert set(raw.ch_names[:63]) == sensors
    extra = raw.ch_names[63]
    with warnings.catch_warnings():  # MNE 1.13 deprecates the name 'standard_1005' (harmonix's default montage)
        warnings.simplefilter("ignore", FutureWarning)
        standard = mne.channels.make_standard_montage("standard_1005").ch_names
    assert extra not in sensors and extra in standard

    data = raw.get_data()
    rms = np.sqrt(np.mean(data**2, axis=1))
    assert np.all((rms > 1e-6) & (rms < 1e-4))  # volts, EEG-sized
    assert np.median(np.abs(np.corrcoef(data)[np.triu_indices(64, 1)])) > 0.1  # mixed sources: channels correlate

    # Same seed, written in one piece: the same samples (content does not depend on the file layout).
    again = bench.generate_recording(tmp_path / "again_raw.fif", 10.0, seed=1)
    np.testing.assert_array_equal(mne.io.read_raw_fif(again, verbose="error").get_data(), data)
