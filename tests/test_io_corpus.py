"""Issue 13, reading: every bad input file ends in one HarmonixError line naming the file and the problem.

The bad files are generated in ``tmp_path``: zero-byte and random-byte files of
every extension harmonix reads, garbled headers, EDF headers that contradict
themselves or the file, headset CSVs with bad cells and clock jumps, and a
recording too short for some bands.
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import re
import warnings
from pathlib import Path

import mne
import numpy as np
import pytest
import scipy.io.matlab

from harmonix.errors import DataWarning, HarmonixError, InputFileError, ParameterError
from harmonix.io import estimate_sfreq, load_eeg, load_eeg_with_report, read_headset_csv, supported_extensions
from harmonix.io.eeg import _reading
from harmonix.pipeline.result import resolvable_bands
from harmonix.spectral.bands import Band, check_bands_resolvable, load_bands, welch_window_seconds

_DIRECTORY_FORMATS = (".mff", ".ds", ".mefd")


def _one_line_error(path: Path, **kwargs) -> str:
    """Load ``path``; return the message of the InputFileError it must raise (one line naming the file)."""
    with pytest.raises(InputFileError) as info:
        load_eeg(path, verbose="error", **kwargs)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


# ---------------------------------------------------------------------------
# Zero-byte and random-byte files of every extension.
# ---------------------------------------------------------------------------

FILE_EXTENSIONS = [ext for ext in supported_extensions() if ext not in _DIRECTORY_FORMATS]


@pytest.mark.parametrize("ext", FILE_EXTENSIONS)
def test_zero_byte_file(tmp_path, ext):
    path = tmp_path / f"empty{ext}"
    path.write_bytes(b"")
    assert _one_line_error(path).endswith("the file is empty (0 bytes)")


@pytest.mark.parametrize("ext", FILE_EXTENSIONS)
def test_random_bytes(tmp_path, ext):
    # 4099 bytes: not a whole number of samples of any headerless format (eXimia .nxe is
    # 64 channels of int16, so random bytes of a multiple of 128 would be valid data).
    path = tmp_path / f"noise{ext}"
    path.write_bytes(np.random.default_rng(len(ext)).integers(0, 256, 4099, dtype=np.uint8).tobytes())
    _one_line_error(path)


@pytest.mark.parametrize("ext", _DIRECTORY_FORMATS)
def test_folder_format_given_as_a_file(tmp_path, ext):
    path = tmp_path / f"rec{ext}"
    path.write_bytes(b"\x00" * 100)
    assert f"is a file, but {ext} recordings are folders" in _one_line_error(path)


@pytest.mark.skipif(importlib.util.find_spec("mffpy") is not None, reason="mffpy is installed: the reader runs")
def test_missing_reader_package_is_named(tmp_path):
    folder = tmp_path / "rec.mff"
    folder.mkdir()
    assert "needs the Python package mffpy, which is not installed" in _one_line_error(folder)


def test_nxe_with_a_partial_sample_is_refused(tmp_path):
    # eXimia files have no header; MNE only warns that the size is not whole samples.
    path = tmp_path / "rec.nxe"
    path.write_bytes(np.zeros(64 * 2 * 100 + 7, dtype=np.uint8).tobytes())
    assert "likely truncated; re-export or re-copy it" in _one_line_error(path)


@pytest.mark.parametrize("preload", [False, True])
def test_truncated_fif(tmp_path, rng, preload):
    # Read lazily, a cut FIF loads and fails only when the analysis reads its samples.
    whole = tmp_path / "whole_raw.fif"
    info = mne.create_info(["Fp1", "Cz", "Oz"], 128.0, "eeg")
    mne.io.RawArray(rng.normal(0, 1e-5, (3, 128 * 20)), info, verbose=False).save(whole, verbose=False)
    path = tmp_path / "cut_raw.fif"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    message = _one_line_error(path, preload=preload)
    assert "file is truncated" in message if not preload else "cannot be read as FIF" in message
    assert load_eeg(whole, preload=False).n_times == 128 * 20


# ---------------------------------------------------------------------------
# Extensions no EEG reader owns are refused by name, before any reader runs.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext", "what"),
    [
        (".txt", "BOXY optical (fNIRS) data"),
        (".hdr", "NIRx fNIRS data"),
        (".snirf", "SNIRF fNIRS data"),
        (".asc", "EyeLink eye-tracking data"),
        (".bin", "Artemis123 MEG data or FIL OPM MEG data"),
        (".mat", "FieldTrip structures"),
        (".data", "Nicolet data"),
    ],
)
def test_non_eeg_extensions_refused_by_name(tmp_path, monkeypatch, ext, what):
    def no_reader(*args, **kwargs):
        raise AssertionError("a reader ran")

    monkeypatch.setattr(mne.io, "read_raw", no_reader)
    path = tmp_path / f"notes{ext}"
    path.write_text("0.1 0.2 0.3\n")
    message = _one_line_error(path)
    assert f"'{ext}' files are not EEG recordings harmonix reads: MNE reads {ext} as {what}" in message
    assert "cannot be read" not in message and "AssertionError" not in message
    for supported in (".edf", ".bdf", ".vhdr", ".set", ".fif", ".csv"):
        assert supported in message
    assert ext not in supported_extensions()


# ---------------------------------------------------------------------------
# Garbled headers: configparser, scipy.io / pymatreader errors.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Brain Vision Data Exchange Header File Version 1.0\n[Common Infos\nDataFile=rec.eeg\n=\n",
         "not an INI-style header: File contains no section headers"),
        ("key=value\n[[[\n", "not an INI-style header: File contains no section headers"),
        ("\x01\x02 garbage \xff\n", "No section: 'Common infos'"),
    ],
)
def test_garbled_brainvision_header(tmp_path, text, problem):
    path = tmp_path / "rec.vhdr"
    path.write_text(text, encoding="latin-1")
    (tmp_path / "rec.eeg").write_bytes(b"\0" * 64)
    message = _one_line_error(path)
    assert "cannot be read as .vhdr file (corrupt, truncated or not that format)" in message and problem in message


def test_brainvision_header_without_channel_count(tmp_path):
    path = tmp_path / "rec.vhdr"
    path.write_text("Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\nDataFile=rec.eeg\n")
    assert "cannot be read as .vhdr file" in _one_line_error(path)


@pytest.mark.parametrize("n_bytes", [10, 100])
def test_garbled_eeglab_set(tmp_path, n_bytes):
    # A MAT v5 header cut short: scipy.io raises MatReadError (10 bytes) or a buffer error.
    mat = tmp_path / "whole.mat"
    scipy.io.savemat(mat, {"EEG": {"nbchan": 2, "pnts": 10}})
    path = tmp_path / "rec.set"
    path.write_bytes(mat.read_bytes()[:n_bytes])
    assert "cannot be read as EEGLAB .set (corrupt, truncated or not that format)" in _one_line_error(path)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (configparser.MissingSectionHeaderError("<???>", 1, "\x00\x01garbage"),
         "not an INI-style header: File contains no section headers. (line 1)"),
        (scipy.io.matlab.MatReadError("Mat file appears to be truncated"), "Mat file appears to be truncated"),
        (AssertionError(), "its structure is not what the reader expects (AssertionError)"),
        (Exception("Encountered invalid byte in at least one annotations channel."), "invalid byte"),
        (RuntimeError("For reading EGI MFF data to work, the module mffpy is needed, but it could not be imported."),
         "needs the Python package mffpy, which is not installed (pip install mffpy)"),
        (ModuleNotFoundError("No module named 'pymef'", name="pymef"), "needs the Python package pymef"),
    ],
)
def test_reader_exceptions_become_one_line(tmp_path, error, expected):
    path = tmp_path / "rec.xyz"
    with pytest.raises(InputFileError) as info, _reading(path, "test file"):
        raise error
    assert str(info.value).startswith(f"{path}: ") and expected in str(info.value)
    assert "\n" not in str(info.value) and info.value.__cause__ is error


def test_reading_lets_bugs_through(tmp_path):
    # Only a *bare* Exception (as MNE raises on some corrupt files) is taken for a file problem.
    class Bug(Exception):
        pass

    with pytest.raises(Bug), _reading(tmp_path / "rec.edf", "EDF"):
        raise Bug("not about the file")
    with pytest.raises(NameError), _reading(tmp_path / "rec.edf", "EDF"):
        raise NameError("undefined")


# ---------------------------------------------------------------------------
# EDF headers that contradict themselves or the file.
# ---------------------------------------------------------------------------


def _field(value, width: int) -> bytes:
    return str(value)[:width].ljust(width).encode("latin-1")


def _edf(
    path: Path,
    names=("Fp1", "Cz", "Pz"),
    *,
    n_records: int = 10,
    declared: int | None = None,
    samples=None,
    record_seconds: float = 1.0,
    pmin=-500.0,
    pmax=500.0,
    dmin=-32768,
    dmax=32767,
    prefilter: str = "",
    annotations: bytes | None = None,
    tail: bytes = b"",
) -> Path:
    """Write an EDF(+) file: 100 samples per record per signal, int16 noise, optional annotation channel."""
    names = list(names)
    n_eeg = len(names)
    samples = list(samples if samples is not None else [100] * n_eeg)
    per = lambda v: list(v) if isinstance(v, (list, tuple)) else [v] * n_eeg  # noqa: E731
    pmin, pmax, dmin, dmax = per(pmin), per(pmax), per(dmin), per(dmax)
    units, prefilters = ["uV"] * n_eeg, [prefilter] * n_eeg
    if annotations is not None:
        names.append("EDF Annotations")
        samples.append(len(annotations) // 2)
        for values, value in ((pmin, -1), (pmax, 1), (dmin, -32768), (dmax, 32767), (units, ""), (prefilters, "")):
            values.append(value)
    n = len(names)
    header = _field("0", 8) + _field("X X X X", 80) + _field("Startdate 01-JAN-2020 X X X", 80)
    header += _field("01.01.20", 8) + _field("00.00.00", 8) + _field(256 * (n + 1), 8)
    header += _field("EDF+C" if annotations is not None else "", 44)
    header += _field(n_records if declared is None else declared, 8) + _field(record_seconds, 8) + _field(n, 4)
    columns = [(names, 16), (["AgAgCl"] * n, 80), (units, 8), (pmin, 8), (pmax, 8), (dmin, 8), (dmax, 8),
               (prefilters, 80), (samples, 8), ([""] * n, 32)]
    for values, width in columns:
        header += b"".join(_field(v, width) for v in values)
    rng = np.random.default_rng(0)
    body = b""
    for record in range(n_records):
        for i in range(n_eeg):
            body += rng.integers(-3000, 3000, samples[i]).astype("<i2").tobytes()
        if annotations is not None:
            body += annotations.replace(b"+0\x14", f"+{record}\x14".encode())[: len(annotations)]
    path.write_bytes(header + body + tail)
    return path


def _cli_like_load(path: Path):
    """Load as the CLI does: MNE's logger at ERROR and every Python warning ignored."""
    with mne.utils.use_log_level("error"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_eeg_with_report(path)


def test_synthetic_edf_is_clean(tmp_path):
    raw, report = _cli_like_load(_edf(tmp_path / "ok.edf"))
    assert raw.n_times == 1000 and raw.info["sfreq"] == 100.0 and report.warnings == ()


def test_edf_with_0_samples_per_record(tmp_path):
    path = _edf(tmp_path / "rec.edf", samples=[0, 0, 0])
    path.write_bytes(path.read_bytes() + b"\0" * 6000)  # data the header does not account for
    assert "declares 0 samples per data record for every channel; there is no data to read" in _one_line_error(path)


@pytest.mark.parametrize("preload", [True, False])
def test_edf_physical_min_equals_max_on_eeg_is_refused(tmp_path, preload):
    path = _edf(tmp_path / "rec.edf", pmin=[-500, 100, -500], pmax=[500, 100, 500])
    message = _one_line_error(path, preload=preload)
    assert "physical minimum = maximum (both 100 uV) for EEG channel Cz: its samples cannot be scaled" in message


def test_edf_digital_min_equals_max_is_refused(tmp_path):
    path = _edf(tmp_path / "rec.edf", dmin=7, dmax=7)
    assert "digital minimum = maximum (both 7) for EEG channels Fp1, Cz, Pz" in _one_line_error(path)


def test_edf_physical_min_equals_max_on_a_non_eeg_channel_is_a_warning(tmp_path):
    path = _edf(tmp_path / "rec.edf", names=("Fp1", "ECG", "Pz"), pmin=[-500, 1, -500], pmax=[500, 1, 500])
    _, report = _cli_like_load(path)
    assert report.warnings == (
        "physical minimum = maximum in the header for non-EEG channel(s) ECG: their values are unscaled",
    )


def test_edf_record_duration_zero_is_refused(tmp_path):
    path = _edf(tmp_path / "rec.edf", record_seconds=0)
    assert "data-record duration of 0 s, so the sampling rate is unknown" in _one_line_error(path)


def test_edf_non_numeric_range_is_refused(tmp_path):
    path = _edf(tmp_path / "rec.edf", pmin=["low", -500, -500])
    assert "not a valid EDF/BDF header (channel 'Fp1': physical minimum 'low' is not a number)" in _one_line_error(
        path
    )


def test_edf_declaring_too_many_records_is_truncated(tmp_path):
    path = _edf(tmp_path / "rec.edf", declared=9999)
    assert "file is truncated: the header declares 9999 data records" in _one_line_error(path)


def test_edf_without_a_complete_record(tmp_path):
    path = _edf(tmp_path / "rec.edf", n_records=0, declared=-1, tail=b"\0" * 100)
    assert "the file holds no complete data record (600 bytes each)" in _one_line_error(path)


@pytest.mark.parametrize(
    ("kwargs", "n_times", "warning"),
    [
        ({"n_records": 12, "declared": 10}, 1200,
         "the header declares 10 data records but the file holds 12; all 12 are read"),
        ({"declared": -1}, 1000, "the header's record count is -1 (unknown); read the 10 complete records found"),
        ({"declared": -5}, 1000, "the header's record count is -5 (invalid; -1 means unknown); read the 10 complete"),
        ({"dmin": 32767, "dmax": -32768}, 1000,
         "digital minimum > maximum in the header for channel(s) Fp1, Cz, Pz: read with inverted polarity"),
        ({"declared": 0}, 1000, "the header declares 0 data records but the file holds 10"),
        ({"tail": b"\0" * 100}, 1000, "100 bytes after the last complete data record are ignored"),
        ({"samples": [100, 0, 100]}, 1000, "channel(s) Cz have 0 samples per data record in the header"),
    ],
)
def test_edf_header_inconsistencies_are_reported(tmp_path, kwargs, n_times, warning):
    path = _edf(tmp_path / "rec.edf", **kwargs)
    raw, report = _cli_like_load(path)
    assert raw.n_times == n_times
    assert len(report.warnings) == 1 and report.warnings[0].startswith(warning)
    assert f"warning: {report.warnings[0]}" in report.lines()
    # MNE's own wording of the same problem is not repeated.
    assert not any(w.startswith("Number of records from the header") for w in report.warnings)
    # Library users get it as a Python warning too.
    with pytest.warns(RuntimeWarning, match=re.escape(f"rec.edf: {warning}")):
        load_eeg(path)


def test_mne_warnings_reach_the_report_even_when_mne_is_silenced(tmp_path):
    # MNE only issues its warnings when its logger is at WARNING; the CLI sets ERROR.
    path = _edf(tmp_path / "rec.edf", prefilter="HP:100Hz LP:10Hz")
    _, report = _cli_like_load(path)
    assert report.warnings == (
        "Highpass cutoff frequency 100.0 is greater than lowpass cutoff frequency 10.0, setting values to 0 and "
        "Nyquist.",
    )
    with pytest.warns(RuntimeWarning, match="Highpass cutoff frequency"):
        load_eeg(path)  # at MNE's default level the warning is issued as before


def test_edf_annotations_in_latin1_are_read(tmp_path):
    # MNE raises a bare Exception on non-UTF-8 annotation bytes; harmonix retries with latin-1.
    tal = b"+0\x14\x14\x00+0.5\x150.1\x14caf\xe9\x14\x00"
    path = _edf(tmp_path / "rec.edf", annotations=tal.ljust(60, b"\x00"))
    raw, report = _cli_like_load(path)
    assert "café" in set(raw.annotations.description)
    assert any("not UTF-8; read them as latin-1" in w for w in report.warnings)


# ---------------------------------------------------------------------------
# Headset CSV: non-numeric cells, backward timestamp jumps.
# ---------------------------------------------------------------------------


def _muse_lines(rows: int = 2560, rate: float = 256.0) -> list[str]:
    rng = np.random.default_rng(3)
    lines = ["timestamps,TP9,AF7,AF8,TP10,Right AUX,Marker0"]
    for i in range(rows):
        values = ",".join(f"{v:.3f}" for v in rng.normal(0, 10, 5))
        lines.append(f"{1500000000 + i / rate:.6f},{values},0")
    return lines


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _set_cell(lines: list[str], line: int, column: int, value: str) -> float:
    """Replace a cell (``line`` is the 1-based file line); return the value it had."""
    parts = lines[line - 1].split(",")
    old = parts[column]
    parts[column] = value
    lines[line - 1] = ",".join(parts)
    return float(old)


def test_csv_non_numeric_cell_is_refused_naming_column_line_value(tmp_path):
    lines = _muse_lines()
    _set_cell(lines, 501, 2, "n/a?")
    path = _write(tmp_path / "muse.csv", lines)
    expected = ("column 'AF7' has a non-numeric value 'n/a?' at line 501; correct the file, or interpolate isolated "
                "bad cells with --repair-csv")
    assert expected in _one_line_error(path)
    with pytest.raises(InputFileError, match="column 'AF7'"):
        read_headset_csv(path)


def test_csv_empty_cell_is_refused(tmp_path):
    lines = _muse_lines()
    _set_cell(lines, 40, 1, "")
    assert "column 'TP9' has an empty cell at line 40" in _one_line_error(_write(tmp_path / "muse.csv", lines))


def test_csv_repair_interpolates_an_isolated_cell(tmp_path):
    lines = _muse_lines()
    _set_cell(lines, 501, 2, "n/a?")
    before, after = float(lines[499].split(",")[2]), float(lines[501].split(",")[2])
    path = _write(tmp_path / "muse.csv", lines)
    with pytest.warns(DataWarning, match="interpolated 1"):
        raw, report = load_eeg_with_report(path, repair=True)
    assert "AF7" in raw.ch_names  # the channel is kept, not silently dropped
    assert raw.get_data(picks="AF7")[0, 499] == pytest.approx((before + after) / 2 * 1e-6)
    assert any("column 'AF7': interpolated 1 non-numeric or empty cell(s)" in text and "line 501: 'n/a?'" in text
               for text in report.warnings)
    with pytest.warns(RuntimeWarning, match="interpolated 1"):
        read_headset_csv(path, repair=True)


def test_csv_repair_refuses_long_runs(tmp_path):
    lines = _muse_lines()
    for line in range(100, 106):
        _set_cell(lines, line, 3, "x")
    with pytest.raises(InputFileError, match=r"column 'AF8' has 6 consecutive .* \(lines 100-105\)"):
        load_eeg(_write(tmp_path / "muse.csv", lines), repair=True)


def test_csv_bad_timestamp_cell(tmp_path):
    lines = _muse_lines()
    _set_cell(lines, 300, 0, "??")
    path = _write(tmp_path / "muse.csv", lines)
    assert "column 'timestamps' has a non-numeric value '??' at line 300" in _one_line_error(path)
    with pytest.warns(DataWarning, match="interpolated 1"):
        raw, report = load_eeg_with_report(path, repair=True)
    assert raw.info["sfreq"] == 256.0 and any("column 'timestamps': interpolated 1" in n for n in report.warnings)


def test_csv_text_column_is_ignored_and_noted(tmp_path):
    lines = _muse_lines(300)
    lines = [line + (",device" if i == 0 else ",muse-2016") for i, line in enumerate(lines)]
    raw, report = load_eeg_with_report(_write(tmp_path / "muse.csv", lines))
    assert "device" not in raw.ch_names and "text column(s) 'device' ignored (not channels)" in report.notes


def test_csv_backward_jump_is_refused_naming_the_line(tmp_path):
    lines = _muse_lines()
    for line in range(1002, len(lines) + 1):  # the clock is set back 1.2 s at sample 1000
        _set_cell(lines, line, 0, f"{float(lines[line - 1].split(',')[0]) - 1.2:.6f}")
    path = _write(tmp_path / "muse.csv", lines)
    message = _one_line_error(path)
    assert "timestamps go back by 1.196 s at line 1002" in message and "--repair-csv" in message


@pytest.mark.parametrize("kind", ["clock reset", "one mis-stamped row"])
def test_csv_backward_jump_repaired_keeps_256_hz(tmp_path, kind):
    lines = _muse_lines()
    if kind == "clock reset":
        for line in range(1002, len(lines) + 1):
            _set_cell(lines, line, 0, f"{float(lines[line - 1].split(',')[0]) - 1.2:.6f}")
    else:  # the corpus case: one row stamped 5 s early
        _set_cell(lines, 1001, 0, f"{float(lines[1000].split(',')[0]) - 5:.6f}")
    path = _write(tmp_path / "muse.csv", lines)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a mis-stamped row is not a gap of lost samples: no gap warning
        raw, report = load_eeg_with_report(path, repair=True)
    assert raw.info["sfreq"] == 256.0 and raw.n_times == 2560  # counting the jump gave 267 Hz and more
    assert any("1 backward jump(s)" in note and "left out of the rate estimate" in note for note in report.notes)


def test_estimate_sfreq_leaves_jumps_out():
    t = np.arange(7680) / 256.0
    t[3000:] -= 1.2
    estimate = estimate_sfreq(t)
    assert estimate.raw_sfreq == pytest.approx(256.0, rel=1e-9)
    assert (estimate.n_jumps, estimate.first_jump, estimate.n_gaps) == (1, 3000, 0)
    assert estimate.max_jump == pytest.approx(1.2 - 1 / 256)
    t = np.arange(7680) / 256.0
    t[5000] += 3.0  # one row stamped late: a gap then a jump back
    estimate = estimate_sfreq(t)
    assert estimate.raw_sfreq == pytest.approx(256.0, rel=1e-9) and estimate.n_gaps == 0 and estimate.n_jumps == 1


def test_estimate_sfreq_keeps_small_backward_steps():
    # Bluetooth arrival jitter steps back a few ms (real Muse files: 30 such steps); that is not a jump.
    t = np.arange(5000) / 256.0 + np.random.default_rng(1).normal(0, 0.003, 5000)
    estimate = estimate_sfreq(t)
    assert estimate.n_backwards > 0 and estimate.n_jumps == 0 and estimate.sfreq == 256.0


# ---------------------------------------------------------------------------
# A recording too short for some bands: skipped, not stopped.
# ---------------------------------------------------------------------------


def test_band_needs_two_bins_at_the_window_resolution():
    # 0.79 s: the Welch window is the whole recording, bins 1.27 Hz apart.
    assert welch_window_seconds(10.0, 0.79) == 0.79
    check_bands_resolvable([Band("alpha", 8.0, 13.0)], 128.0, 0.79)
    with pytest.raises(ParameterError, match=r"band 'x' \(10-11 Hz\) holds 1 frequency bin\(s\) at the 1\.27-Hz "
                                             r"resolution of a 0\.79-s Welch window; it needs 2 \(a recording of at "
                                             r"least 2\.00 s or a wider band\)"):
        check_bands_resolvable([Band("x", 10.0, 11.0)], 128.0, 0.79)
    with pytest.raises(ParameterError, match=r"at the 0\.5-Hz resolution of a 2\.00-s Welch window; it needs 2 "
                                             r"\(a band at least 1 Hz wide\)"):
        check_bands_resolvable([Band("x", 9.6, 10.3)], 256.0, 60.0)


def test_short_recording_skips_the_bands_it_cannot_resolve():
    bands = (*load_bands(), Band("narrow", 10.0, 11.0))
    kept, skipped = resolvable_bands(bands, 128.0, 0.79, source="short.fif", strict=False)
    assert [b.name for b in kept] == ["alpha", "beta", "gamma"]
    assert set(skipped) == {"delta", "theta", "narrow"}
    assert "holds 1 frequency bin(s)" in skipped["narrow"]


def test_short_recording_is_analysed_in_the_bands_it_supports(rng):
    from harmonix.pipeline import analyze_eeg

    names = ["Fp1", "Fp2", "C3", "C4", "O1", "O2"]
    raw = mne.io.RawArray(rng.normal(0, 1e-5, (6, int(0.79 * 128))), mne.create_info(names, 128.0, "eeg"),
                          verbose=False)
    analysis = analyze_eeg(raw, session="short")
    assert set(analysis.params["skipped_bands"]) == {"delta", "theta"}
    assert set(analysis.metrics.query("metric == 'band_power'")["band"]) == {"alpha", "beta", "gamma"}


def test_errors_share_the_family():
    assert issubclass(InputFileError, HarmonixError)


@pytest.mark.real_data
def test_brainvision_cut_at_a_sample_frame_warns_of_markers_past_the_end(shared_data, tmp_path):
    # Without DataPoints a cut at a whole frame reads as a shorter recording; the markers after it give it away.
    for name in ("test.vhdr", "test.vmrk", "test.eeg"):
        (tmp_path / name).write_bytes((shared_data / name).read_bytes())
    data = tmp_path / "test.eeg"
    data.write_bytes(data.read_bytes()[: 3000 * 64])  # 32 channels of INT_16
    raw, report = _cli_like_load(tmp_path / "test.vhdr")
    assert raw.n_times == 3000
    assert report.warnings == (
        "9 marker(s) in test.vmrk lie past the end of the data and were left out: test.eeg may be truncated "
        "(re-export or re-copy it if the recording was longer)",
    )
    assert _cli_like_load(shared_data / "test.vhdr")[1].warnings == ()


def test_csv_nan_cell_is_quoted_as_written(tmp_path):
    # Read with pandas' defaults, "NaN" became an empty cell in the message.
    lines = _muse_lines()
    _set_cell(lines, 77, 4, "NaN")
    assert "column 'TP10' has a missing value 'NaN' at line 77" in _one_line_error(_write(tmp_path / "muse.csv", lines))


def test_csv_empty_column_is_ignored_and_noted(tmp_path):
    lines = [line + ("," if i else ",spare") for i, line in enumerate(_muse_lines(300))]
    raw, report = load_eeg_with_report(_write(tmp_path / "muse.csv", lines))
    assert "spare" not in raw.ch_names and "empty column(s) 'spare' ignored (not channels)" in report.notes


def test_csv_missing_value_words_are_not_marker_labels(tmp_path):
    lines = _muse_lines(300)
    lines[10] = lines[10].rsplit(",", 1)[0] + ",NaN"
    lines[20] = lines[20].rsplit(",", 1)[0] + ",stim_on"
    raw, report = load_eeg_with_report(_write(tmp_path / "muse.csv", lines))
    assert "text markers coded as: stim_on=1" in report.notes  # no label 'NaN'
    assert set(np.unique(raw.get_data(picks="STI"))) == {0.0, 1.0}


# ---------------------------------------------------------------------------
# The same files through the command line: exit status 2, one line on stderr.
# ---------------------------------------------------------------------------

EEG_CHANNELS = ("Fp1", "Fp2", "C3", "C4", "O1", "O2", "Cz", "Pz")


def _cli(argv: list[str], capfd) -> tuple[int, list[str], str]:
    """Run ``harmonix`` (quiet); return (exit status, non-blank stderr lines, stdout).

    ``capfd`` captures file descriptor 2 too: C decoders write there, past sys.stderr.
    """
    from harmonix.cli import main

    capfd.readouterr()
    code = main(["-q", *argv])
    captured = capfd.readouterr()
    return code, [line for line in captured.err.splitlines() if line.strip()], captured.out


def _analyze_fails(path: Path, tmp_path: Path, capfd, *extra: str) -> str:
    """``harmonix analyze path`` must exit 2 with one ``harmonix: error:`` line naming the file; return it."""
    code, errors, out = _cli(["analyze", str(path), "--harmonics", "off", *extra, "--out", str(tmp_path / "out")],
                             capfd)
    assert code == 2, (code, errors, out)
    assert len(errors) == 1 and errors[0].startswith("harmonix: error: ") and str(path) in errors[0], errors
    assert "Traceback" not in out
    return errors[0]


def _random_file(path: Path) -> Path:
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 4099, dtype=np.uint8).tobytes())
    return path


def _muse_with(tmp_path: Path, change) -> Path:
    lines = _muse_lines()
    change(lines)
    return _write(tmp_path / "muse.csv", lines)


def _clock_reset(lines: list[str]) -> None:
    for line in range(1002, len(lines) + 1):
        _set_cell(lines, line, 0, f"{float(lines[line - 1].split(',')[0]) - 1.2:.6f}")


def _cut_fif(tmp_path: Path) -> Path:
    whole = tmp_path / "whole_raw.fif"
    info = mne.create_info(list(EEG_CHANNELS), 128.0, "eeg")
    mne.io.RawArray(np.random.default_rng(0).normal(0, 1e-5, (8, 128 * 20)), info, verbose=False).save(
        whole, verbose=False)
    path = tmp_path / "cut_raw.fif"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return path


def _flat_edf(tmp_path: Path) -> Path:
    path = _edf(tmp_path / "flat.edf", names=EEG_CHANNELS, n_records=30)
    info = mne.io.read_raw_edf(path, preload=True, verbose="error")
    info._data[2] = 0.0
    out = tmp_path / "flat_raw.fif"
    info.save(out, verbose=False)
    return out


def _file(name: str, content: bytes):
    """A case maker writing ``content`` to ``name`` in the case's folder."""
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(content)
        return folder / name
    return make


CLI_CASES = {
    "zero-byte .set": (_file("rec.set", b""), "the file is empty (0 bytes)"),
    "random .vhdr": (lambda d: _random_file(d / "rec.vhdr"), "cannot be read as .vhdr file"),
    "garbled .vhdr": (_file("rec.vhdr", b"Brain Vision Data Exchange Header File Version 1.0\n[Common Infos\n"),
                      "not an INI-style header: File contains no section headers"),
    "EDF with 0 samples per record": (lambda d: _edf(d / "rec.edf", names=EEG_CHANNELS, samples=[0] * 8),
                                      "declares 0 samples per data record for every channel"),
    "EDF with physical min = max": (
        lambda d: _edf(d / "rec.edf", names=EEG_CHANNELS, pmin=[-500, 3] + [-500] * 6, pmax=[500, 3] + [500] * 6),
        "physical minimum = maximum (both 3 uV) for EEG channel Fp2: its samples cannot be scaled"),
    "EDF declaring more records than it holds": (lambda d: _edf(d / "rec.edf", names=EEG_CHANNELS, declared=500),
                                                 "file is truncated: the header declares 500 data records"),
    "BDF declaring more records than it holds": (lambda d: _edf(d / "rec.bdf", names=EEG_CHANNELS, declared=500),
                                                 "file is truncated: the header declares 500 data records"),
    ".txt file": (_file("rec.txt", b"1 2 3\n"),
                  "'.txt' files are not EEG recordings harmonix reads: MNE reads .txt as BOXY optical (fNIRS) data"),
    "FIF cut in half": (_cut_fif, "file is truncated: its data buffers end at byte"),
    "headset CSV with a non-numeric cell": (
        lambda d: _muse_with(d, lambda lines: _set_cell(lines, 501, 2, "n/a?")),
        "column 'AF7' has a non-numeric value 'n/a?' at line 501"),
    "headset CSV whose clock jumps back": (lambda d: _muse_with(d, _clock_reset),
                                           "timestamps go back by 1.196 s at line 1002"),
    "flat channel": (_flat_edf, "flat channel C3 (standard deviation below"),
    **{f"random bytes {ext}": (lambda d, ext=ext: _random_file(d / f"noise{ext}"), "")
       for ext in (".edf", ".bdf", ".gdf", ".fif", ".vhdr", ".set", ".csv")},
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_analyze_bad_file_is_one_line(tmp_path, capfd, case):
    make, expected = CLI_CASES[case]
    path = make(tmp_path)
    message = _analyze_fails(path, tmp_path, capfd)
    assert expected in message
    if case == "flat channel":
        assert "add --mark-flat to harmonix analyze" in message


@pytest.mark.real_data
@pytest.mark.parametrize(("header", "data"), [("test.vhdr", "test.eeg"), ("eeglab_data.set", "eeglab_data.fdt")])
def test_cli_analyze_truncated_two_file_recording(shared_data, tmp_path, capfd, header, data):
    import shutil

    for name in {header, data, "test.vmrk"} if header.endswith(".vhdr") else {header, data}:
        shutil.copy(shared_data / name, tmp_path / name)
    cut = tmp_path / data
    # Not at a sample frame: test.vhdr has no DataPoints, so a cut between frames is a shorter recording.
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2 + 3])
    assert "file is truncated" in _analyze_fails(tmp_path / header, tmp_path, capfd)


def test_cli_music_garbage_mp3_is_one_line(tmp_path, capfd):
    path = _random_file(tmp_path / "noise.mp3")
    code, errors, _ = _cli(["music", str(path), "--no-resonance", "--out", str(tmp_path / "out")], capfd)
    assert code == 2
    assert errors == [errors[0]] and errors[0].startswith(f"harmonix: error: {path}: cannot decode as MP3 audio")


def test_cli_edf_header_warning_is_printed_and_kept_in_params(tmp_path, capfd):
    path = _edf(tmp_path / "rec.edf", names=EEG_CHANNELS, n_records=40, declared=30)
    code, errors, _ = _cli(["analyze", str(path), "--harmonics", "off", "--out", str(tmp_path / "out")], capfd)
    assert code == 0 and errors == [f"harmonix: warning: {path}: the header declares 30 data records but the file "
                                    "holds 40; all 40 are read (the header was probably not updated when the "
                                    "recording stopped)"]
    params = json.loads((tmp_path / "out" / "rec" / "params.json").read_text())
    assert params["load"]["warnings"] == [
        "the header declares 30 data records but the file holds 40; all 40 are read (the header was probably not "
        "updated when the recording stopped)"
    ]


def test_cli_edf_header_warning_is_printed(tmp_path, capfd):
    path = _edf(tmp_path / "rec.edf", names=EEG_CHANNELS, n_records=40, declared=30)
    code, errors, _ = _cli(["analyze", str(path), "--harmonics", "off", "--out", str(tmp_path / "out")], capfd)
    assert code == 0
    assert any(line.startswith("harmonix: warning: ") and "the header declares 30 data records but the file holds 40"
               in line for line in errors), errors


def test_cli_short_recording_skips_bands(tmp_path, capfd):
    raw = mne.io.RawArray(np.random.default_rng(0).normal(0, 1e-5, (8, int(0.79 * 128))),
                          mne.create_info(list(EEG_CHANNELS), 128.0, "eeg"), verbose=False)
    path = tmp_path / "short_raw.fif"
    raw.save(path, verbose=False)
    code, errors, out = _cli(["analyze", str(path), "--harmonics", "off", "--out", str(tmp_path / "out")], capfd)
    assert (code, errors) == (0, []) and "skipped bands the recording cannot resolve: delta, theta" in out


def test_cli_repair_csv_goes_on_and_says_what_it_repaired(tmp_path, capfd):
    lines = _muse_lines()
    _set_cell(lines, 501, 2, "n/a?")
    path = _write(tmp_path / "muse.csv", lines)
    out = tmp_path / "out"
    code, errors, _ = _cli(["analyze", str(path), "--harmonics", "off", "--out", str(out)], capfd)
    assert code == 2 and "--repair-csv" in errors[0]
    code, errors, _ = _cli(["analyze", str(path), "--harmonics", "off", "--repair-csv", "--out", str(out)], capfd)
    assert code == 0, errors
    assert [line for line in errors if "interpolated 1" in line and line.startswith("harmonix: warning: ")], errors
    (folder,) = [p for p in out.iterdir() if (p / "params.json").is_file()]
    params = json.loads((folder / "params.json").read_text())
    assert any("interpolated 1" in text for text in params["load"]["warnings"]), params["load"]
