"""Loading EEG: real recordings, synthetic round trips, BIDS, channel conventions, events."""

from __future__ import annotations

import hashlib
import struct
import warnings
from pathlib import Path

import mne
import numpy as np
import pytest

from harmonix.errors import InputFileError, ParameterError
from harmonix.io import (
    apply_channel_conventions,
    estimate_sfreq,
    find_events,
    infer_channel_types,
    load_eeg,
    load_eeg_with_report,
    normalize_channel_names,
    read_headset_csv,
    set_standard_montage,
    supported_extensions,
)

SSVEP_CSV = "eegnb_muse_ssvep_s1_2017-09-14-21.20.04.csv"
SSAEP_CSV = "eegnb_muse_ssaep_s1_2017-09-27-14.42.41.csv"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _synthetic_raw(rng: np.random.Generator, names: list[str], sfreq: float = 250.0, seconds: float = 4.0):
    data = rng.normal(0.0, 20e-6, (len(names), int(sfreq * seconds)))
    return mne.io.RawArray(data, mne.create_info(names, sfreq, "eeg"), verbose=False)


def _positioned(inst) -> list[str]:
    return [
        ch["ch_name"]
        for ch in inst.info["chs"]
        if ch["kind"] == mne.io.constants.FIFF.FIFFV_EEG_CH
        and np.all(np.isfinite(ch["loc"][:3]))
        and np.any(ch["loc"][:3] != 0)
    ]


# ---------------------------------------------------------------------------
# Every real recording in shared/data loads with the figures its README states.
# ---------------------------------------------------------------------------

REAL_FILES = [
    # file, kind, n_channels, sfreq, duration (s; per epoch for epochs), min EEG channels with positions
    ("eegmmidb_S001R01.edf", "raw", 64, 160.0, 61.0, 64),
    ("eegmmidb_S001R04.edf", "raw", 64, 160.0, 125.0, 64),
    ("eeglab_data.set", "raw", 32, 128.0, 238.3125, 30),
    ("eeglab_data_epochs_ica.set", "epochs", 32, 128.0, 3.0, 30),
    ("test.vhdr", "raw", 32, 1000.0, 7.9, 26),
    ("mne_biosemi_test.bdf", "raw", 73, 2048.0, 1.0, 64),
    ("ssvep_exo_s01_raw.fif", "raw", 8, 256.0, 222.75, 8),
    (SSVEP_CSV, "raw", 6, 256.0, 120.05, 4),
    (SSAEP_CSV, "raw", 6, 256.0, 120.05, 4),
]


# MNE's own notes on the EEGLAB epochs file (several events per epoch, EOG positions).
EEGLAB_EPOCHS_WARNINGS = pytest.mark.filterwarnings(
    "ignore:At least one epoch has multiple events", "ignore:Not setting positions of 2 eog channels"
)


@pytest.mark.real_data
@EEGLAB_EPOCHS_WARNINGS
@pytest.mark.parametrize(("name", "kind", "n_channels", "sfreq", "duration", "n_positioned"), REAL_FILES)
def test_real_recordings_load(shared_data, name, kind, n_channels, sfreq, duration, n_positioned):
    path = shared_data / name
    before = _sha256(path)
    listing = sorted(p.name for p in shared_data.iterdir())
    inst, report = load_eeg_with_report(path)
    assert isinstance(inst, mne.BaseEpochs if kind == "epochs" else mne.io.BaseRaw)
    assert report.kind == kind
    assert len(inst.ch_names) == report.n_channels == n_channels
    assert inst.info["sfreq"] == report.sfreq == sfreq
    assert report.duration == pytest.approx(duration, abs=0.01)
    assert len(_positioned(inst)) >= n_positioned
    assert report.lines()[0].startswith(f"read {path}")
    # Loading never touches the input or writes beside it.
    assert _sha256(path) == before
    assert sorted(p.name for p in shared_data.iterdir()) == listing


@pytest.mark.real_data
def test_eegmmidb_names_are_normalised_and_positioned(shared_data):
    raw, report = load_eeg_with_report(shared_data / "eegmmidb_S001R01.edf")
    assert {"FC5", "Cz", "Fp1", "FCz", "AFz", "POz", "Iz", "T10"} <= set(raw.ch_names)
    assert not any("." in name for name in raw.ch_names)
    assert ("Fc5.", "FC5") in report.renamed and ("Cz..", "Cz") in report.renamed
    assert report.montage.applied and len(report.montage.positioned) == 64
    assert set(raw.get_channel_types()) == {"eeg"}


@pytest.mark.real_data
def test_eeglab_keeps_file_positions_and_types_eog(shared_data):
    raw, report = load_eeg_with_report(shared_data / "eeglab_data.set")
    assert not report.montage.applied and "kept" in report.montage.reason
    types = dict(zip(raw.ch_names, raw.get_channel_types()))
    assert types["EOG1"] == types["EOG2"] == "eog"
    assert ("EOG1", "eeg", "eog") in report.retyped
    assert "Fpz" in raw.ch_names  # FPz spelled as in the montage


@pytest.mark.real_data
@EEGLAB_EPOCHS_WARNINGS
def test_eeglab_epochs(shared_data):
    epochs, report = load_eeg_with_report(shared_data / "eeglab_data_epochs_ica.set")
    assert isinstance(epochs, mne.BaseEpochs) and len(epochs) == 80
    assert report.reader == "mne.read_epochs_eeglab"
    assert epochs.tmin == pytest.approx(-1.0) and epochs.tmax == pytest.approx(1.992, abs=1e-3)
    events, event_id = find_events(epochs)
    assert len(events) == 80
    assert event_id == {"square/square/rt": 1, "square/rt": 2, "square": 3}


@pytest.mark.real_data
def test_biosemi_status_is_stim_and_exg_not_eeg(shared_data):
    raw = load_eeg(shared_data / "mne_biosemi_test.bdf")
    types = dict(zip(raw.ch_names, raw.get_channel_types()))
    assert types["Status"] == "stim"
    assert types["REOG"] == types["LEOG"] == "eog"
    assert types["EXG1"] == "misc"
    assert types["M1"] == "eeg"  # mastoids are montage electrodes
    events, event_id = find_events(raw)
    assert events.tolist() == [[589, 0, 128]] and event_id == {"128": 128}


@pytest.mark.real_data
def test_brainvision_renames_and_keeps_reader_types(shared_data):
    raw = load_eeg(shared_data / "test.vhdr")
    assert raw.ch_names[:2] == ["Fp1", "Fp2"]
    assert raw.get_channel_types(picks=["HL", "ReRef"]) == ["misc", "misc"]
    events, event_id = find_events(raw)
    assert len(events) == 13 and event_id["Stimulus/S255"] == 255


@pytest.mark.real_data
@pytest.mark.parametrize(("name", "counts"), [(SSVEP_CSV, {1: 14, 2: 18}), (SSAEP_CSV, {1: 11, 2: 21})])
def test_muse_csv(shared_data, name, counts):
    raw, report = load_eeg_with_report(shared_data / name)
    assert raw.ch_names == ["TP9", "AF7", "AF8", "TP10", "Right AUX", "STI"]
    assert raw.get_channel_types() == ["eeg"] * 4 + ["misc", "stim"]
    # µV in the file, V in memory: EEG amplitudes are well below a millivolt... mostly.
    assert np.median(np.abs(raw.get_data(picks="eeg"))) < 1e-3
    assert "256 Hz estimated from timestamps" in " ".join(report.notes)
    events, event_id = find_events(raw)
    codes, n = np.unique(events[:, 2], return_counts=True)
    assert dict(zip(codes.tolist(), n.tolist())) == counts
    assert event_id == {str(c): c for c in counts}


@pytest.mark.real_data
def test_events_from_annotations(shared_data):
    raw = load_eeg(shared_data / "eegmmidb_S001R04.edf")
    events, event_id = find_events(raw)
    inverse = {code: name for name, code in event_id.items()}
    names, n = np.unique([inverse[c] for c in events[:, 2]], return_counts=True)
    assert dict(zip(names.tolist(), n.tolist())) == {"T0": 15, "T1": 8, "T2": 7}


@pytest.mark.real_data
def test_ssvep_exo_has_no_inline_events_but_matches_eve_file(shared_data):
    raw = load_eeg(shared_data / "ssvep_exo_s01_raw.fif")
    events, event_id = find_events(raw)
    assert events.shape == (0, 3) and event_id == {}
    # The trials live in the companion -eve.fif, inside the recording.
    eve = mne.read_events(shared_data / "ssvep_exo_s01-eve.fif")
    assert len(eve) == 32 and eve[:, 0].max() < raw.first_samp + raw.n_times


@pytest.mark.real_data
def test_lazy_loading(shared_data):
    raw = load_eeg(shared_data / "eegmmidb_S001R01.edf", preload=False)
    assert not raw.preload and "Cz" in raw.ch_names


# ---------------------------------------------------------------------------
# Round trips through files written to tmp_path.
# ---------------------------------------------------------------------------

MESSY_NAMES = ["EEG FP1-REF", "Cz..", "T3", "O2", "EOG1"]
CLEAN_NAMES = ["Fp1", "Cz", "T7", "O2", "EOG1"]


def _check_round_trip(inst, original, *, atol):
    assert inst.ch_names == CLEAN_NAMES
    assert inst.get_channel_types() == ["eeg"] * 4 + ["eog"]
    assert inst.info["sfreq"] == original.info["sfreq"]
    np.testing.assert_allclose(inst.get_data(), original.get_data(), atol=atol)
    assert set(_positioned(inst)) == {"Fp1", "Cz", "T7", "O2"}


@pytest.mark.parametrize(("ext", "atol"), [("edf", 0.2e-6), ("bdf", 1e-8)])
def test_edf_bdf_round_trip(tmp_path, rng, ext, atol):
    original = _synthetic_raw(rng, MESSY_NAMES, sfreq=256.0)
    path = tmp_path / f"synthetic.{ext}"
    mne.export.export_raw(path, original, fmt=ext, physical_range=(-200, 200), verbose=False)
    raw, report = load_eeg_with_report(path)
    _check_round_trip(raw, original, atol=atol)
    assert report.reader == f"mne.io.read_raw_{ext}"
    assert report.montage.applied


def test_fif_raw_and_epochs_round_trip(tmp_path, rng):
    original = _synthetic_raw(rng, MESSY_NAMES)
    original.save(tmp_path / "synthetic_raw.fif", verbose=False)
    _check_round_trip(load_eeg(tmp_path / "synthetic_raw.fif"), original, atol=0)

    epochs = mne.make_fixed_length_epochs(original, duration=1.0, verbose=False)
    epochs.save(tmp_path / "synthetic-epo.fif", verbose=False)
    loaded, report = load_eeg_with_report(tmp_path / "synthetic-epo.fif")
    assert isinstance(loaded, mne.BaseEpochs) and len(loaded) == 4
    assert report.reader == "mne.read_epochs" and loaded.ch_names == CLEAN_NAMES
    # Epochs saved under a raw-looking name are still found.
    (tmp_path / "renamed.fif").write_bytes((tmp_path / "synthetic-epo.fif").read_bytes())
    assert isinstance(load_eeg(tmp_path / "renamed.fif"), mne.BaseEpochs)


def _write_brainvision(folder: Path, raw: mne.io.BaseRaw) -> Path:
    """Write a minimal BrainVision triplet (float32, µV), as Vision Recorder does."""
    stem = "synthetic"
    channels = "\n".join(f"Ch{i + 1}={name},,1,µV" for i, name in enumerate(raw.ch_names))
    (folder / f"{stem}.vhdr").write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n\n[Common Infos]\nCodepage=UTF-8\n"
        f"DataFile={stem}.eeg\nMarkerFile={stem}.vmrk\nDataFormat=BINARY\nDataOrientation=MULTIPLEXED\n"
        f"NumberOfChannels={len(raw.ch_names)}\nSamplingInterval={1e6 / raw.info['sfreq']:g}\n\n"
        f"[Binary Infos]\nBinaryFormat=IEEE_FLOAT_32\n\n[Channel Infos]\n{channels}\n",
        encoding="utf-8",
    )
    (folder / f"{stem}.vmrk").write_text(
        "Brain Vision Data Exchange Marker File, Version 1.0\n\n[Common Infos]\nCodepage=UTF-8\n"
        f"DataFile={stem}.eeg\n\n[Marker Infos]\nMk1=New Segment,,1,1,0\n"
        "Mk2=Stimulus,S  1,101,1,0\nMk3=Stimulus,S  2,301,1,0\nMk4=Stimulus,S  1,501,1,0\n",
        encoding="utf-8",
    )
    (raw.get_data().T * 1e6).astype("<f4").tofile(folder / f"{stem}.eeg")
    return folder / f"{stem}.vhdr"


def test_brainvision_round_trip(tmp_path, rng):
    original = _synthetic_raw(rng, MESSY_NAMES)
    raw, report = load_eeg_with_report(_write_brainvision(tmp_path, original))
    _check_round_trip(raw, original, atol=1e-11)
    assert report.reader == "mne.io.read_raw_brainvision"
    events, event_id = find_events(raw)
    assert events[:, 0].tolist() == [100, 300, 500]
    assert event_id == {"Stimulus/S  1": 1, "Stimulus/S  2": 2}


def _write_gdf1(path: Path, raw: mne.io.BaseRaw, events: list[tuple[int, int]]) -> None:
    """Write a GDF 1.25 file (int16, one-second records, event table mode 1)."""
    n_ch, sfreq = len(raw.ch_names), int(raw.info["sfreq"])
    n_records = raw.n_times // sfreq
    phys = 3276.7  # µV range, 0.1 µV per digital step
    head = b"GDF 1.25" + b"X X".ljust(80) + b"synthetic".ljust(80) + b"2020010112000000"
    head += struct.pack("<q", 256 * (n_ch + 1)) + bytes(24) + bytes(20)
    head += struct.pack("<qIII", n_records, 1, 1, n_ch)
    head += b"".join(name.encode().ljust(16) for name in raw.ch_names) + bytes(80 * n_ch)
    head += b"uV".ljust(8) * n_ch
    head += struct.pack(f"<{n_ch}d", *[-phys] * n_ch) + struct.pack(f"<{n_ch}d", *[phys] * n_ch)
    head += struct.pack(f"<{n_ch}q", *[-32767] * n_ch) + struct.pack(f"<{n_ch}q", *[32767] * n_ch)
    head += bytes(80 * n_ch) + struct.pack(f"<{n_ch}i", *[sfreq] * n_ch) + struct.pack(f"<{n_ch}i", *[3] * n_ch)
    head += bytes(32 * n_ch)
    digital = np.round(raw.get_data()[:, : n_records * sfreq] * 1e7).astype("<i2")
    records = digital.reshape(n_ch, n_records, sfreq).transpose(1, 0, 2)
    table = struct.pack("<B", 1) + struct.pack("<I", sfreq)[:3] + struct.pack("<I", len(events))
    table += struct.pack(f"<{len(events)}I", *[s + 1 for s, _ in events])
    table += struct.pack(f"<{len(events)}H", *[c for _, c in events])
    path.write_bytes(head + records.tobytes() + table)


def test_gdf_round_trip(tmp_path, rng):
    original = _synthetic_raw(rng, MESSY_NAMES)
    path = tmp_path / "synthetic.gdf"
    _write_gdf1(path, original, [(250, 769), (750, 770)])
    raw, report = load_eeg_with_report(path)
    _check_round_trip(raw, original, atol=0.06e-6)
    assert report.reader == "mne.io.read_raw_gdf"
    events, event_id = find_events(raw)
    assert events[:, 0].tolist() == [250, 750] and set(event_id) == {"769", "770"}


def test_bids_dataset(tmp_path, rng):
    mne_bids = pytest.importorskip("mne_bids")
    original = _synthetic_raw(rng, ["Fp1", "Fp2", "Cz", "Oz", "VEOG"], sfreq=200.0, seconds=10.0)
    original.set_channel_types({"VEOG": "eog"})
    original.set_annotations(mne.Annotations([1.0, 4.0, 7.0], [0.5] * 3, ["rest", "task", "rest"]))
    bids_path = mne_bids.BIDSPath(subject="01", task="rest", datatype="eeg", root=tmp_path / "bids")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mne-bids warns about missing line frequency etc.
        mne_bids.write_raw_bids(original, bids_path, format="EDF", allow_preload=True, verbose=False)
        eeg_file = tmp_path / "bids" / "sub-01" / "eeg" / "sub-01_task-rest_eeg.edf"
        before = _sha256(eeg_file)
        raw, report = load_eeg_with_report(eeg_file)
        from_bids_path, _ = load_eeg_with_report(bids_path)
    assert report.reader == "mne_bids.read_raw_bids"
    assert raw.get_channel_types(picks="VEOG") == ["eog"]  # from channels.tsv
    assert raw.preload and len(_positioned(raw)) == 4
    events, event_id = find_events(raw)
    assert len(events) == 3 and set(event_id) == {"rest", "task"}
    assert from_bids_path.ch_names == raw.ch_names
    assert _sha256(eeg_file) == before


def test_bids_name_outside_dataset_reads_plainly(tmp_path, rng):
    path = tmp_path / "sub-01_task-rest_eeg.fif"
    _synthetic_raw(rng, ["Fp1", "Cz", "Oz"]).save(path, verbose=False)
    _, report = load_eeg_with_report(path)
    assert report.reader == "mne.io.read_raw_fif"
    assert any("dataset_description.json" in note for note in report.notes)


def test_supported_extensions_cover_main_formats():
    assert {".edf", ".bdf", ".gdf", ".vhdr", ".set", ".fif", ".csv", ".cnt", "-epo.fif"} <= set(supported_extensions())


def test_sfreq_must_match_file(tmp_path, rng):
    path = tmp_path / "rec_raw.fif"
    _synthetic_raw(rng, ["Fp1", "Cz", "Oz"]).save(path, verbose=False)
    assert load_eeg(path, sfreq=250.0).info["sfreq"] == 250.0
    with pytest.raises(ParameterError, match="declares 250 Hz"):
        load_eeg(path, sfreq=500.0)


# ---------------------------------------------------------------------------
# Channel names, types and montage.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Fc5.", "FC5"),
        ("Cz..", "Cz"),
        ("Fp1.", "Fp1"),
        ("T10.", "T10"),
        ("Fcz.", "FCz"),
        ("EEG Fp1", "Fp1"),
        ("EEG Fp1-REF", "Fp1"),
        ("EEG FP1-LE", "Fp1"),
        ("EEG C3-A2", "C3"),
        ("eeg_o1-ref", "O1"),
        ("FP1", "Fp1"),
        ("FPZ", "Fpz"),
        ("poz", "POz"),
        (" Cz ", "Cz"),
        ("T3", "T7"),
        ("T4", "T8"),
        ("EEG T5-REF", "P7"),
        ("t6", "P8"),
        ("Fp1-F7", "Fp1-F7"),  # bipolar derivation: not an electrode
        ("EOG ROC-REF", "EOG ROC-REF"),
        ("Right AUX", "Right AUX"),
        ("Status", "Status"),
        ("X1.", "X1"),
    ],
)
def test_normalize_channel_names(name, expected):
    assert normalize_channel_names([name]).get(name, name) == expected


def test_normalize_keeps_names_that_would_collide():
    assert normalize_channel_names(["T3", "T7", "Cz"]) == {}
    assert normalize_channel_names(["Cz.", "Cz..", "Fc5."]) == {"Fc5.": "FC5"}


def test_apply_conventions_reports_collisions(rng):
    raw = _synthetic_raw(rng, ["Cz.", "CZ", "Fc5.", "ECG"])
    conventions = apply_channel_conventions(raw)
    assert raw.ch_names == ["Cz.", "CZ", "FC5", "ECG"]
    assert conventions.renamed == (("Fc5.", "FC5"),)
    assert conventions.retyped == (("ECG", "eeg", "ecg"),)
    assert "Cz., CZ" in conventions.notes[0]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("EOG", "eog"),
        ("HEOG", "eog"),
        ("VEOG", "eog"),
        ("EOG1", "eog"),
        ("EOG ROC-REF", "eog"),
        ("ECG", "ecg"),
        ("EKG", "ecg"),
        ("ECG EKG-REF", "ecg"),
        ("EMG", "emg"),
        ("Chin EMG", "emg"),
        ("STI", "stim"),
        ("STI 014", "stim"),
        ("Status", "stim"),
        ("Trigger", "stim"),
        ("Marker0", "stim"),
        ("Markers", "stim"),
        ("Right AUX", "misc"),
        ("AUX1", "misc"),
        ("EXG3", "misc"),
        ("Resp", "resp"),
        ("GSR", "gsr"),
        ("Temp", "temperature"),
    ],
)
def test_infer_channel_types(name, kind):
    assert infer_channel_types([name]) == {name: kind}


@pytest.mark.parametrize("name", ["Fp1", "Cz", "T7", "POz", "M1", "Stimulus", "Status2"])
def test_eeg_names_are_not_retyped(name):
    assert infer_channel_types([name]) == {}


def test_declared_types_are_kept(rng):
    raw = _synthetic_raw(rng, ["Cz", "Oz", "Pz", "EOG"])
    raw.set_channel_types({"EOG": "ecg"})  # the file said so; the name does not override it
    assert apply_channel_conventions(raw).retyped == ()


def test_montage_needs_three_channels(rng):
    raw = _synthetic_raw(rng, ["Cz", "Oz", "Foo", "Bar"])
    result = set_standard_montage(raw)
    assert not result.applied and "only 2 of 4" in result.reason
    assert _positioned(raw) == []


def test_montage_none_and_custom(rng):
    raw = _synthetic_raw(rng, ["Cz", "Oz", "Pz", "Foo"])
    assert set_standard_montage(raw, None).reason == "no montage requested"
    custom = mne.channels.make_dig_montage(
        {"Cz": [0, 0, 0.1], "Oz": [0, -0.1, 0], "Pz": [0, -0.07, 0.07]}, coord_frame="head"
    )
    result = set_standard_montage(raw, custom)
    assert result.applied and result.positioned == ("Cz", "Oz", "Pz")
    assert _positioned(raw) == ["Cz", "Oz", "Pz"]


def test_load_without_montage(shared_data):
    raw, report = load_eeg_with_report(shared_data / "eegmmidb_S001R01.edf", montage=None)
    assert _positioned(raw) == [] and not report.montage.applied


# ---------------------------------------------------------------------------
# Headset CSV details.
# ---------------------------------------------------------------------------


def _write_csv(path: Path, times, data, *, header="timestamps,TP9,AF7,AF8,Marker0", markers=None) -> None:
    markers = np.zeros(len(times), dtype=int) if markers is None else markers
    rows = [header] + [
        ",".join([f"{t:.6f}", *(f"{v:.3f}" for v in sample), str(m)]) for t, sample, m in zip(times, data.T, markers)
    ]
    path.write_text("\n".join(rows) + "\n")


def test_csv_millisecond_timestamps_and_markers(tmp_path, rng):
    n = 2560
    data = rng.normal(0, 10, (3, n))
    markers = np.zeros(n, dtype=int)
    markers[[256, 1024]] = [5, 7]
    path = tmp_path / "rec.csv"
    _write_csv(path, 1.6e12 + np.arange(n) * 1000 / 256 + rng.uniform(-1, 1, n), data, markers=markers)
    raw = read_headset_csv(path)
    assert raw.info["sfreq"] == 256.0
    np.testing.assert_allclose(raw.get_data(picks=["TP9", "AF7", "AF8"]), data * 1e-6, atol=1e-9)
    events, event_id = find_events(raw)
    assert events[:, [0, 2]].tolist() == [[256, 5], [1024, 7]] and event_id == {"5": 5, "7": 7}


def test_csv_unit_scale_and_given_sfreq(tmp_path, rng):
    path = tmp_path / "rec.csv"
    data = rng.normal(0, 10, (3, 500))
    _write_csv(path, np.arange(500) / 100.0, data)
    raw = read_headset_csv(path, sfreq=125.0, unit_scale=1.0)
    assert raw.info["sfreq"] == 125.0
    np.testing.assert_allclose(raw.get_data(picks="TP9")[0], data[0], atol=1e-3)


def test_csv_gap_is_reported(tmp_path, rng):
    times = np.arange(2000) / 250.0
    times[1000:] += 2.0  # two seconds of lost packets
    path = tmp_path / "rec.csv"
    _write_csv(path, times, rng.normal(0, 10, (3, 2000)))
    with pytest.warns(RuntimeWarning, match="1 gap"):
        _, report = load_eeg_with_report(path)
    assert report.sfreq == 250.0


def test_csv_without_timestamps_needs_sfreq(tmp_path, rng):
    path = tmp_path / "rec.csv"
    rows = "".join(f"{i},{i % 7},{i % 5},x\n" for i in range(50))
    path.write_text("Sample Index,EXG Channel 0,EXG Channel 1,Stamp\n" + rows)
    with pytest.raises(ParameterError, match="pass sfreq"):
        load_eeg(path)
    raw = load_eeg(path, sfreq=250.0)
    assert raw.ch_names == ["EXG Channel 0", "EXG Channel 1"]


def test_csv_openbci_comment_lines(tmp_path):
    path = tmp_path / "openbci.csv"
    body = "".join(f"{i},{i % 3},{i % 4},{i / 250:.4f}\n" for i in range(100))
    path.write_text("%OpenBCI Raw EEG Data\n%Sample Rate = 250 Hz\nSample Index,Fp1,Fp2,Timestamp\n" + body)
    raw = read_headset_csv(path)
    assert raw.ch_names == ["Fp1", "Fp2"] and raw.info["sfreq"] == 250.0


def test_estimate_sfreq_on_rounded_jittered_timestamps(rng):
    t = np.round(np.arange(5000) / 256.0 + rng.normal(0, 0.002, 5000), 3)
    estimate = estimate_sfreq(t)
    assert estimate.sfreq == 256.0
    assert estimate.irregular and estimate.n_backwards > 0
    assert estimate_sfreq(np.arange(100) / 333.3).sfreq == pytest.approx(333.3)


def test_estimate_sfreq_rejects_bad_timestamps():
    with pytest.raises(ParameterError):
        estimate_sfreq(np.zeros(10))
    with pytest.raises(ParameterError):
        estimate_sfreq(np.array([0.0, np.nan, 1.0]))


def test_stim_channel_preferred_over_annotations(rng):
    raw = _synthetic_raw(rng, ["Cz", "Oz", "Pz"])
    stim = np.zeros((1, raw.n_times))
    stim[0, 100] = 3
    raw.add_channels([mne.io.RawArray(stim, mne.create_info(["STI"], raw.info["sfreq"], "stim"), verbose=False)])
    raw.set_annotations(mne.Annotations([2.0], [0.1], ["cue"]))
    events, event_id = find_events(raw)
    assert events.tolist() == [[100, 0, 3]] and event_id == {"3": 3}
    raw._data[-1] = 0  # empty stim channel: fall back to annotations
    events, event_id = find_events(raw)
    assert events[:, 0].tolist() == [500] and event_id == {"cue": 1}


def test_input_error_names_file(tmp_path):
    with pytest.raises(InputFileError, match="nothing.edf"):
        load_eeg(tmp_path / "nothing.edf")
