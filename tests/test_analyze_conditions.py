"""harmonix analyze with conditions from events and steady-state estimates, on real recordings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonix.cli import main

pytestmark = pytest.mark.real_data


def _run(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _metrics(folder):
    table = pd.read_csv(folder / "metrics.csv", dtype={"condition": str, "band": str, "component": str})
    return table.fillna({"condition": "", "band": "", "component": ""})


def test_motor_imagery_conditions_have_their_trials(shared_data, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = _run(["-q", "analyze", str(shared_data / "eegmmidb_S001R04.edf"), "--harmonics", "off",
                         "--conditions", "rest=T0,left=T1,right=T2", "--out", str(out), "--report"], capsys)
    assert code == 0, err
    folder = out / "eegmmidb_S001R04"
    params = json.loads((folder / "params.json").read_text())
    # The data README documents T0 x15, T1 x8, T2 x7.
    assert {name: c["n_trials"] for name, c in params["conditions"].items()} == {"rest": 15, "left": 8, "right": 7}
    table = _metrics(folder)
    assert set(table["condition"]) == {"", "rest", "left", "right"}
    whole = table[table["condition"] == ""]
    for name in ("rest", "left", "right"):
        rows = table[table["condition"] == name]
        # every whole-recording metric exists per condition, with the same bands and channels
        assert set(map(tuple, rows[["metric", "band", "component"]].values)) == \
            set(map(tuple, whole[["metric", "band", "component"]].values))
        assert np.isfinite(rows.loc[rows["metric"] == "band_power", "value"]).all()
    # rest and imagery trials differ: the per-condition spectra are not copies of the whole recording
    power = table[table["metric"] == "band_power"].pivot_table(index="component", columns=["condition", "band"],
                                                               values="value")
    assert not np.allclose(power[("rest", "alpha")], power[("left", "alpha")], rtol=1e-3, atol=0)
    html = (folder / "report.html").read_text()
    assert 'id="conditions"' in html and "rest" in html


def test_ssvep_steady_state_responses_at_their_own_frequencies(shared_data, tmp_path, capsys):
    """README: code 1 rest, 2 = 13 Hz, 3 = 21 Hz, 4 = 17 Hz; 5-s trials; events in the -eve.fif file."""
    out = tmp_path / "out"
    code, _, err = _run(["-q", "analyze", str(shared_data / "ssvep_exo_s01_raw.fif"), "--harmonics", "off",
                         "--conditions", "rest=1,f13=2,f21=3,f17=4", "--events",
                         str(shared_data / "ssvep_exo_s01-eve.fif"), "--tmax", "5", "--steady-state", "13,17,21",
                         "--out", str(out), "--report"], capsys)
    assert code == 0, err
    folder = out / "ssvep_exo_s01_raw"
    table = _metrics(folder)
    snr = table[table["metric"] == "steady_state_snr"]
    occipital = {"Oz", "O1", "O2", "POz", "PO3", "PO4", "PO7", "PO8"}
    assert set(snr["component"]) <= occipital
    best = snr.groupby(["condition", "band"])["value"].max().unstack()  # condition x frequency, best channel
    for frequency, condition in (("13Hz", "f13"), ("17Hz", "f17"), ("21Hz", "f21")):
        others = [c for c in ("f13", "f17", "f21") if c != condition]
        assert best.loc[condition, frequency] > best.loc[others, frequency].max(), frequency
    assert (best.loc["rest"] < 2.0).all()
    itc = table[(table["metric"] == "steady_state_itc") & (table["condition"] == "f17")]
    assert itc["value"].between(0, 1).all()
    accuracy = table[(table["metric"] == "steady_state_classification_accuracy") & (table["condition"] == "")]
    chance = table[(table["metric"] == "steady_state_classification_chance") & (table["condition"] == "")]
    assert accuracy["value"].iloc[0] > chance["value"].iloc[0]
    assert 'id="steady-state"' in (folder / "report.html").read_text()


def _without_data_warnings(err: str) -> str:
    return "".join(line for line in err.splitlines(keepends=True) if not line.startswith("harmonix: warning:"))


@pytest.mark.parametrize("spec, what", [
    ("rest=T0,imagery=T4", "T4"),  # a code the recording does not have
])
def test_bad_condition_mapping_is_one_line_and_writes_nothing(shared_data, tmp_path, capsys, spec, what):
    out = tmp_path / "out"
    code, _, err = _run(["-q", "analyze", str(shared_data / "eegmmidb_S001R04.edf"), "--harmonics", "off",
                         "--conditions", spec, "--out", str(out)], capsys)
    assert code == 2
    err = _without_data_warnings(err)  # PREP flags T10 of this recording: a warning, not the error
    assert err.count("\n") == 1 and what in err and "eegmmidb_S001R04.edf" in err
    assert not out.exists() or not any(p for p in out.rglob("metrics.*"))


def test_a_condition_without_trials_is_refused(shared_data, tmp_path, capsys):
    # T1 trials last ~4.1 s; a window starting 10 s after each event runs past the next trials but a window
    # starting beyond the recording's end leaves none.
    out = tmp_path / "out"
    code, _, err = _run(["-q", "analyze", str(shared_data / "eegmmidb_S001R04.edf"), "--harmonics", "off",
                         "--conditions", "left=T1", "--tmin", "200", "--tmax", "204", "--out", str(out)], capsys)
    assert code == 2
    err = _without_data_warnings(err)
    assert err.count("\n") == 1 and "left" in err and "no trial" in err.lower()
    assert not out.exists() or not any(p for p in out.rglob("metrics.*"))


def test_condition_flags_without_conditions_are_a_usage_error(shared_data, tmp_path, capsys):
    code, _, err = _run(["-q", "analyze", str(shared_data / "eegmmidb_S001R04.edf"), "--tmax", "2",
                         "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "--tmax needs --conditions" in err and not (tmp_path / "out").exists()


def test_compare_contrasts_two_conditions_within_recordings(shared_data, tmp_path, capsys):
    """Two halves of the motor-imagery run, each with rest (T0) and imagery (T1, T2) trials."""
    import mne

    raw = mne.io.read_raw_edf(shared_data / "eegmmidb_S001R04.edf", preload=True, verbose=False)
    halves = []
    for name, (start, stop) in {"first": (0.0, 62.0), "second": (62.0, None)}.items():
        path = tmp_path / f"{name}_raw.fif"
        raw.copy().crop(start, stop).save(path, verbose=False)
        halves.append(str(path))
    out = tmp_path / "cmp"
    code, stdout, err = _run(["-q", "compare", *halves, "--conditions", "rest=T0,task=T1|T2", "--contrast",
                              "rest,task", "--harmonics", "off", "--permutations", "200", "--out", str(out)], capsys)
    assert code == 0, err
    comparison = pd.read_csv(out / "comparison.csv", keep_default_na=False)
    # two pairs per test (peak frequencies on a band edge are NaN and drop out)
    assert comparison["n"].max() == 2 and (comparison["n"] == 2).mean() > 0.9
    assert (comparison["design"] == "paired").all()
    params = json.loads((out / "params.json").read_text())
    assert params["labels"] == ["rest", "task"]
    power = comparison[(comparison["metric"] == "band_power") & (comparison["band"] == "alpha")].iloc[0]
    # each side is the mean over the two recordings of that condition's channel-mean alpha power
    tables = [_metrics(out / "analysis" / Path(h).name.removesuffix(".fif")) for h in halves]
    for side, condition in (("mean_pre", "rest"), ("mean_post", "task")):
        expected = np.mean([t[(t.metric == "band_power") & (t.band == "alpha") & (t.condition == condition)]["value"]
                            .mean() for t in tables])
        assert float(power[side]) == pytest.approx(expected, rel=1e-9)
