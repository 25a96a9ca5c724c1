"""Data-quality warnings of check_recording (harmonix.io.quality): each planted problem, and the shared recordings."""

from __future__ import annotations

import dataclasses
import json
import warnings

import mne
import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from harmonix.errors import DataWarning
from harmonix.io import check_recording, load_eeg
from harmonix.io.channels import standard_montage
from harmonix.io.quality import SampleScan, expected_one_step, staircase_check

NAMES = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8", "P7", "P3", "Pz", "P4", "P8",
         "O1", "O2"]


def _eeg(seed: int = 0, seconds: float = 60.0, sfreq: float = 250.0) -> mne.io.RawArray:
    """Plausible scalp-like EEG: 12 band-limited 1/f-ish sources seen through a smooth lead field, ~20 µV.

    Neighbouring electrodes share sources (correlations 0.6-0.9), as on a real scalp, plus 5 % sensor noise.
    """
    rng = np.random.default_rng(seed)
    montage = standard_montage("standard_1020")
    pos = np.array([montage.get_positions()["ch_pos"][n] for n in NAMES])
    pos /= np.linalg.norm(pos, axis=1, keepdims=True)
    n, k = int(seconds * sfreq), 12
    sources = rng.normal(size=(k, 3))
    sources /= np.linalg.norm(sources, axis=1, keepdims=True)
    sources[:, 2] = np.abs(sources[:, 2])
    lead = np.exp(-np.square(np.linalg.norm(pos[:, None] - sources[None], axis=2)) / (2 * 0.6**2))
    white = rng.standard_normal((k, n))
    series = sosfilt(butter(2, [0.5, 40.0], btype="band", fs=sfreq, output="sos"),
                     np.cumsum(white, axis=1) * 0.1 + white, axis=1)
    alpha = sosfilt(butter(2, [8.0, 12.0], btype="band", fs=sfreq, output="sos"), rng.standard_normal(n))
    data = lead @ series + 3 * np.outer(np.exp(-np.square(pos[:, 1] + 0.9)), alpha)
    data += 0.05 * data.std() * rng.standard_normal(data.shape)
    data *= 20e-6 / np.median(data.std(axis=1))
    raw = mne.io.RawArray(data, mne.create_info(NAMES, sfreq, "eeg"), verbose=False)
    raw.set_montage(montage)
    return raw


def _check(inst, source="rec.fif", **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, check = check_recording(inst, source=source, **kwargs)
    issued = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert issued == list(check.warnings)  # each warning issued once, in the same words
    assert all(text.startswith(f"{source}: ") and "\n" not in text for text in check.warnings)
    json.dumps(dataclasses.asdict(check))  # params.json
    return check


def _topics(check) -> list[str]:
    keys = {"median channel standard deviation": "amplitude", "piecewise constant": "staircase",
            "(staircase)": "staircase", "clipped": "clipping", "bad by deviation": "deviation",
            "bad by correlation": "correlation", "bad by high-frequency noise": "hf_noise"}
    return [next(v for k, v in keys.items() if k in text) for text in check.warnings]


@pytest.fixture(scope="module")
def clean() -> mne.io.RawArray:
    return _eeg(0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_recording_has_no_warnings(seed):
    raw = _eeg(seed)
    before = raw.get_data().copy()
    check = _check(raw)
    assert check.warnings == () and check.plausible
    assert set(check.quality) == {"amplitude", "staircase", "clipping", "bad_channels"}
    assert check.quality["bad_channels"]["skipped"] is None and check.quality["bad_channels"]["excerpt_s"] == 60.0
    assert 15e-6 < check.quality["amplitude"]["value"] < 25e-6
    assert np.array_equal(raw.get_data(), before)


@pytest.mark.parametrize(("scale", "side"), [(1e6, "above"), (1e-3, "below")])
def test_unit_mistake_is_implausible(clean, scale, side):
    raw = clean.copy()
    raw._data *= scale  # µV written as V; nV-like
    check = _check(raw)
    assert not check.plausible and _topics(check) == ["amplitude"]
    assert f"{side} the 5e-07-0.0005 V" in check.warnings[0] and "units" in check.warnings[0]


def test_staircase_recording_is_implausible(clean):
    raw = clean.copy()
    sf = int(raw.info["sfreq"])
    raw._data[:] = np.repeat(raw._data[:, ::sf], sf, axis=1)[:, : raw.n_times]  # constant within each 1-s record
    check = _check(raw)
    assert not check.plausible and _topics(check) == ["staircase"]
    assert "piecewise constant (staircase) on 19 of 19 EEG channels" in check.warnings[0]
    assert check.quality["staircase"]["channels"] == NAMES
    assert check.quality["bad_channels"]["skipped"].startswith("the signal is piecewise constant")


def test_sample_and_hold_on_two_channels_is_named(clean):
    raw = clean.copy()
    raw._data[:2] = np.repeat(raw._data[:2, ::2], 2, axis=1)[:, : raw.n_times]  # held for 2 samples
    check = _check(raw)
    assert check.plausible and _topics(check) == ["staircase"]
    assert check.warnings[0].startswith("rec.fif: channels Fp1, Fp2 hold their values (staircase)")


@pytest.mark.parametrize("step", [0.5e-6, 1e-6, 2e-6])
def test_coarse_quantisation_of_an_oversampled_signal_is_not_a_staircase(clean, step):
    # 4 kHz, quantised to 0.5-2 µV: 30-85 % of consecutive samples repeat, yet it is a sampled signal.
    data = mne.filter.resample(clean.get_data()[:, :5000], up=16, down=1, verbose=False)
    data = np.round(data / step) * step
    scan = SampleScan(len(NAMES))
    for a in range(0, data.shape[1], 7000):
        scan.feed(a, data[:, a:a + 7000])
    assert np.median(scan.zero_share()) > 0.25
    assert np.allclose(scan.one_step_share(), expected_one_step(scan.zero_share()), atol=0.03)
    found = staircase_check(scan, NAMES, "rec.fif")
    assert found.record["channels"] == [] and found.warnings == () and not found.implausible


def test_scan_in_blocks_equals_one_block(clean):
    data = clean.get_data()
    whole, parts = SampleScan(len(NAMES)), SampleScan(len(NAMES))
    whole.feed(0, data)
    for a in range(0, data.shape[1], 997):
        parts.feed(a, data[:, a:a + 997])
    for name in ("zero_diffs", "step", "one_step", "high", "low", "at_high", "at_low", "n_samples", "n_diffs"):
        assert np.array_equal(getattr(whole, name), getattr(parts, name)), name
    assert np.allclose(whole.diff_power, parts.diff_power)


def test_clipped_channel_is_named(clean):
    raw = clean.copy()
    i = NAMES.index("C3")
    limit = 1.5 * raw._data[i].std()
    raw._data[i] = np.clip(raw._data[i], -limit, limit)
    check = _check(raw)
    assert check.plausible and _topics(check) == ["clipping"]
    assert check.warnings[0].startswith("rec.fif: channel C3 clipped (flat tops at the extreme value: C3 ")
    assert check.quality["clipping"]["channels"] == ["C3"]


def test_dead_and_noisy_channels_are_named(clean):
    raw = clean.copy()
    rng = np.random.default_rng(99)
    raw._data[NAMES.index("O1")] = 2e-7 * rng.standard_normal(raw.n_times)  # dead: amplifier noise only
    f4 = NAMES.index("F4")
    raw._data[f4] = 3.2 * raw._data[f4].std() * rng.standard_normal(raw.n_times)  # noisy: 10x variance, uncorrelated
    check = _check(raw)
    assert check.plausible and set(_topics(check)) <= {"deviation", "correlation", "hf_noise"}
    bad = check.quality["bad_channels"]
    assert bad["channels"] == ["F4", "O1"]
    assert bad["by_deviation"] == ["F4"] and bad["values"]["deviation_z"]["F4"] > 5
    assert bad["by_correlation"] == ["F4", "O1"]
    corr = next(t for t in check.warnings if "bad by correlation" in t)
    assert corr.startswith("rec.fif: channels F4, O1 bad by correlation")
    assert all(name not in text for text in check.warnings for name in set(NAMES) - {"F4", "O1"})


def test_noisy_channel_by_variance_only(clean):
    raw = clean.copy()
    raw._data[NAMES.index("F4")] *= np.sqrt(10.0)  # same signal, 10x variance
    check = _check(raw)
    assert _topics(check) == ["deviation"] and check.quality["bad_channels"]["channels"] == ["F4"]
    assert check.warnings[0].startswith("rec.fif: channel F4 bad by deviation (robust amplitude z-score beyond ±5")


def test_flat_channel_is_left_to_the_flat_check(clean):
    raw = clean.copy()
    raw._data[NAMES.index("Pz")] = 0.0
    marked, check = check_recording(raw, source="rec.fif", flat="mark")
    assert check.marked_bad == ("Pz",) and check.warnings == () and check.plausible
    assert all("Pz" not in record["channels"] for record in check.quality.values())  # not a dead channel too
    assert marked.info["bads"] == ["Pz"] and raw.info["bads"] == []


def test_few_channels_skip_the_bad_channel_criteria(clean):
    raw = clean.copy().pick(["Fp1", "Fp2", "T7", "T8"])
    check = _check(raw)
    assert check.warnings == () and "need at least 8" in check.quality["bad_channels"]["skipped"]


def test_uncorrelated_channels_are_not_all_called_bad():
    # Independent noise on every channel (or a sparse montage): no majority to compare with, so no channel is named.
    raw = mne.io.RawArray(np.random.default_rng(1).normal(0, 2e-5, (10, 250 * 40)),
                          mne.create_info(NAMES[:10], 250.0, "eeg"), verbose=False)
    check = _check(raw)
    assert check.warnings == () and "correlation_not_applied" in check.quality["bad_channels"]


def test_epochs_and_bad_spans(clean):
    raw = clean.copy()
    raw.set_annotations(mne.Annotations([10.0], [20.0], ["BAD_clip"]))
    i = NAMES.index("C3")
    raw._data[i, 2500:7500] = np.clip(raw._data[i, 2500:7500], -1e-6, 1e-6)  # clipped only inside the bad span
    assert _check(raw).warnings == ()
    epochs = mne.make_fixed_length_epochs(clean, duration=2.0, preload=True, verbose=False)
    check = _check(epochs)
    assert check.warnings == () and check.quality["bad_channels"]["excerpt_s"] == 60.0


# Shared real recordings: what the survey (scripts/quality_survey.py) found, and why.
REAL = {
    # 64 ch, 160 Hz. T10 carries little EEG (1-13 Hz power 0.08-0.15 of the median channel; robust amplitude
    # z = -6.4) and decorrelates from every other channel in 17 % of 1-s windows; T8 and T10 have 2-4.5x the
    # median 30-80 Hz power (temporal muscle / poor contact): PREP flags them.
    "eegmmidb_S001R01.edf": (True, {"deviation": ["T10"], "correlation": ["T10"], "hf_noise": ["T8", "T10"]}),
    # Same session, run 4: the same electrodes, plus TP8 just over the HF-noise threshold (z = 5.2).
    "eegmmidb_S001R04.edf": (True, {"deviation": ["T10"], "correlation": ["T10"],
                                    "hf_noise": ["T8", "T10", "TP8"]}),
    # EEGLAB tutorial data (float, 128 Hz): nothing fires.
    "eeglab_data.set": (True, {}),
    # Its 80 epochs (180 s of them checked): nothing fires (T8, the channel with most >50 Hz noise, stays near
    # PREP's HF-noise z = 5: over it on some excerpts of 59 epochs, under it on these 60).
    "eeglab_data_epochs_ica.set": (True, {}),
    # 7.9 s, 16-bit at 0.5 µV and 1000 Hz: 30 % of samples repeat (quantisation, one-step moves as predicted):
    # no staircase; extremes held 12-21 ms: no clipping; too short for the PREP criteria.
    "test.vhdr": (True, {}),
    # 1 s BioSemi file: too short for the PREP criteria, nothing else fires.
    "mne_biosemi_test.bdf": (True, {}),
    # Values ~1e6 x the GDF of the same session (README): median SD 7.6 mV -> unit warning, implausible. PO3 is the
    # least correlated channel (median max |r| 0.70) and falls below 0.4 in about 2 % of 1-s windows (> PREP's 1 %).
    "ssvep_exo_s01_raw.fif": (False, {"amplitude": [], "correlation": ["PO3"]}),
    # Muse: 4 EEG channels, so the PREP criteria are skipped; amplitude, repeats (2-7 %) and extremes are normal.
    "eegnb_muse_ssaep_s1_2017-09-27-14.42.41.csv": (True, {}),
    "eegnb_muse_ssvep_s1_2017-09-14-21.20.04.csv": (True, {}),
}


@pytest.mark.real_data
@pytest.mark.parametrize("name", sorted(REAL))
def test_shared_recordings(shared_data, name):
    plausible, expected = REAL[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inst = load_eeg(shared_data / name, preload=False)
    check = _check(inst, source=name)
    assert check.plausible == plausible
    assert sorted(_topics(check)) == sorted(expected)
    bad = check.quality["bad_channels"]
    for topic, channels in expected.items():
        if topic != "amplitude":
            assert bad[f"by_{topic}"] == channels, topic
    assert check.quality["staircase"]["channels"] == [] and check.quality["clipping"]["channels"] == []


@pytest.mark.real_data
def test_quality_survey_script(shared_data, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "quality_survey.py"
    spec = importlib.util.spec_from_file_location("quality_survey", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([str(shared_data)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == "files=9 warnings=8 implausible=1 not_loaded=1"
