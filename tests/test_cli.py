"""The ``harmonix`` command end to end: outputs, provenance, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest

from harmonix.cli import main
from harmonix.simulate.synthetic import synthetic_eeg
from harmonix.tables import METRIC_COLUMNS, file_sha256

REAL_EEG = [
    "eegmmidb_S001R01.edf",
    "eegmmidb_S001R04.edf",
    "eeglab_data.set",
    "eeglab_data_epochs_ica.set",
    "test.vhdr",
    "mne_biosemi_test.bdf",
    "ssvep_exo_s01_raw.fif",
    "eegnb_muse_ssaep_s1_2017-09-27-14.42.41.csv",
    "eegnb_muse_ssvep_s1_2017-09-14-21.20.04.csv",
]


@pytest.fixture(scope="module")
def synthetic_fif(tmp_path_factory) -> Path:
    raw, _ = synthetic_eeg(duration=40.0, seed=3)
    path = tmp_path_factory.mktemp("rec") / "synthetic_raw.fif"
    raw.save(path, verbose=False)
    return path


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_analyze_writes_tidy_table_and_provenance(synthetic_fif, tmp_path, capsys):
    before = file_sha256(synthetic_fif)
    code, out, err = _run(["-q", "analyze", str(synthetic_fif), "--out", str(tmp_path)], capsys)
    assert code == 0, err
    folder = tmp_path / "synthetic_raw"
    table = pd.read_csv(folder / "metrics.csv")
    assert tuple(table.columns) == METRIC_COLUMNS
    assert set(table["session"]) == {"synthetic_raw"}
    power = table[table.metric == "band_power"]
    assert len(power) == 64 * 5 and set(power.band) == {"delta", "theta", "alpha", "beta", "gamma"}
    assert (power.unit == "V^2").all() and (power.value > 0).all()
    relative = table[table.metric == "band_power_relative"].groupby("component")["value"].sum()
    np.testing.assert_allclose(relative, 1.0, atol=1e-9)  # the five bands tile 1-45 Hz
    params = json.loads((folder / "params.json").read_text())
    assert params["input"]["sha256"][str(synthetic_fif)] == before
    assert {"harmonix", "mne", "numpy"} <= set(params["versions"])
    assert params["psd"]["method"] == "welch"
    with np.load(folder / "arrays.npz") as arrays:
        assert arrays["psd"].shape[0] == 64
    assert file_sha256(synthetic_fif) == before  # input never modified
    assert "metrics.csv" in out
    assert not list(tmp_path.glob(".*partial"))


def test_analyze_recovers_planted_alpha_and_exponent(synthetic_fif, tmp_path, capsys):
    assert _run(["-q", "analyze", "--harmonics", "off", str(synthetic_fif), "--out", str(tmp_path)], capsys)[0] == 0
    table = pd.read_csv(tmp_path / "synthetic_raw" / "metrics.csv")
    posterior = table.component.isin(["O1", "Oz", "O2", "POz"])
    iaf = table[(table.metric == "periodic_peak_frequency") & (table.band == "alpha") & posterior]["value"]
    assert np.all(np.abs(iaf - 10.0) < 0.2)
    exponent = table[table.metric == "aperiodic_exponent"]["value"]
    assert abs(np.median(exponent) - 1.5) < 0.15


def test_chosen_band_too_low_for_short_recording_exits_2(tmp_path, capsys):
    raw, _ = synthetic_eeg(duration=2.0, seed=1)
    path = tmp_path / "short_raw.fif"
    raw.save(path, verbose=False)
    code, out, err = _run(["-q", "analyze", str(path), "--bands", "delta", "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "short_raw.fif" in err and "too short" in err
    assert not (tmp_path / "out" / "short_raw").exists()


def test_default_bands_skip_what_a_short_recording_cannot_resolve(tmp_path, capsys):
    raw, _ = synthetic_eeg(duration=2.0, seed=1)
    path = tmp_path / "short_raw.fif"
    raw.save(path, verbose=False)
    code, out, _ = _run(["-q", "analyze", "--harmonics", "off", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 0 and "skipped" in out and "delta" in out
    params = json.loads((tmp_path / "out" / "short_raw" / "params.json").read_text())
    assert "delta" in params["skipped_bands"] and "too short" in params["skipped_bands"]["delta"]


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("notes.xyz", b"hello", "xyz"),
        ("broken.edf", b"0       this is not an EDF header at all" * 3, "broken.edf"),
        ("missing.edf", None, "missing.edf"),
    ],
)
def test_bad_files_give_one_line_and_exit_2(tmp_path, capsys, name, content, expected):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    code, _, err = _run(["-q", "analyze", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert err.startswith("harmonix: error:") and err.count("\n") == 1 and expected in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_flat_channel_stops_unless_marked(tmp_path, capsys):
    raw, _ = synthetic_eeg(duration=20.0, seed=2)
    data = raw.get_data()
    data[5] = 0.0
    flat = mne.io.RawArray(data, raw.info, verbose=False)
    path = tmp_path / "flat_raw.fif"
    flat.save(path, verbose=False)
    code, _, err = _run(["-q", "analyze", "--harmonics", "off", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "flat" in err and raw.ch_names[5] in err
    code, _, _ = _run(["-q", "analyze", "--harmonics", "off", str(path), "--mark-flat", "--out", str(tmp_path / "out")], capsys)
    assert code == 0
    params = json.loads((tmp_path / "out" / "flat_raw" / "params.json").read_text())
    assert raw.ch_names[5] in params["channels_bad"]
    assert raw.ch_names[5] not in params["channels_analysed"]


def test_nan_samples_exit_2(tmp_path, capsys):
    raw, _ = synthetic_eeg(duration=20.0, seed=2)
    data = raw.get_data()
    data[3, 1000] = np.nan
    path = tmp_path / "nan_raw.fif"
    mne.io.RawArray(data, raw.info, verbose=False).save(path, verbose=False)
    code, _, err = _run(["-q", "analyze", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "nan_raw.fif" in err and ("NaN" in err or "non-finite" in err)


def test_unknown_band_name_exits_2(synthetic_fif, tmp_path, capsys):
    code, _, err = _run(["-q", "analyze", str(synthetic_fif), "--bands", "kappa", "--out", str(tmp_path)], capsys)
    assert code == 2 and "kappa" in err


def test_console_script_is_installed_and_errors_cleanly(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "harmonix.cli", "analyze", str(tmp_path / "nope.edf"), "--out", str(tmp_path)],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.real_data
@pytest.mark.parametrize("name", REAL_EEG)
def test_every_shared_recording_is_analysed(shared_data, tmp_path, capsys, name):
    path = shared_data / name
    before = file_sha256(path)
    code, out, err = _run(["-q", "analyze", str(path), "--mark-flat", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    session = next(p for p in tmp_path.iterdir() if p.is_dir())
    table = pd.read_csv(session / "metrics.csv")
    assert (table[table.metric == "band_power"]["value"] > 0).all()
    assert table["value"].notna().any()
    assert file_sha256(path) == before


@pytest.mark.real_data
def test_music_command_on_trumpet(shared_data, tmp_path, capsys):
    path = shared_data / "sorohanro_-_solo-trumpet-06.hq.ogg"
    code, out, err = _run(["-q", "music", str(path), "--out", str(tmp_path)], capsys)
    assert code == 0, err
    table = pd.read_csv(next(tmp_path.iterdir()) / "metrics.csv")
    # A 5.3-s phrase: its onset periodicity does not pass the pulse test at 1 % (issue 14: no tempo without a
    # pulse), so a tempo, if any, and at least one candidate must sit at a metrical level of the notated 90 bpm.
    tempo = table[table.metric == "tempo"]["value"].iloc[0]
    candidates = table[table.metric == "tempo_candidate"]["value"]
    assert np.isnan(tempo) or min(abs(tempo / f - 90.0) / 90.0 for f in (0.5, 1.0, 2.0)) < 0.05
    assert min(abs(c / f - 90.0) / 90.0 for c in candidates for f in (0.5, 1.0, 2.0)) < 0.05
    # the pitch is pYIN's f0 of the trumpet line, not its strongest partial
    assert "strongest_partial_median" not in set(table.metric)
    assert 200 < table[table.metric == "f0_median"]["value"].iloc[0] < 1000


@pytest.mark.real_data
def test_truncated_edf_exits_2_with_one_line(shared_data, tmp_path, capsys):
    original = (shared_data / "eegmmidb_S001R01.edf").read_bytes()
    path = tmp_path / "truncated.edf"
    path.write_bytes(original[: len(original) // 2])
    code, _, err = _run(["-q", "analyze", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "truncated.edf" in err and "truncated" in err.replace("truncated.edf", "")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_silent_wav_exits_2_with_one_line(tmp_path, capsys):
    import soundfile

    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(44100), 44100)
    code, _, err = _run(["-q", "music", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and err.count("\n") == 1 and "silence.wav" in err and "silent" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_existing_foreign_folder_is_never_replaced(synthetic_fif, tmp_path, capsys):
    victim = tmp_path / "out" / "synthetic_raw"
    victim.mkdir(parents=True)
    (victim / "my_notes.txt").write_text("precious")
    code, _, err = _run(["-q", "analyze", "--harmonics", "off", str(synthetic_fif), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "not written by harmonix" in err
    assert (victim / "my_notes.txt").read_text() == "precious"


def test_rerun_skips_its_own_output_and_overwrite_replaces_a_different_one(synthetic_fif, tmp_path, capsys):
    # A re-run of the same command finds its output up to date (study layer, issue 11); --overwrite replaces it.
    argv = ["-q", "analyze", "--harmonics", "off", str(synthetic_fif), "--out", str(tmp_path)]
    assert _run(argv, capsys)[0] == 0
    code, out, _ = _run(argv, capsys)
    assert code == 0 and "up to date, skipped" in out
    code, out, _ = _run([*argv, "--overwrite"], capsys)
    assert code == 0 and "up to date, skipped" in out  # --overwrite replaces outputs that differ, not this one
    code, out, _ = _run([*argv, "--psd", "multitaper", "--overwrite"], capsys)
    assert code == 0 and "up to date" not in out
    # One output folder (replaced in place) and the index of which input each folder holds (issue 13).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.tsv", "synthetic_raw"]
    assert (tmp_path / "index.tsv").read_text() == f"name\tinput\nsynthetic_raw\t{synthetic_fif.resolve()}\n"


def test_out_pointing_at_a_file_exits_2(synthetic_fif, tmp_path, capsys):
    target = tmp_path / "a_file"
    target.write_text("x")
    code, _, err = _run(["-q", "analyze", "--harmonics", "off", str(synthetic_fif), "--out", str(target)], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_bad_annotations_are_left_out(tmp_path, capsys):
    raw, _ = synthetic_eeg(duration=40.0, seed=4)
    raw.set_annotations(mne.Annotations(onset=[10.0], duration=[5.0], description=["BAD_movement"]))
    path = tmp_path / "annotated_raw.fif"
    raw.save(path, verbose=False)
    assert _run(["-q", "analyze", "--harmonics", "off", str(path), "--out", str(tmp_path / "out")], capsys)[0] == 0
    text = (tmp_path / "out" / "annotated_raw" / "params.json").read_text()
    params = json.loads(text)  # strict JSON: no NaN tokens
    assert "NaN" not in text
    assert params["rejected_by_annotation_s"] == pytest.approx(5.0, abs=0.01)


def test_music_reports_connectome_resonance_of_the_envelope(tmp_path, capsys):
    import soundfile

    from harmonix.simulate.synthetic import am_tone

    fractions = {}
    for rate in (4.0, 40.0):
        path = tmp_path / f"am_{rate:g}.wav"
        soundfile.write(path, am_tone(12.0, 22050.0, carrier=440.0, rate=rate), 22050)
        assert main(["-q", "music", str(path), "--out", str(tmp_path / "out")]) == 0
        table = pd.read_csv(tmp_path / "out" / path.stem / "metrics.csv")
        resonance = table[table.metric == "resonance_energy_fraction"]
        assert resonance["value"].sum() == pytest.approx(1.0, abs=1e-9)
        drive = table[table.metric == "resonance_drive_frequency"]["value"].iloc[0]
        assert drive == pytest.approx(rate, abs=0.5)  # the envelope's rate delivers the energy
        flat = table[table.metric == "resonance_energy_fraction_flat"]
        assert flat["value"].sum() == pytest.approx(1.0, abs=1e-9)
        fractions[rate] = resonance["value"].to_numpy()
        flats = flat["value"].to_numpy()
        ratio = table[table.metric == "resonance_energy_ratio"]["value"].to_numpy()
        np.testing.assert_allclose(ratio, fractions[rate] / flats, rtol=1e-9)
        specific = table[table.metric == "resonance_specific_ratio"]["value"].iloc[0]
        assert specific == pytest.approx(np.max(ratio[fractions[rate] >= 0.01]))
    assert not np.allclose(fractions[4.0], fractions[40.0], atol=0.01)  # different rates energise different harmonics


def test_analyze_report_is_written_with_the_tables(synthetic_fif, tmp_path, capsys):
    code, out, err = _run(["-q", "analyze", str(synthetic_fif), "--out", str(tmp_path), "--harmonics", "off",
                           "--report"], capsys)
    assert code == 0, err
    folder = tmp_path / "synthetic_raw"
    html = (folder / "report.html").read_text()
    assert "report.html" in out and html.startswith("<!DOCTYPE html>")
    assert html.count("<img") >= 3 and "https://" not in html.replace("https://doi.org", "")
    assert oct(folder.stat().st_mode & 0o777) != oct(0o700)  # a normal folder, not mkdtemp's private one


def test_music_report_command_writes_report_and_says_no_tempo_for_a_sustained_tone(tmp_path, capsys):
    import soundfile

    sfreq = 22050
    t = np.arange(6 * sfreq) / sfreq
    tone = sum(np.sin(2 * np.pi * 110.0 * k * t) / k for k in range(1, 8)) * np.minimum(1, t / 0.05)
    path = tmp_path / "drone.wav"
    soundfile.write(path, 0.2 * tone, sfreq)
    code, out, err = _run(["music", "--no-resonance", "--report", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 0, err
    assert "no tempo (no pulse)" in out and "f0 110." in out
    page = (tmp_path / "out" / "drone" / "report.html").read_text()
    assert "Spectrogram, f0 and beats" in page and "CDNS over time" in page and "--no-resonance" in page


def test_long_loops_print_plain_lines_when_not_on_a_terminal(capsys):
    """Issue 16: the demo's loop is never silent in a log (stderr not a terminal); --quiet silences it."""
    from harmonix import progress as shown

    assert list(shown.progress(range(3), desc="simulate + analyse", lines=True)) == [0, 1, 2]
    shown.stage_line("demo: comparing pre with post")
    err = capsys.readouterr().err.splitlines()
    assert err[:3] == [f"harmonix: simulate + analyse {i}/3 (0 s)" for i in (1, 2, 3)]
    assert err[3] == "harmonix: demo: comparing pre with post"
    shown.set_quiet(True)
    try:
        list(shown.progress(range(3), desc="x", lines=True))
        shown.stage_line("nothing")
    finally:
        shown.set_quiet(False)
    assert capsys.readouterr().err == ""


def test_outputs_share_one_file_mode(tmp_path, capsys):
    """Issue 16: rendered audio, its sidecar and analysis outputs get the same mode (0666 less the umask)."""
    import os
    import stat

    umask = os.umask(0o022)
    os.umask(umask)
    out = tmp_path / "r" / "tone.wav"
    assert main(["-q", "stimulate", "--preset", "gamma-40hz", "--seconds", "20", "-o", str(out)]) == 0
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.parent.iterdir()}
    assert set(modes.values()) == {0o666 & ~umask}, modes


@pytest.mark.parametrize("argv, text", [
    (["analyze", "x.edf", "--out", "o", "--n-harmonics", "-3"], "--n-harmonics: -3: a count must be >= 1"),
    (["compare", "a", "--post", "b", "--out", "o", "--permutations", "0"], "--permutations: 0: a count must be >= 1"),
    (["simulate", "--out", "o", "--seconds", "-1"], "--seconds: -1: a duration in s must be > 0"),
    (["simulate", "--out", "o", "--seed", "1.5"], "--seed: '1.5' is not an integer"),
    (["stimulate", "--preset", "gamma-40hz", "-o", "x.wav", "--sfreq", "nan"], "--sfreq: nan: a rate in Hz"),
    (["harmonics", "--out", "o", "--n", "0"], "--n: 0: a count must be >= 1"),
])
def test_numeric_options_are_validated(argv, text, capsys):
    """Issue 17: a nonsensical number is a one-line usage error (exit 2) before any work."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert text in err and err.startswith("harmonix: error: ") and err.count("\n") == 1


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 30)" in out and "(default: graph-normalized)" in out and "(default: welch)" in out
