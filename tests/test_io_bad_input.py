"""Bad input: every problem raises a harmonix.errors exception naming the file and the problem."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import mne
import numpy as np
import pytest

from harmonix.errors import ChannelError, DataQualityError, HarmonixError, InputFileError, ParameterError
from harmonix.io import check_finite, check_recording, find_flat_channels, load_eeg, read_headset_csv
from harmonix.io.eeg import load_eeg_with_report
from harmonix.spectral.bands import Band, check_bands_resolvable, load_bands

EDF = "eegmmidb_S001R01.edf"


def _raw(rng: np.random.Generator, n_channels: int = 4, sfreq: float = 100.0, seconds: float = 10.0):
    names = ["Fp1", "Cz", "Pz", "Oz", "O1", "O2"][:n_channels]
    data = rng.normal(0.0, 10e-6, (n_channels, int(sfreq * seconds)))
    return mne.io.RawArray(data, mne.create_info(names, sfreq, "eeg"), verbose=False)


def _copy(shared_data: Path, name: str, folder: Path) -> Path:
    target = folder / name
    shutil.copyfile(shared_data / name, target)
    target.chmod(0o644)  # the shared copy is read-only; the test copy must be cuttable
    return target


def _cut(path: Path, fraction: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


# ---------------------------------------------------------------------------
# Files that cannot be read.
# ---------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match=r"missing\.edf: no such file"):
        load_eeg(tmp_path / "missing.edf")
    with pytest.raises(InputFileError, match="folder does not exist"):
        load_eeg(tmp_path / "nowhere" / "rec.edf")


def test_unknown_extension_lists_supported(tmp_path):
    path = tmp_path / "recording.xyz"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(InputFileError, match=r"recording\.xyz: unknown EEG file extension '\.xyz'") as info:
        load_eeg(path)
    for ext in (".edf", ".bdf", ".vhdr", ".set", ".fif", ".gdf", ".csv"):
        assert ext in str(info.value)


@pytest.mark.real_data
@pytest.mark.parametrize(("name", "header"), [("test.eeg", "test.vhdr"), ("eeglab_data.fdt", "eeglab_data.set")])
def test_companion_file_points_to_header(shared_data, name, header):
    with pytest.raises(InputFileError, match=rf"{name}: is the data part .* load {header} instead"):
        load_eeg(shared_data / name)


@pytest.mark.real_data
def test_unknown_montage(shared_data):
    with pytest.raises(ChannelError, match="unknown montage 'nonsense'"):
        load_eeg(shared_data / "ssvep_exo_s01_raw.fif", montage="nonsense")


def test_folder_is_not_a_file(tmp_path):
    folder = tmp_path / "looks_like.edf"
    folder.mkdir()
    with pytest.raises(InputFileError, match="is a folder"):
        load_eeg(folder)


@pytest.mark.real_data
@pytest.mark.parametrize(("name", "fraction"), [(EDF, 0.5), (EDF, 0.999), ("mne_biosemi_test.bdf", 0.5)])
def test_truncated_edf_bdf(shared_data, tmp_path, name, fraction):
    # MNE reads a truncated EDF silently (fewer records), so harmonix checks the size.
    path = _copy(shared_data, name, tmp_path)
    _cut(path, fraction)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(InputFileError, match=rf"{name}: file is truncated: the header declares \d+ data records"):
        load_eeg(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


@pytest.mark.real_data
def test_truncated_edf_header(shared_data, tmp_path):
    path = _copy(shared_data, EDF, tmp_path)
    _cut(path, 1000 / path.stat().st_size)
    with pytest.raises(InputFileError, match=rf"{EDF}: truncated EDF/BDF header"):
        load_eeg(path)


@pytest.mark.filterwarnings("ignore:MNE-Python currently only supports header versions")
@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("garbage.edf", b"this is not an EDF file " * 40, "not a valid EDF/BDF header"),
        ("tiny.edf", b"0       ", "truncated EDF/BDF header"),
        ("garbage.bdf", bytes(range(256)) * 4, "not a valid EDF/BDF header"),
        ("garbage.gdf", b"GDF 2.20" + b"\xff" * 600, "cannot be read as .gdf file"),
        ("garbage.fif", b"garbage" * 50, "cannot be read as FIF"),
        ("garbage.set", b"garbage" * 50, "cannot be read as EEGLAB .set"),
        ("garbage.vhdr", b"garbage", "cannot be read as .vhdr file"),
        ("empty.csv", b"", r"the file is empty \(0 bytes\)"),
        ("noise.csv", bytes(range(256)) * 4, "not a readable CSV table"),
        ("short.csv", b"timestamps,Cz\n0.0,1.0\n", "at least 3 samples"),
        ("text.csv", b"timestamps,label\n0,a\n1,b\n2,c\n", "no numeric channel columns"),
    ],
)
def test_corrupt_files(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=problem) as info:
        load_eeg(path)
    assert str(path) in str(info.value)


def test_reader_errors_are_chained(tmp_path):
    path = tmp_path / "garbage.fif"
    path.write_bytes(b"garbage" * 50)
    with pytest.raises(InputFileError) as info:
        load_eeg(path)
    assert info.value.__cause__ is not None  # the MNE error stays visible for debugging


@pytest.mark.real_data
def test_brainvision_missing_data_file(shared_data, tmp_path):
    shutil.copyfile(shared_data / "test.vhdr", tmp_path / "test.vhdr")
    shutil.copyfile(shared_data / "test.vmrk", tmp_path / "test.vmrk")
    with pytest.raises(InputFileError, match=r"test\.vhdr: cannot be read"):
        load_eeg(tmp_path / "test.vhdr")


def test_csv_non_integer_markers(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("timestamps,Cz,Marker0\n" + "".join(f"{i / 256},{i},{0.5 if i == 3 else 0}\n" for i in range(10)))
    with pytest.raises(InputFileError, match="marker column 'Marker0' holds non-integer values"):
        read_headset_csv(path)


@pytest.mark.real_data
@pytest.mark.parametrize("fraction", [0.5, 0.999])
def test_truncated_brainvision_with_data_points(shared_data, tmp_path, fraction):
    # MNE reads a truncated .eeg silently (fewer samples); DataPoints gives the expected size.
    for name in ("test.vhdr", "test.vmrk", "test.eeg"):
        _copy(shared_data, name, tmp_path)
    header = tmp_path / "test.vhdr"
    n_times = (tmp_path / "test.eeg").stat().st_size // (32 * 2)  # 32 channels of INT_16
    text = header.read_text(encoding="utf-8")
    text = text.replace("NumberOfChannels=32", f"NumberOfChannels=32\nDataPoints={n_times}")
    header.write_text(text, encoding="utf-8")
    assert load_eeg(header).n_times == n_times  # the intact file passes the check
    _cut(tmp_path / "test.eeg", fraction)
    before = hashlib.sha256((tmp_path / "test.eeg").read_bytes()).hexdigest()
    with pytest.raises(InputFileError, match=rf"test\.eeg: file is truncated: test\.vhdr declares {n_times} samples"):
        load_eeg(header)
    assert hashlib.sha256((tmp_path / "test.eeg").read_bytes()).hexdigest() == before


@pytest.mark.real_data
def test_truncated_brainvision_without_data_points(shared_data, tmp_path):
    # Without DataPoints only a cut inside a sample frame (32 channels x 2 bytes) is detectable.
    for name in ("test.vhdr", "test.vmrk", "test.eeg"):
        _copy(shared_data, name, tmp_path)
    data = tmp_path / "test.eeg"
    data.write_bytes(data.read_bytes()[: 1000 * 64 + 10])
    with pytest.raises(InputFileError, match=r"test\.eeg: file is truncated: test\.vhdr declares 32 channels"):
        load_eeg(tmp_path / "test.vhdr")
    data.write_bytes(data.read_bytes()[: 1000 * 64])  # whole frames: read, but the markers past the end say so
    with pytest.warns(RuntimeWarning, match=r"marker\(s\) in test\.vmrk lie past the end .* test\.eeg may be truncated"):
        assert load_eeg(tmp_path / "test.vhdr").n_times == 1000


@pytest.mark.real_data
@pytest.mark.parametrize(
    ("name", "declared"),
    [
        ("eeglab_data", r"32 channels x 30504 samples x 1 trial\(s\)"),
        ("eeglab_data_epochs_ica", r"32 channels x 384 samples x 80 trial\(s\)"),
    ],
)
def test_truncated_eeglab_fdt(shared_data, tmp_path, name, declared):
    header = _copy(shared_data, f"{name}.set", tmp_path)
    data = _copy(shared_data, f"{name}.fdt", tmp_path)
    _cut(data, 0.5)
    with pytest.raises(InputFileError, match=rf"{name}\.fdt: file is truncated: {name}\.set declares {declared}"):
        load_eeg(header)


def test_csv_non_numeric_timestamps(tmp_path):
    path = tmp_path / "dated.csv"
    rows = "".join(f"2017-09-14 21:20:{i:02d}.000,{i % 7},{i % 5}\n" for i in range(20))
    path.write_text("timestamps,TP9,AF7\n" + rows)
    expected = r"dated\.csv: timestamp column 'timestamps' is not numeric.*pass sfreq="
    with pytest.raises(ParameterError, match=expected):
        load_eeg(path)
    with pytest.raises(ParameterError, match=expected):
        read_headset_csv(path)
    assert load_eeg(path, sfreq=256.0).ch_names == ["TP9", "AF7"]  # the date column is then ignored


def test_csv_text_markers_are_coded(tmp_path):
    path = tmp_path / "rec.csv"
    labels = {3: "right", 5: "left", 8: "right"}
    path.write_text(
        "timestamps,Cz,Marker0\n" + "".join(f"{i / 256},{i},{labels.get(i, '')}\n" for i in range(12))
    )
    raw, report = load_eeg_with_report(path)
    stim = raw.get_data(picks="STI")[0]
    assert np.flatnonzero(stim).tolist() == [3, 5, 8]
    assert stim[[3, 5, 8]].tolist() == [2, 1, 2]  # sorted labels: left=1, right=2
    assert list(raw.annotations.description) == ["right", "left", "right"]
    np.testing.assert_allclose(raw.annotations.onset, np.array([3, 5, 8]) / raw.info["sfreq"], atol=1e-6)
    assert raw.info["description"] == "text markers coded as: left=1, right=2"
    assert "text markers coded as: left=1, right=2" in report.lines()


def test_csv_text_markers_do_not_share_numeric_codes(tmp_path):
    path = tmp_path / "rec.csv"
    marks = {2: "1", 4: "stim", 6: "3", 9: "cue"}
    path.write_text("timestamps,Cz,Marker0\n" + "".join(f"{i / 256},{i},{marks.get(i, 0)}\n" for i in range(12)))
    raw = read_headset_csv(path)
    stim = raw.get_data(picks="STI")[0]
    assert stim[[2, 4, 6, 9]].tolist() == [1, 5, 3, 4]  # cue=4, stim=5: above the numeric codes
    assert raw.info["description"] == "text markers coded as: cue=4, stim=5"


def test_csv_numeric_markers_have_no_mapping(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("timestamps,Cz,Marker0\n" + "".join(f"{i / 256},{i},{7 if i == 4 else 0}\n" for i in range(12)))
    raw = read_headset_csv(path)
    assert raw.get_data(picks="STI")[0, 4] == 7 and len(raw.annotations) == 0 and not raw.info["description"]


@pytest.mark.parametrize(
    ("bands", "match"),
    [
        ({"a": (1, 2, 3)}, r"band 'a': limits must be two numbers"),
        ({"a": ("low", 2)}, r"band 'a': limits must be two numbers"),
        ({"alpha": 8}, r"band 'alpha': limits must be two numbers"),
        ({"beta": (13, None)}, r"band 'beta': limits must be two numbers"),
    ],
)
def test_bad_band_limits_raise_parameter_error(bands, match):
    with pytest.raises(ParameterError, match=match):
        load_bands(bands)


def test_band_with_non_numeric_limits():
    with pytest.raises(ParameterError, match=r"band 'x': fmin and fmax must be numbers"):
        Band("x", "low", 4.0)  # type: ignore[arg-type]


def test_band_at_nyquist_is_refused_like_the_filter_bank():
    check_bands_resolvable([Band("gamma", 30.0, 49.9)], 100.0, 10.0)
    with pytest.raises(ParameterError, match=r"sampling rate 100 Hz is too low for band 'gamma'.*Nyquist is 50 Hz"):
        check_bands_resolvable([Band("gamma", 30.0, 50.0)], 100.0, 10.0)


def test_low_pass_band_needs_cycles_of_fmax():
    low = Band("slow", 0.0, 2.0)
    check_bands_resolvable([low], 100.0, 2.0)  # 4 cycles of 2 Hz = 2 s, not 4 / 1e-3 = 4000 s
    with pytest.raises(ParameterError, match=r"too short for band 'slow' \(0-2 Hz needs at least 2\.0 s\)"):
        check_bands_resolvable([low], 100.0, 1.9)


def test_all_errors_share_the_family():
    assert all(issubclass(e, HarmonixError) for e in (InputFileError, DataQualityError, ParameterError, ChannelError))


# ---------------------------------------------------------------------------
# Samples that cannot be analysed.
# ---------------------------------------------------------------------------


def test_nan_samples_in_fif(tmp_path, rng):
    raw = _raw(rng)
    raw._data[2, 350] = np.nan
    path = tmp_path / "with_nan_raw.fif"
    raw.save(path, verbose=False)
    loaded = load_eeg(path)
    expected = r"with_nan_raw\.fif: channel Pz has NaN/Inf samples \(first at 3\.500 s\)"
    with pytest.raises(DataQualityError, match=expected):
        check_recording(loaded)


def test_check_finite_inf_names_channels():
    data = np.zeros((3, 10))
    data[0, 4] = np.inf
    data[2, 7] = -np.inf
    with pytest.raises(DataQualityError, match=r"rec: channels A, C have NaN/Inf samples \(first at sample 4\)"):
        check_finite(data, ["A", "B", "C"], source="rec")
    with pytest.raises(ParameterError, match="n_channels=2"):
        check_finite(data, ["A", "B"], source="rec")


def test_flat_channel_raises_by_default(rng):
    raw = _raw(rng)
    raw._data[1] = 0.0
    expected = r"rec\.edf: flat channel Cz .*; to mark them bad and go on, add --mark-flat to harmonix analyze"
    with pytest.raises(DataQualityError, match=expected):
        check_recording(raw, source="rec.edf")


def test_flat_channel_marked_on_a_copy(rng):
    raw = _raw(rng)
    raw._data[1] = 0.0
    raw._data[3] = 5e-3  # constant offset: flat too
    before = raw.get_data().copy()
    marked, check = check_recording(raw, source="rec", flat="mark")
    assert check.flat_channels == check.marked_bad == ("Cz", "Oz")
    assert marked is not raw and marked.info["bads"] == ["Cz", "Oz"]
    assert raw.info["bads"] == [] and np.array_equal(raw.get_data(), before)
    # A second check on the marked copy skips the bad channels.
    assert check_recording(marked)[1].checked == ("Fp1", "Pz")


def test_flat_ignore_reports_only(rng):
    raw = _raw(rng)
    raw._data[0] = 0.0
    same, check = check_recording(raw, flat="ignore")
    assert check.flat_channels == ("Fp1",) and check.marked_bad == () and same is raw


def test_find_flat_channels_threshold():
    data = np.vstack([1e-14 * (np.arange(100) % 2), np.linspace(0, 1e-6, 100)])
    assert find_flat_channels(data, ["quiet", "ramp"]) == ["quiet"]
    assert find_flat_channels(data, ["quiet", "ramp"], threshold=1e-15) == []


def test_too_short_for_bands():
    # the bands are the analysis' to check (spectral.bands), not the reader's: io does not import spectral
    with pytest.raises(ParameterError, match=r"2\.00 s long, too short for band 'delta'"):
        check_bands_resolvable(load_bands(), 100.0, 2.0, source="short.fif")


def test_gamma_needs_the_sampling_rate():
    gamma = [Band("gamma", 30.0, 45.0)]
    check_bands_resolvable(gamma, 100.0, 10.0, source="fast.fif")
    with pytest.raises(ParameterError, match=r"sampling rate 60 Hz is too low for band 'gamma'.*Nyquist is 30 Hz"):
        check_bands_resolvable(gamma, 60.0, 10.0, source="slow.fif")


def test_min_duration(rng):
    with pytest.raises(ParameterError, match=r"10\.00 s long, too short \(need at least 30 s\)"):
        check_recording(_raw(rng), min_duration=30.0)


def test_invalid_flat_mode(rng):
    with pytest.raises(ParameterError, match="flat must be one of"):
        check_recording(_raw(rng), flat="drop")


def test_no_eeg_channels(rng):
    raw = _raw(rng)
    raw.set_channel_types({name: "misc" for name in raw.ch_names}, on_unit_change="ignore")
    with pytest.raises(ChannelError, match="no usable EEG channels"):
        check_recording(raw, source="aux_only.fif")


def test_check_epochs(rng):
    raw = _raw(rng)
    epochs = mne.make_fixed_length_epochs(raw, duration=2.0, preload=True, verbose=False)
    _, check = check_recording(epochs)
    assert check.duration == pytest.approx(2.0)  # per epoch: what the band check is given
    with pytest.raises(ParameterError, match="too short for band 'delta'"):
        check_bands_resolvable([Band("delta", 1.0, 4.0)], check.sfreq, check.duration, source="epochs")


def test_source_defaults_to_file_name(tmp_path, rng):
    raw = _raw(rng)
    raw._data[0] = 0.0
    path = tmp_path / "flat_raw.fif"
    raw.save(path, verbose=False)
    with pytest.raises(DataQualityError, match=r"flat_raw\.fif: flat channel Fp1"):
        check_recording(load_eeg(path))


@pytest.mark.parametrize(("scale", "warns"), [(1e-5, False), (1e-4, False), (1e-3, True), (10.0, True), (1e-7, True),
                                             (1e-9, True)])
def test_amplitudes_no_scalp_eeg_has_are_a_data_warning(scale, warns):
    # 10 V is microvolts stored as volts, 1 mV of median SD no scalp EEG has; 0.1 µV and 1 nV are amplifier noise.
    import warnings

    from harmonix.errors import DataWarning

    rng = np.random.default_rng(7)
    raw = mne.io.RawArray(scale * rng.standard_normal((4, 2560)), mne.create_info(["Fz", "Cz", "Pz", "Oz"], 128.0,
                                                                                   "eeg"), verbose=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, found = check_recording(raw, source="rec.fif")
    issued = [w for w in caught if issubclass(w.category, DataWarning)]
    assert bool(found.warnings) == warns and len(issued) == int(warns)
    if warns:
        assert found.warnings[0].startswith("rec.fif: the median channel standard deviation is") and "units" in \
            found.warnings[0]
