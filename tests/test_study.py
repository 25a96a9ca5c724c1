"""Studies: inputs (files, globs, folders), keep-going batches, failures.tsv, resume, interruption, progress."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest

import harmonix
from harmonix.cli import main
from harmonix.errors import InputFileError, ParameterError
from harmonix.progress import report_stage, set_quiet, study, write_line
from harmonix.simulate.synthetic import synthetic_eeg
from harmonix.study.inputs import resolve_inputs
from harmonix.study.provenance import differences, make_record
from harmonix.tables import FAILURE_COLUMNS, OUTPUT_MARKER, file_sha256, remove_stale_staging

# The package under test, for subprocesses started from a temporary folder.
_ENV = {**os.environ, "PYTHONPATH": str(Path(harmonix.__file__).resolve().parents[1]), "MPLBACKEND": "Agg"}


def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harmonix.cli", *argv], capture_output=True, text=True, cwd=cwd,
                          env=_ENV, timeout=300)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> list[Path]:
    """Six short synthetic recordings (16 s at 128 Hz: about a second each to analyse without harmonics)."""
    folder = tmp_path_factory.mktemp("recs")
    paths = []
    for i in range(6):
        raw, _ = synthetic_eeg(duration=16.0, sfreq=128.0, seed=40 + i)
        path = folder / f"rec{i}_raw.fif"
        raw.save(path, verbose=False)
        paths.append(path)
    return paths


def _bad_inputs(folder: Path) -> list[Path]:
    """Two recordings that cannot be analysed: a file that is not EDF, and NaN samples."""
    folder.mkdir(parents=True, exist_ok=True)
    broken = folder / "broken.edf"
    broken.write_bytes(b"0       this is not an EDF header" * 10)
    raw, _ = synthetic_eeg(duration=16.0, sfreq=128.0, seed=9)
    data = raw.get_data()
    data[2, 100] = np.nan
    nan = folder / "nan_raw.fif"
    mne.io.RawArray(data, raw.info, verbose=False).save(nan, verbose=False)
    return [broken, nan]


def _metrics_bytes(out: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in sorted(out.glob("*/metrics.csv"))}


# --------------------------------------------------------------------------- inputs


def test_inputs_from_files_globs_folders_without_duplicates(tmp_path):
    folder = tmp_path / "data"
    (folder / "sub").mkdir(parents=True)
    for name in ("a.edf", "sub/b.bdf", "c_raw.fif", "c-eve.fif", "notes.txt", "sub/rec.vhdr", "sub/rec.eeg",
                 "sub/rec.vmrk"):
        (folder / name).write_bytes(b"")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "x.edf").write_bytes(b"")
    results = folder / "results" / "a"
    results.mkdir(parents=True)
    (results / OUTPUT_MARKER).touch()
    (results / "metrics.csv").write_text("session\n")  # a harmonix output is not a recording

    found = resolve_inputs([str(folder), str(folder / "a.edf")])
    assert [r.path.relative_to(folder).as_posix() for r in found] == ["a.edf", "c_raw.fif", "sub/b.bdf", "sub/rec.vhdr"]
    assert [r.name for r in found] == ["a", "c_raw", "b", "rec"]
    globbed = resolve_inputs([str(folder / "**" / "*.bdf")])
    assert [r.path.name for r in globbed] == ["b.bdf"]
    explicit = resolve_inputs([str(folder / "notes.txt")])  # named explicitly: the analysis will judge it
    assert explicit[0].path.name == "notes.txt"
    twins = resolve_inputs([str(folder / "a.edf"), str(tmp_path / "data" / "." / "a.edf"), str(folder / "sub" / "b.bdf")])
    assert len(twins) == 2


def test_input_usage_errors_name_what_and_where(tmp_path):
    with pytest.raises(InputFileError, match="missing.edf: no such file"):
        resolve_inputs([str(tmp_path / "missing.edf")])
    with pytest.raises(InputFileError, match=r"\*\.xyz: no file matches"):
        resolve_inputs([str(tmp_path / "*.xyz")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="empty: folder holds no EEG recordings"):
        resolve_inputs([str(tmp_path / "empty")])
    (tmp_path / "sub-01_task-rest_eeg.edf").write_bytes(b"")
    (tmp_path / "other.edf").write_bytes(b"")
    kept = resolve_inputs([str(tmp_path / "*.edf")], filters={"subject": ["01"]})
    assert [r.entities for r in kept] == [{"subject": "01", "task": "rest"}]
    with pytest.raises(ParameterError, match="matches --subject 02 .*subject 01"):
        resolve_inputs([str(tmp_path / "*.edf")], filters={"subject": ["02"]})


def test_provenance_matches_moved_files_and_names_changes(tmp_path):
    a = tmp_path / "a" / "rec.edf"
    b = tmp_path / "b" / "rec.edf"
    for path in (a, b):
        path.parent.mkdir()
        path.write_bytes(b"same bytes")
    record = make_record([a], {"psd": "welch", "bands": ("alpha", "beta")})
    assert differences(record, make_record([b], {"psd": "welch", "bands": ["alpha", "beta"]})) == []
    b.write_bytes(b"other bytes")
    changed = differences(record, make_record([b], {"psd": "multitaper", "bands": ["alpha", "beta"]}))
    assert changed == ["input rec.edf changed (SHA-256 differs)", "parameter psd: 'welch' -> 'multitaper'"]


# --------------------------------------------------------------------------- keep going


def test_batch_keeps_going_past_bad_recordings(recordings, tmp_path, capsys):
    bad = _bad_inputs(tmp_path / "bad")
    inputs = [recordings[0], bad[0], recordings[1], recordings[2], bad[1], recordings[3]]
    out = tmp_path / "out"
    code, stdout, err = _run(["analyze", "-q", "--harmonics", "off", *map(str, inputs), "--out", str(out)], capsys)
    assert code == 1  # some failed, the others were written
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == [f"rec{i}_raw" for i in range(4)]
    errors = err.splitlines()
    assert len(errors) == 2 and all(line.startswith("harmonix: error: ") for line in errors)
    assert "broken.edf" in errors[0] and "nan_raw.fif" in errors[1]
    failures = pd.read_csv(out / "failures.tsv", sep="\t", dtype=str)
    assert tuple(failures.columns) == FAILURE_COLUMNS
    assert failures["path"].tolist() == [str(bad[0]), str(bad[1])]
    assert failures["error_kind"].tolist() == ["InputFileError", "DataQualityError"]
    assert "6 recordings: 4 analysed, 0 up to date, 2 failed" in stdout

    # The bad files fixed (here: left out), a re-run finishes and failures.tsv goes away.
    code, stdout, _ = _run(["analyze", "-q", "--harmonics", "off", *map(str, recordings[:4]), "--out", str(out)], capsys)
    assert code == 0 and stdout.count("up to date, skipped") == 4 and not (out / "failures.tsv").exists()


def test_every_recording_failing_exits_2_and_writes_nothing(tmp_path, capsys):
    bad = _bad_inputs(tmp_path / "bad")
    out = tmp_path / "out"
    code, _, err = _run(["-q", "analyze", "--harmonics", "off", *map(str, bad), "--out", str(out)], capsys)
    assert code == 2 and err.count("harmonix: error:") == 2
    assert not out.exists() or not any(out.iterdir())


def test_fail_fast_stops_at_the_first_failure(recordings, tmp_path, capsys):
    bad = _bad_inputs(tmp_path / "bad")
    out = tmp_path / "out"
    code, _, err = _run(["-q", "analyze", "--harmonics", "off", "--fail-fast", str(recordings[0]), str(bad[0]),
                         str(recordings[1]), "--out", str(out)], capsys)
    assert code == 1 and err.count("\n") == 1
    assert [p.name for p in out.iterdir() if p.is_dir()] == ["rec0_raw"]


# --------------------------------------------------------------------------- resume


def test_resume_skips_finished_outputs_and_refuses_changed_parameters(recordings, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--harmonics", "off", *map(str, recordings[:3]), "--out", str(out)]
    assert _run(["-q", "analyze", *argv], capsys)[0] == 0
    before = _metrics_bytes(out)
    written = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}

    # (how long a skip takes is measured in the closing note, not asserted: tests never time)
    again = _cli("analyze", "-q", *argv, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("(up to date, skipped)") == 3 and "0 analysed, 3 up to date" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == written  # nothing rewritten

    changed = _run(["-q", "analyze", "--psd", "multitaper", *argv], capsys)
    assert changed[0] == 2 and changed[2].count("\n") == 1
    assert str(out / "rec0_raw") in changed[2] and "psd" in changed[2] and "--overwrite" in changed[2]
    assert _metrics_bytes(out) == before  # refused: nothing touched

    assert _run(["-q", "analyze", "--psd", "multitaper", "--overwrite", *argv], capsys)[0] == 0
    params = json.loads((out / "rec0_raw" / "params.json").read_text())
    assert params["provenance"]["parameters"]["psd"] == "multitaper"
    assert params["provenance"]["inputs"] == {str(recordings[0]): file_sha256(recordings[0])}


def _wait_for(paths, process, timeout=240.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.exists() for p in paths):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no output appeared"
        time.sleep(0.05)


@pytest.mark.slow
def test_interrupted_batch_resumes_to_identical_tables(recordings, tmp_path):
    argv = ["analyze", "-q", "--harmonics", "off", *map(str, recordings)]
    reference = tmp_path / "reference"
    assert _cli(*argv, "--out", str(reference), cwd=tmp_path).returncode == 0

    out = tmp_path / "out"
    for signum, done in ((signal.SIGINT, 1), (signal.SIGTERM, 3)):  # Ctrl-C, then kill
        process = subprocess.Popen([sys.executable, "-m", "harmonix.cli", *argv, "--out", str(out)], cwd=tmp_path,
                                   env=_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for([out / f"rec{i}_raw" / "metrics.csv" for i in range(done)], process)
        process.send_signal(signum)
        _, err = process.communicate(timeout=120)
        assert process.returncode == 130, err
        assert "interrupted" in err and "Traceback" not in err
        assert not list(out.glob(".*partial")), "a staging folder was left behind"
        assert len(list(out.glob("*/metrics.csv"))) < len(recordings)
    final = _cli(*argv, "--out", str(out), cwd=tmp_path)
    assert final.returncode == 0, final.stderr
    assert "up to date" in final.stdout
    assert _metrics_bytes(out) == _metrics_bytes(reference)
    assert len(_metrics_bytes(out)) == len(recordings)


def test_staging_left_by_a_killed_run_is_removed(tmp_path):
    dead = tmp_path / ".rec.abc123.partial"
    dead.mkdir()
    (dead / OUTPUT_MARKER).write_text("999999999\n")  # no such process
    alive = tmp_path / ".rec.def456.partial"
    alive.mkdir()
    (alive / OUTPUT_MARKER).write_text(f"{os.getppid()}\n")  # still running
    foreign = tmp_path / ".mine.partial"
    foreign.mkdir()  # not ours: no marker
    assert remove_stale_staging(tmp_path) == [dead]
    assert alive.exists() and foreign.exists()


def test_foreign_output_folder_is_refused_before_any_work(recordings, tmp_path, capsys):
    victim = tmp_path / "out" / "rec1_raw"
    victim.mkdir(parents=True)
    (victim / "notes.txt").write_text("precious")
    code, _, err = _run(["-q", "analyze", "--harmonics", "off", str(recordings[0]), str(recordings[1]),
                         "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "not written by harmonix" in err
    assert not (tmp_path / "out" / "rec0_raw").exists()  # refused before analysing anything
    assert (victim / "notes.txt").read_text() == "precious"


# --------------------------------------------------------------------------- progress


def test_stages_are_plain_lines_off_a_terminal_and_silent_with_quiet(recordings, tmp_path, capsys):
    set_quiet(False)  # earlier commands in this process may have been run with -q
    report_stage("spectra")  # nothing running: a no-op
    with study(1, desc="test") as shown:
        shown.start("rec")
        report_stage("spectra")
        write_line("result line")
        shown.finish()
    captured = capsys.readouterr()
    assert captured.err == "harmonix: [1/1] rec: spectra\n" and captured.out == "result line\n"

    code, out, err = _run(["analyze", "--harmonics", "off", str(recordings[0]), "--out", str(tmp_path / "a")], capsys)
    assert code == 0
    assert "harmonix: [1/1] rec0_raw: load" in err and "harmonix: [1/1] rec0_raw: write" in err
    assert "metrics.csv" in out and "metrics.csv" not in err
    code, _, err = _run(["analyze", "--harmonics", "off", "-q", str(recordings[0]), "--out", str(tmp_path / "b")],
                        capsys)
    assert code == 0 and err == ""  # -q accepted after the subcommand


def test_help_documents_exit_statuses(capsys):
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    text = capsys.readouterr().out
    assert "exit status" in text and "some recordings failed" in text and "--fail-fast" in text


# --------------------------------------------------------------------------- compare


def test_compare_keeps_going_and_finishes_on_a_rerun(tmp_path, capsys):
    folder = tmp_path / "recs"
    folder.mkdir()
    paths = {}
    for subject in (1, 2, 3):
        for session, alpha in (("pre", 1.0), ("post", 2.0)):
            raw, _ = synthetic_eeg(duration=16.0, sfreq=128.0, alpha_amplitude=alpha, seed=10 * subject + len(session))
            paths[subject, session] = folder / f"sub-0{subject}_ses-{session}_task-rest_raw.fif"
            raw.save(paths[subject, session], verbose=False)
    good = paths[3, "post"].read_bytes()
    raw = mne.io.read_raw_fif(paths[3, "post"], preload=True, verbose=False)
    data = raw.get_data()
    data[0, 10] = np.nan
    mne.io.RawArray(data, raw.info, verbose=False).save(paths[3, "post"], overwrite=True, verbose=False)
    out = tmp_path / "cmp"
    argv = ["-q", "compare", str(folder / "*ses-pre*.fif"), "--post", str(folder / "*ses-post*.fif"),
            "--out", str(out), "--harmonics", "off", "--no-report", "--permutations", "200"]
    code, stdout, err = _run(argv, capsys)
    assert code == 1, err
    assert err.count("harmonix: error:") == 1 and "sub-03_ses-post" in err
    assert len(list((out / "analysis").glob("*/metrics.csv"))) == 5  # every other analysis is kept
    failures = pd.read_csv(out / "failures.tsv", sep="\t")
    assert failures["path"].tolist() == [str(paths[3, "post"])]
    alpha = pd.read_csv(out / "comparison.csv").query("metric == 'band_power' and band == 'alpha'").iloc[0]
    assert alpha["n"] == 2 and "failed" in " ".join(json.loads((out / "params.json").read_text())["notes"])

    paths[3, "post"].write_bytes(good)  # the bad recording fixed: the same command finishes the study
    code, stdout, err = _run(argv, capsys)
    assert code == 0, err
    assert stdout.count("(up to date, skipped)") == 5 and not (out / "failures.tsv").exists()
    alpha = pd.read_csv(out / "comparison.csv").query("metric == 'band_power' and band == 'alpha'").iloc[0]
    assert alpha["n"] == 3
    code, stdout, _ = _run(argv, capsys)
    assert code == 0 and "up to date, not recomputed" in stdout
    code, _, err = _run([*argv[:-1], "300"], capsys)
    assert code == 2 and str(out) in err and "n_permutations" in err and "--overwrite" in err


def test_compare_takes_a_folder_of_analyze_outputs(tmp_path):
    from harmonix.compare.sessions import expand_compare_inputs

    for name in ("sub-01_ses-pre_task-rest", "sub-02_ses-pre_task-rest", "notes"):
        folder = tmp_path / "results" / name
        folder.mkdir(parents=True)
        if name != "notes":
            (folder / "metrics.csv").write_text("session\n")
            (folder / "params.json").write_text("{}")
    found = expand_compare_inputs([str(tmp_path / "results")])
    assert [Path(p).name for p in found] == ["sub-01_ses-pre_task-rest", "sub-02_ses-pre_task-rest"]
    assert len(expand_compare_inputs([str(tmp_path / "results")], filters={"subject": ["02"]})) == 1
