"""Nothing lost, nothing unsafe (issue 13): damaged analysis folders, outputs that would replace inputs, stem
collisions, pairing by full path, the same file as pre and post, and SIGINT/SIGTERM on a multi-file command.

Every case goes through the command (:func:`harmonix.cli.main`, or a subprocess for signals) and checks the exit
status, a single ``harmonix: error:`` line without a traceback, inputs byte for byte unchanged and no partial
output (no new folder, no hidden staging folder or temporary file).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import harmonix
from harmonix.cli import main
from harmonix.errors import InputFileError
from harmonix.report.html import write_analysis_report
from harmonix.simulate.synthetic import synthetic_eeg
from harmonix.study.layouts import INDEX_FILE, read_index
from harmonix.tables import OUTPUT_MARKER

# The package under test, for subprocesses started from a temporary folder.
_ENV = {**os.environ, "PYTHONPATH": str(Path(harmonix.__file__).resolve().parents[1]), "MPLBACKEND": "Agg"}

COMPARE = ["--permutations", "99", "--no-report", "--harmonics", "off"]


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(["-q", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_error_line(err: str) -> str:
    """The single stderr line of a refused command (fails on a traceback or several lines)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("harmonix: error: "), err
    return lines[0]


def _hashes(*roots: Path) -> dict[str, str]:
    """SHA-256 of every file under ``roots`` (hidden ones included), keyed by path."""
    found = {}
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _leftovers(root: Path) -> list[Path]:
    """Hidden staging folders or temporary files under ``root`` (the output marker files excepted)."""
    if not root.exists():
        return []
    return [p for p in root.rglob(".*") if p.name != OUTPUT_MARKER]


def _recording(path: Path, *, seed: int, duration: float = 20.0) -> Path:
    raw, _ = synthetic_eeg(duration=duration, sfreq=128.0, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # names like rec.fif (the collision cases) are off MNE's naming convention
        warnings.simplefilter("ignore", RuntimeWarning)
        raw.save(path, verbose=False, overwrite=True)
    return path


@pytest.fixture(scope="module")
def analyses(tmp_path_factory) -> dict[str, Path]:
    """Two ``harmonix analyze`` output folders (pre, post) of short synthetic recordings, never modified."""
    folder = tmp_path_factory.mktemp("analyses")
    paths = [_recording(folder / f"{name}_raw.fif", seed=seed) for name, seed in (("pre", 11), ("post", 12))]
    assert main(["-q", "analyze", "--harmonics", "off", *map(str, paths), "--out", str(folder / "out")]) == 0
    return {"pre": folder / "out" / "pre_raw", "post": folder / "out" / "post_raw"}


@pytest.fixture
def pair(analyses, tmp_path) -> tuple[Path, Path]:
    """Copies of the two analysis folders, free to damage."""
    pre, post = tmp_path / "in" / "pre", tmp_path / "in" / "post"
    shutil.copytree(analyses["pre"], pre)
    shutil.copytree(analyses["post"], post)
    return pre, post


# --------------------------------------------------------------------------- damaged analysis folders


def _wrong_shape_arrays(path: Path) -> None:
    with np.load(path, allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    arrays["window_band_power"] = arrays["window_band_power"][:, :, 0]  # windows x channels, no bands
    np.savez(path, **arrays)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


DAMAGE = {
    "random bytes": lambda path: path.write_bytes(np.random.default_rng(5).bytes(3000)),
    "truncated": _truncate,
    "empty": lambda path: path.write_bytes(b""),
}

CASES = [(name, how, "") for name in ("arrays.npz", "params.json") for how in DAMAGE] + [
    ("metrics.csv", "random bytes", ""),
    ("metrics.csv", "empty", "cannot be read as a table"),
    ("metrics.csv", "header cut short", "no column"),
    ("metrics.csv", "other columns", "no column metric"),
    ("metrics.csv", "text value", "is not a number"),
    ("params.json", "a list", "not the analysis parameters"),
    ("params.json", "no sampling rate", "sampling rate"),
    ("arrays.npz", "wrong shape", "wrong shape"),
]


def _damage(folder: Path, name: str, how: str) -> Path:
    path = folder / name
    if how in DAMAGE:
        DAMAGE[how](path)
    elif how == "header cut short":
        path.write_text("session,condition,met")
    elif how == "other columns":
        path.write_text("a,b\n1,2\n")
    elif how == "text value":
        table = pd.read_csv(path, keep_default_na=False, dtype=str)
        table.loc[3, "value"] = "lots"
        table.to_csv(path, index=False)
    elif how == "a list":
        path.write_text("[1, 2, 3]")
    elif how == "no sampling rate":
        params = json.loads(path.read_text())
        params["sfreq"] = "fast"
        path.write_text(json.dumps(params))
    elif how == "wrong shape":
        _wrong_shape_arrays(path)
    return path


@pytest.mark.parametrize("name,how,expected", CASES, ids=[f"{n}-{h}" for n, h, _ in CASES])
def test_compare_refuses_a_damaged_analysis_folder_before_writing_anything(pair, tmp_path, capsys, name, how,
                                                                          expected):
    pre, post = pair
    damaged = _damage(pre, name, how)
    before = _hashes(pre, post)
    out = tmp_path / "new" / "comparison"
    code, stdout, err = _run(["compare", str(pre), "--post", str(post), "--out", str(out), *COMPARE], capsys)
    line = _one_error_line(err)
    assert code == 2 and stdout == ""
    assert str(damaged) in line and expected in line
    assert not (tmp_path / "new").exists()  # refused before any folder was created
    assert _hashes(pre, post) == before


def test_compare_checks_analysis_folders_before_analysing_recordings(pair, tmp_path, capsys):
    pre, post = pair
    recording = _recording(tmp_path / "in" / "extra_raw.fif", seed=13)
    damaged = _damage(post, "arrays.npz", "truncated")
    sessions = tmp_path / "in" / "sessions.csv"
    pd.DataFrame([(pre, "s1", "pre"), (post, "s1", "post"), (recording, "s2", "pre"), (pre, "s2", "post")],
                 columns=["path", "subject", "session"]).to_csv(sessions, index=False)
    before = _hashes(tmp_path / "in")
    out = tmp_path / "out"
    code, _, err = _run(["compare", str(sessions), "--out", str(out), *COMPARE], capsys)
    assert code == 2 and str(damaged) in _one_error_line(err)
    assert not out.exists()  # the recording was not analysed into OUT/analysis
    assert _hashes(tmp_path / "in") == before


@pytest.mark.parametrize("name,how", [("metrics.csv", "other columns"), ("params.json", "truncated"),
                                      ("arrays.npz", "random bytes")])
def test_report_of_a_damaged_analysis_folder_names_the_file(pair, name, how):
    damaged = _damage(pair[0], name, how)
    with pytest.raises(InputFileError, match=str(damaged)):
        write_analysis_report(pair[0])
    assert not (pair[0] / "report.html").exists() and _leftovers(pair[0]) == []


# --------------------------------------------------------------------------- outputs that would replace inputs


@pytest.mark.parametrize("where", ["the pre folder", "inside the post folder", "the folder holding them"])
def test_compare_out_on_an_input_is_refused(pair, capsys, where):
    pre, post = pair
    out = {"the pre folder": pre, "inside the post folder": post / "cmp", "the folder holding them": pre.parent}[where]
    before = _hashes(pre, post)
    code, _, err = _run(["compare", str(pre), "--post", str(post), "--out", str(out), *COMPARE], capsys)
    line = _one_error_line(err)
    assert code == 2 and str(out) in line
    assert _hashes(pre, post) == before and sorted(p.name for p in pre.parent.iterdir()) == ["post", "pre"]
    assert not (post / "cmp").exists()


def test_analyze_out_on_its_input_is_refused(tmp_path, capsys):
    recording = _recording(tmp_path / "rec_raw.fif", seed=3)
    before = _hashes(recording)
    for out in (recording, recording / "sub"):
        code, _, err = _run(["analyze", "--harmonics", "off", str(recording), "--out", str(out)], capsys)
        assert code == 2 and str(recording) in _one_error_line(err)
        assert _hashes(recording) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec_raw.fif"]


def _song(path: Path, seconds: float = 3.0) -> Path:
    import soundfile as sf

    sfreq = 22050
    t = np.arange(int(seconds * sfreq)) / sfreq
    clicks = (np.sin(2 * np.pi * 440 * t) * (np.sin(2 * np.pi * 2 * t) > 0.9)).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, 0.3 * clicks, sfreq)
    return path


def test_music_and_stimulate_never_write_over_their_input(tmp_path, capsys):
    song = _song(tmp_path / "song.wav")
    before = _hashes(song)
    code, _, err = _run(["music", "--no-resonance", str(song), "--out", str(song)], capsys)
    assert code == 2 and "is an input" in _one_error_line(err)
    code, _, err = _run(["stimulate", "--preset", "any", "--music", str(song), "-o", str(song)], capsys)
    assert code == 2 and "is an input" in _one_error_line(err)
    assert _hashes(song) == before and sorted(p.name for p in tmp_path.iterdir()) == ["song.wav"]


# --------------------------------------------------------------------------- collisions and pairing


def _input_of(folder: Path) -> Path:
    return Path(json.loads((folder / "params.json").read_text())["input"]["absolute"])


def test_colliding_stems_get_their_own_folders_and_an_index(tmp_path, capsys):
    inputs = [_recording(tmp_path / "a" / "rec.fif", seed=1), _recording(tmp_path / "b" / "rec.fif", seed=2),
              _recording(tmp_path / "rec-2.fif", seed=3)]
    before = _hashes(*inputs)
    out = tmp_path / "out"
    code, stdout, _ = _run(["analyze", "--harmonics", "off", *map(str, inputs), "--out", str(out)], capsys)
    assert code == 0
    folders = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(folders) == 3  # nothing lost
    owners = {folder.name: _input_of(folder) for folder in folders}
    assert sorted(owners.values()) == sorted(p.resolve() for p in inputs)
    assert owners["rec-2"] == inputs[2].resolve()  # a name nobody else has stays as it is
    # The mapping is recorded (index.tsv) and printed (one "input -> output" line per recording).
    assert read_index(out) == {name: str(path) for name, path in owners.items()}
    printed = dict(line.split(" -> ") for line in stdout.splitlines() if " -> " in line)
    assert {Path(source).resolve(): Path(target).parent.name for source, target in printed.items()} == {
        path: name for name, path in owners.items()}
    # The names do not depend on the order given: a re-run in another order finds every output up to date.
    code, stdout, _ = _run(["analyze", "--harmonics", "off", *map(str, inputs[::-1]), "--out", str(out)], capsys)
    assert code == 0 and stdout.count("up to date, skipped") == 3
    assert sorted(p for p in out.iterdir() if p.is_dir()) == folders
    assert _hashes(*inputs) == before


def test_another_input_of_the_same_name_never_replaces_an_earlier_output(tmp_path, capsys):
    first = _recording(tmp_path / "a" / "rec_raw.fif", seed=1)
    second = _recording(tmp_path / "b" / "rec_raw.fif", seed=2)
    out = tmp_path / "out"
    assert _run(["analyze", "--harmonics", "off", str(first), "--out", str(out)], capsys)[0] == 0
    kept = _hashes(out / "rec_raw")
    assert _run(["analyze", "--harmonics", "off", str(second), "--out", str(out)], capsys)[0] == 0
    assert _hashes(out / "rec_raw") == kept and _input_of(out / "rec_raw") == first.resolve()
    (other,) = [p for p in out.iterdir() if p.is_dir() and p.name != "rec_raw"]
    assert other.name.startswith("rec_raw-") and _input_of(other) == second.resolve()
    assert read_index(out) == {"rec_raw": str(first.resolve()), other.name: str(second.resolve())}


def test_music_files_with_one_name_are_all_kept(tmp_path, capsys):
    songs = [_song(tmp_path / "a" / "song.wav", 5.0), _song(tmp_path / "b" / "song.wav", 6.0)]
    out = tmp_path / "out"
    code, stdout, _ = _run(["music", "--no-resonance", *map(str, songs), "--out", str(out)], capsys)
    assert code == 0 and stdout.count(" -> ") == 2
    index = read_index(out)
    assert sorted(index.values()) == sorted(str(s.resolve()) for s in songs) and len(set(index)) == 2
    assert all(_input_of(out / name) == Path(path) for name, path in index.items())


def test_session_csv_pairs_recordings_by_full_path(tmp_path, capsys):
    """A/x.fif and B/x.fif share a file name: each subject's post must be its own recording."""
    rows = []
    for subject, seed in (("A", 1), ("B", 2)):
        rows.append((_recording(tmp_path / subject / "base_raw.fif", seed=seed), subject, "pre"))
        rows.append((_recording(tmp_path / subject / "x_raw.fif", seed=seed + 10), subject, "post"))
    sessions = tmp_path / "sessions.csv"
    pd.DataFrame(rows, columns=["path", "subject", "session"]).to_csv(sessions, index=False)
    out = tmp_path / "out"
    code, _, err = _run(["compare", str(sessions), "--out", str(out), *COMPARE], capsys)
    assert code == 0, err
    table = pd.read_csv(out / "sessions.csv", dtype=str)
    assert len(table) == 4 and table["analysis"].nunique() == 4
    for _, row in table.iterrows():
        assert _input_of(Path(row["analysis"])) == Path(row["path"]).resolve()
    session_table = pd.read_csv(out / "session_table.csv", dtype={"recording": str})
    assert session_table.groupby("subject")["recording"].nunique().to_dict() == {"A": 2, "B": 2}


def test_the_same_analysis_as_pre_and_post_is_warned(analyses, tmp_path, capsys):
    out = tmp_path / "out"
    folder = analyses["pre"]
    code, stdout, err = _run(["compare", str(folder), "--post", str(folder), "--out", str(out), *COMPARE], capsys)
    assert code == 0 and "Traceback" not in err
    warnings = [line for line in err.splitlines() if line.startswith("harmonix: warning:")]
    assert len(warnings) == 1 and f"{folder} is both the pre and the post recording" in warnings[0]
    assert json.loads((out / "params.json").read_text())["warnings"] == [warnings[0][len("harmonix: warning: "):]]


def test_the_same_recording_as_pre_and_post_is_warned(tmp_path, capsys):
    recording = _recording(tmp_path / "rec_raw.fif", seed=4)
    out = tmp_path / "out"
    code, _, err = _run(["compare", str(recording), "--post", str(recording), "--out", str(out), *COMPARE], capsys)
    assert code == 0 and "Traceback" not in err
    assert f"{recording} is both the pre and the post recording" in err
    assert len(json.loads((out / "params.json").read_text())["warnings"]) == 1
    assert len([p for p in (out / "analysis").iterdir() if p.is_dir()]) == 1  # analysed once


def test_distinct_files_with_identical_content_are_warned(analyses, tmp_path, capsys):
    recording = _recording(tmp_path / "one_raw.fif", seed=4)
    copy = tmp_path / "two_raw.fif"
    shutil.copyfile(recording, copy)
    out = tmp_path / "out"
    code, _, err = _run(["compare", str(recording), "--post", str(copy), "--out", str(out), *COMPARE], capsys)
    assert code == 0 and "identical SHA-256" in err


def test_different_recordings_raise_no_warning(analyses, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = _run(["compare", str(analyses["pre"]), "--post", str(analyses["post"]), "--out", str(out),
                         *COMPARE], capsys)
    assert code == 0 and "warning" not in err
    assert json.loads((out / "params.json").read_text())["warnings"] == []


# --------------------------------------------------------------------------- no folders before validation


def test_invalid_input_leaves_no_new_folder(tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "out"
    missing = tmp_path / "missing_raw.fif"
    broken = tmp_path / "broken.edf"
    broken.write_bytes(b"0       not an EDF header" * 10)
    for argv in (["analyze", str(missing)], ["analyze", "--harmonics", "off", str(broken)],
                 ["analyze", str(broken), "--bands", "nonsense"], ["music", "--no-resonance", str(broken)],
                 ["compare", str(missing), "--post", str(broken)]):
        code, _, err = _run([*argv, "--out", str(out)], capsys)
        assert code == 2, argv
        _one_error_line(err)
        assert not (tmp_path / "new").exists(), argv


# --------------------------------------------------------------------------- signals


def _wait_for(path: Path, process: subprocess.Popen, limit: float = 240.0) -> None:
    """Poll until ``path`` exists (the process still running); the limit only guards against a hang."""
    deadline = time.monotonic() + limit
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def long_recordings(tmp_path_factory) -> list[Path]:
    """Eight recordings, each long enough that a signal sent after the first output lands before the last."""
    folder = tmp_path_factory.mktemp("long")
    first = _recording(folder / "rec0_raw.fif", seed=21, duration=240.0)
    paths = [first]
    for i in range(1, 8):  # the same samples under other names: hard links spare the disk
        paths.append(folder / f"rec{i}_raw.fif")
        os.link(first, paths[-1])
    return paths


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_keeps_finished_outputs_says_which_and_leaves_nothing_partial(long_recordings, tmp_path, signum):
    out = tmp_path / "out"
    before = _hashes(long_recordings[0])
    process = subprocess.Popen(
        [sys.executable, "-m", "harmonix.cli", "-q", "analyze", "--harmonics", "off", *map(str, long_recordings),
         "--out", str(out)], cwd=tmp_path, env=_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(out / "rec0_raw" / "metrics.csv", process)
    process.send_signal(signum)
    stdout, err = process.communicate(timeout=240)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    (message,) = [line for line in err.splitlines() if line.startswith("harmonix: interrupted")]
    kept = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert 1 <= len(kept) < len(long_recordings)
    assert f"{len(kept)} of {len(long_recordings)} recordings finished and kept" in message
    assert "nothing partial was kept" in message
    if len(kept) <= 3:
        assert all(str(out / name) in message for name in kept)
    # Every folder kept is complete, and the index and the result lines name exactly those.
    assert all(sorted(p.name for p in (out / name).iterdir()) ==
               sorted([OUTPUT_MARKER, "arrays.npz", "metrics.csv", "params.json"]) for name in kept)
    assert sorted(read_index(out)) == kept
    assert stdout.count(" -> ") <= len(kept)  # a signal right after a folder's rename can come before its line
    assert _leftovers(out) == [] and sorted(p.name for p in out.iterdir()) == sorted([*kept, INDEX_FILE])
    assert _hashes(long_recordings[0]) == before
