"""BIDS in, BIDS derivatives out: a dataset written with mne-bids from the shared recordings, checked by the
BIDS validator, analysed into a derivatives dataset that mne-bids finds by entity, then compared."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import mne
import mne_bids
import pandas as pd
import pytest

from harmonix import __version__
from harmonix.cli import main
from harmonix.simulate.synthetic import synthetic_eeg
from harmonix.study.derivatives import read_output

VALIDATOR_VERSION = "1.15.0"  # the npm package scripts/setup.sh installs into .bids-validator/
_LOCAL_VALIDATOR = Path(__file__).resolve().parents[1] / ".bids-validator" / "node_modules" / ".bin" / "bids-validator"
SESSIONS = {"ses1": ("eegmmidb_S001R01.edf", "rest"), "ses2": ("eegmmidb_S001R04.edf", "imagery")}
SUBJECTS = ("01", "02", "03")
BAD = ("02", "ses1", "T9")  # a channel marked bad in channels.tsv


def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _validator() -> str:
    """The bids-validator command; skip (or, in CI, fail) when it or node is missing."""
    found = str(_LOCAL_VALIDATOR) if _LOCAL_VALIDATOR.exists() else shutil.which("bids-validator")
    if found and shutil.which("node"):
        return found
    message = ("bids-validator (npm) or node not found; install it with scripts/setup.sh "
               f"(npm install --prefix .bids-validator bids-validator@{VALIDATOR_VERSION})")
    if os.environ.get("HARMONIX_REQUIRE_BIDS_VALIDATOR") == "1":
        pytest.fail(message + "; HARMONIX_REQUIRE_BIDS_VALIDATOR=1 makes this an error", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def bids_root(shared_data, tmp_path_factory) -> Path:
    """3 subjects x 2 sessions (30-s slices of two PhysioNet runs), events from their annotations."""
    root = tmp_path_factory.mktemp("bids") / "ds"
    for i, subject in enumerate(SUBJECTS):
        for session, (name, task) in SESSIONS.items():
            raw = mne.io.read_raw_edf(shared_data / name, preload=False, verbose=False)
            raw.crop(15.0 * i, 15.0 * i + 30.0, include_tmax=False).load_data(verbose=False)
            raw.rename_channels(lambda ch: ch.strip("."))
            raw.info["line_freq"] = 60.0  # PhysioNet recorded in the US
            path = mne_bids.BIDSPath(subject=subject, session=session, task=task, datatype="eeg", root=root)
            mne_bids.write_raw_bids(raw, path, format="EDF", allow_preload=True, overwrite=True, verbose=False)
            if (subject, session) == BAD[:2]:
                mne_bids.mark_channels(path, ch_names=[BAD[2]], status="bad", verbose=False)
    return root


@pytest.fixture(scope="module")
def derivatives(bids_root, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("deriv") / "harmonix"
    assert main(["-q", "analyze", str(bids_root), "--out", str(out), "--harmonics", "off"]) == 0
    return out


@pytest.mark.real_data
def test_dataset_passes_the_bids_validator(bids_root):
    result = subprocess.run([_validator(), str(bids_root), "--json"], capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    errors = report["issues"]["errors"]
    assert not errors, [(e["key"], e.get("reason")) for e in errors]
    assert sorted(report["summary"]["subjects"]) == list(SUBJECTS)
    assert sorted(report["summary"]["sessions"]) == sorted(SESSIONS)


@pytest.mark.real_data
def test_analyze_writes_a_derivatives_dataset_found_by_entities(bids_root, derivatives, capsys):
    description = json.loads((derivatives / "dataset_description.json").read_text())
    assert description["DatasetType"] == "derivative" and description["BIDSVersion"]
    generated = description["GeneratedBy"][0]
    assert generated["Name"] == "harmonix" and generated["Version"] == __version__
    assert f"harmonix -q analyze {bids_root} --out {derivatives}" in generated["Description"]
    assert description["SourceDatasets"] == [{"URL": bids_root.resolve().as_uri()}]

    found = mne_bids.find_matching_paths(derivatives, descriptions="harmonix", suffixes="metrics", extensions=".tsv")
    assert sorted((p.subject, p.session, p.task) for p in found) == sorted(
        (s, ses, task) for s in SUBJECTS for ses, (_, task) in SESSIONS.items())
    for path in found:
        assert path.fpath.with_name(path.fpath.name.replace("_metrics.tsv", "_arrays.npz")).is_file()
    one = mne_bids.find_matching_paths(derivatives, subjects="02", sessions="ses1", descriptions="harmonix",
                                       suffixes="metrics", extensions=".tsv")[0]
    assert one.fpath.relative_to(derivatives).as_posix() == \
        "sub-02/ses-ses1/eeg/sub-02_ses-ses1_task-rest_desc-harmonix_metrics.tsv"

    table = pd.read_csv(one.fpath, sep="\t", keep_default_na=False)
    assert tuple(table.columns) == ("session", "condition", "metric", "band", "component", "value", "unit")
    sidecar = json.loads(one.fpath.with_suffix(".json").read_text())
    assert set(table.columns) <= set(sidecar) and sidecar["value"]["Units"]
    assert set(table["unit"]) <= set(sidecar["unit"]["Levels"]) and set(table["metric"]) <= set(sidecar["metric"]["Levels"])
    assert sidecar["Sources"][0] == "bids:raw:sub-02/ses-ses1/eeg/sub-02_ses-ses1_task-rest_eeg.edf"
    metrics, params = read_output(one.fpath)
    assert params["load"]["bids"]["line_freq"] == 60.0  # from the eeg.json sidecar
    assert BAD[2] in params["load"]["bids"]["bad_channels"] and BAD[2] not in params["channels_analysed"]
    assert BAD[2] not in set(metrics["component"])
    imagery, imagery_params = read_output(found[[p.session for p in found].index("ses2")].fpath)
    assert imagery_params["load"]["bids"]["n_events"] > 5  # T0/T1/T2 from events.tsv

    code, stdout, _ = _run(["-q", "analyze", str(bids_root), "--out", str(derivatives), "--harmonics", "off"], capsys)
    assert code == 0 and "0 analysed, 6 up to date" in stdout


@pytest.mark.real_data
def test_compare_takes_the_derivatives_root(derivatives, tmp_path, capsys):
    out = tmp_path / "cmp"
    code, stdout, err = _run(["-q", "compare", str(derivatives), "--labels", "ses1,ses2", "--out", str(out),
                              "--permutations", "500"], capsys)
    assert code == 0, err
    comparison = pd.read_csv(out / "comparison.csv", keep_default_na=False, na_values=[""])
    alpha = comparison.query("metric == 'band_power' and band == 'alpha'").iloc[0]
    assert alpha["n"] == 3 and alpha["design"] == "paired"
    sessions = pd.read_csv(out / "sessions.csv", dtype=str)
    assert sorted(sessions["subject"].unique()) == list(SUBJECTS)
    assert set(sessions["condition"]) == {"rest", "imagery"}  # the BIDS task
    assert all(Path(p).is_file() for p in sessions["analysis"])
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert not (out / "analysis").exists()  # nothing re-analysed
    code, stdout, _ = _run(["-q", "compare", str(derivatives), "--subject", "01,02", "--labels", "ses1,ses2",
                            "--out", str(tmp_path / "two"), "--no-report", "--permutations", "500"], capsys)
    assert code == 0 and pd.read_csv(tmp_path / "two" / "sessions.csv")["subject"].nunique() == 2


@pytest.mark.real_data
def test_entity_filters_and_plain_files_as_derivatives(bids_root, recordings_for_layout, tmp_path, capsys):
    out = tmp_path / "one"
    code, stdout, err = _run(["-q", "analyze", str(bids_root), "--subject", "03", "--session", "ses2",
                              "--harmonics", "off", "--out", str(out)], capsys)
    assert code == 0, err
    assert [p.name for p in out.rglob("*_metrics.tsv")] == ["sub-03_ses-ses2_task-imagery_desc-harmonix_metrics.tsv"]
    plain = tmp_path / "plain"
    assert _run(["-q", "analyze", str(recordings_for_layout), "--layout", "bids", "--harmonics", "off",
                 "--out", str(plain)], capsys)[0] == 0
    assert (plain / "sub-synth01raw" / "eeg" / "sub-synth01raw_desc-harmonix_metrics.tsv").is_file()
    assert json.loads((plain / "dataset_description.json").read_text())["DatasetType"] == "derivative"


@pytest.fixture
def recordings_for_layout(tmp_path) -> Path:
    raw, _ = synthetic_eeg(duration=16.0, sfreq=128.0, seed=5)
    path = tmp_path / "synth01_raw.fif"
    raw.save(path, verbose=False)
    return path


@pytest.mark.real_data
def test_bad_bids_input_is_one_line_exit_2_nothing_written(bids_root, derivatives, tmp_path, capsys):
    empty = tmp_path / "empty_ds"
    empty.mkdir()
    (empty / "dataset_description.json").write_text(json.dumps({"Name": "x", "BIDSVersion": "1.9.0"}))
    (empty / "README").write_text("no recordings\n")
    cases = [
        ([str(empty)], "BIDS dataset without EEG recordings"),
        ([str(bids_root), "--subject", "09"], "matches --subject 09"),
        ([str(bids_root), "--task", "rest", "--session", "ses2"], "matches --session ses2 --task rest"),
        ([str(derivatives)], "derivatives dataset"),
    ]
    for argv, expected in cases:
        out = tmp_path / "out"
        code, _, err = _run(["-q", "analyze", *argv, "--harmonics", "off", "--out", str(out)], capsys)
        assert code == 2 and err.count("\n") == 1 and expected in err, (argv, err)
        assert str(argv[0]) in err or "--" in expected
        assert not out.exists()
    inside = bids_root / "results"
    code, _, err = _run(["-q", "analyze", str(bids_root), "--harmonics", "off", "--out", str(inside)], capsys)
    assert code == 2 and "inside the raw BIDS dataset" in err and not inside.exists()
    code, _, err = _run(["-q", "compare", str(derivatives), "--subject", "09", "--out", str(tmp_path / "c")], capsys)
    assert code == 2 and err.count("\n") == 1 and "no harmonix metrics" in err and not (tmp_path / "c").exists()


@pytest.mark.parametrize("damage", ["not JSON", "a list", "no Provenance", "metrics without a value column"])
def test_compare_refuses_a_damaged_derivative_before_writing_anything(derivatives, tmp_path, capsys, damage):
    copy = tmp_path / "harmonix"
    shutil.copytree(derivatives, copy)
    metrics = sorted(copy.rglob("*_desc-harmonix_metrics.tsv"))[0]
    sidecar = metrics.with_suffix(".json")
    damaged = metrics if damage.startswith("metrics") else sidecar
    if damage == "not JSON":
        sidecar.write_bytes(b"\x00\xff{" * 50)
    elif damage == "a list":
        sidecar.write_text("[]")
    elif damage == "no Provenance":
        sidecar.write_text(json.dumps({"Description": "x"}))
    else:
        table = pd.read_csv(metrics, sep="\t", dtype=str, keep_default_na=False)
        table.drop(columns="value").to_csv(metrics, sep="\t", index=False)
    before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    out = tmp_path / "cmp"
    code, stdout, err = _run(["-q", "compare", str(copy), "--labels", "ses1,ses2", "--out", str(out),
                              "--permutations", "99", "--no-report"], capsys)
    assert code == 2 and stdout == "" and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith(f"harmonix: error: {damaged}: "), err
    assert not out.exists() and {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()} == before
