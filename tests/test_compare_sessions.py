"""Session tables, within-subject window comparisons and ``harmonix compare`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonix.cli import main
from harmonix.compare.sessions import (
    SUMMARY_COMPONENT,
    SessionTable,
    comparable_rows,
    entities_from_name,
    pair_sessions,
    read_session_csv,
    sessions_from_files,
    summarize_channels,
)
from harmonix.compare.windows import auto_block_size, compare_windows, window_metrics
from harmonix.errors import InputFileError, ParameterError
from harmonix.pipeline import analyze_eeg
from harmonix.simulate.synthetic import synthetic_eeg


def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _save(raw, path: Path) -> Path:
    raw.save(path, verbose=False, overwrite=True)
    return path


# --------------------------------------------------------------------------- naming


def test_bids_entities_give_subject_session_and_condition():
    assert entities_from_name("sub-12_ses-post_task-music_run-2_eeg.edf") == {
        "subject": "12", "session": "post", "condition": "music-2"}
    assert entities_from_name("recording.edf") == {}


def test_pattern_groups_and_bad_patterns():
    pattern = r"S(?P<subject>\d+)R(?P<condition>\d+)"
    assert entities_from_name("eegmmidb_S001R04.edf", pattern) == {"subject": "001", "condition": "04"}
    with pytest.raises(ParameterError, match="named groups"):
        entities_from_name("a.edf", r"(?P<participant>\d+)")
    with pytest.raises(ParameterError, match="not a regular expression"):
        entities_from_name("a.edf", r"(?P<subject>\d+")
    with pytest.raises(ParameterError, match="does not match"):
        entities_from_name("a.edf", r"S(?P<subject>\d+)")


def test_positional_pairing_needs_equal_counts(tmp_path):
    files = [tmp_path / f"{name}.edf" for name in ("a", "b", "c")]
    for f in files:
        f.write_bytes(b"")
    table, notes = sessions_from_files(files[:2], files[2:] + files[:1])
    assert table["subject"].tolist() == ["pair1", "pair2", "pair1", "pair2"]
    assert table["session"].tolist() == ["pre", "pre", "post", "post"]
    assert "i-th pre" in notes[0]
    with pytest.raises(ParameterError, match="cannot pair"):
        sessions_from_files(files[:2], files[2:])


def test_mixed_naming_is_refused(tmp_path):
    named = tmp_path / "sub-01_ses-pre_eeg.edf"
    unnamed = tmp_path / "other.edf"
    for f in (named, unnamed):
        f.write_bytes(b"")
    with pytest.raises(ParameterError, match="carry no subject"):
        sessions_from_files([named], [unnamed])


def test_session_csv_columns_paths_and_errors(tmp_path):
    (tmp_path / "rec1.fif").write_bytes(b"")
    good = tmp_path / "sessions.csv"
    good.write_text("path,subject,session\nrec1.fif,01,pre\n")
    table = read_session_csv(good)
    assert table.loc[0, "path"] == str(tmp_path / "rec1.fif") and table.loc[0, "condition"] == ""
    missing_column = tmp_path / "bad.csv"
    missing_column.write_text("path,subject\nrec1.fif,01\n")
    with pytest.raises(InputFileError, match="missing session"):
        read_session_csv(missing_column)
    missing_file = tmp_path / "gone.csv"
    missing_file.write_text("path,subject,session\nnot_there.fif,01,pre\n")
    with pytest.raises(InputFileError, match="not found"):
        read_session_csv(missing_file)


# --------------------------------------------------------------------------- tables


def _table(values: dict[tuple[str, str], float]) -> SessionTable:
    """Metric rows for (subject, label) -> value of one metric on two channels (second = value + 1)."""
    frames, sessions = [], []
    for (subject, label), value in values.items():
        frames.append(pd.DataFrame({
            "session": f"{subject}{label}", "metric": "band_power", "band": "alpha", "component": ["Cz", "Pz"],
            "value": [value, value + 1.0], "unit": "V^2", "subject": subject, "label": label, "condition": "",
            "recording": f"{subject}{label}"}))
        sessions.append({"subject": subject, "session": label, "condition": "", "path": f"{subject}{label}"})
    return SessionTable(pd.concat(frames, ignore_index=True), pd.DataFrame(sessions))


def test_pre_without_post_is_reported_not_dropped():
    table = _table({("01", "pre"): 1.0, ("01", "post"): 2.0, ("02", "pre"): 1.0, ("02", "post"): 3.0,
                    ("03", "pre"): 5.0})
    pre, post, issues, labels = pair_sessions(table)
    assert labels == ("pre", "post")
    assert issues == ["subject 03: pre recording without a post recording (not in the paired test)"]
    assert set(pre["subject"]) == {"01", "02", "03"} and set(post["subject"]) == {"01", "02"}


def test_labels_default_to_order_and_more_than_two_need_a_choice():
    table = _table({("01", "before"): 1.0, ("01", "after"): 2.0})
    assert pair_sessions(table)[3] == ("before", "after")
    three = _table({("01", "a"): 1.0, ("01", "b"): 2.0, ("01", "c"): 3.0})
    with pytest.raises(ParameterError, match="--labels"):
        pair_sessions(three)
    assert pair_sessions(three, labels=("c", "a"))[3] == ("c", "a")
    with pytest.raises(ParameterError, match="no session labelled"):
        pair_sessions(three, labels=("a", "z"))


def test_summary_averages_channels_and_keeps_other_rows():
    table = _table({("01", "pre"): 1.0})
    extra = pd.DataFrame([{**table.metrics.iloc[0].to_dict(), "metric": "harmonic_power", "component": "h001",
                           "value": 7.0}])
    metrics = pd.concat([table.metrics, extra], ignore_index=True)
    summary = summarize_channels(metrics, ["Cz", "Pz"])
    mean = summary[(summary.metric == "band_power")]
    assert mean["component"].tolist() == [SUMMARY_COMPONENT] and mean["value"].iloc[0] == pytest.approx(1.5)
    assert summary[summary.metric == "harmonic_power"]["value"].tolist() == [7.0]


def test_individual_episodes_are_not_compared():
    rows = pd.DataFrame({"metric": ["energy_episode_onset", "energy_episode_count"], "band": "broadband",
                         "component": ["episode1", "all"], "value": [3.0, 1.0]})
    assert comparable_rows(rows)["metric"].tolist() == ["energy_episode_count"]


# --------------------------------------------------------------------------- windows


def test_auto_block_size_grows_with_autocorrelation():
    rng = np.random.default_rng(1)
    white = rng.standard_normal((2, 60))
    smooth = np.stack([np.convolve(w, np.ones(8) / 8, mode="same") for w in rng.standard_normal((2, 60))])
    assert auto_block_size(*white) <= 2
    assert auto_block_size(*smooth) > auto_block_size(*white)
    assert auto_block_size(*smooth) <= 15  # at least 4 blocks per condition


@pytest.fixture(scope="module")
def window_analyses():
    """48-s recordings: two halves of one stationary recording, and one with twice the alpha amplitude."""
    raw, _ = synthetic_eeg(duration=96.0, sfreq=128.0, seed=1)
    halves = {"base": raw.copy().crop(0.0, 48.0, include_tmax=False), "repeat": raw.copy().crop(48.0, None)}
    more_alpha, _ = synthetic_eeg(duration=48.0, sfreq=128.0, alpha_amplitude=2.0, seed=3)
    recordings = {**halves, "more_alpha": more_alpha}
    return {name: analyze_eeg(rec, session=name) for name, rec in recordings.items()}


def test_window_comparison_finds_planted_alpha_and_not_the_repeat(window_analyses):
    tables = {name: window_metrics(a.arrays, a.params) for name, a in window_analyses.items()}
    assert set(tables["base"]["metric"]) == {"band_power"}  # no harmonics requested
    assert tables["base"]["window"].max() + 1 == 12  # 48 s in 4-s windows (twice the 2-s PSD segment)
    changed = compare_windows(tables["base"], tables["more_alpha"], subject="s1", seed=0).set_index("band")
    assert changed.loc["alpha", "q"] < 0.05 and changed.loc["alpha", "difference"] > 0
    assert (changed["design"] == "windows").all() and (changed["subject"] == "s1").all()
    null = compare_windows(tables["base"], tables["repeat"], seed=0)
    assert (null["q"] >= 0.05).all()


def test_window_metrics_per_channel(window_analyses):
    analysis = window_analyses["base"]
    table = window_metrics(analysis.arrays, analysis.params, level="channel", channels=["Oz", "Cz"])
    assert sorted(table["component"].unique()) == ["Cz", "Oz"]
    with pytest.raises(ParameterError):
        window_metrics(analysis.arrays, analysis.params, level="vertex")


# --------------------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def bids_like_recordings(tmp_path_factory):
    """Three subjects x pre/post (post with more alpha), BIDS-style names; sub-04 has only a pre session."""
    folder = tmp_path_factory.mktemp("bids")
    paths = {}
    for subject in (1, 2, 3, 4):
        for session, alpha in (("pre", 1.0), ("post", 2.0)):
            if subject == 4 and session == "post":
                continue
            raw, _ = synthetic_eeg(duration=24.0, sfreq=128.0, alpha_amplitude=alpha, seed=10 * subject + len(session))
            paths[(subject, session)] = _save(raw, folder / f"sub-{subject:02d}_ses-{session}_task-rest_raw.fif")
    return paths


def test_compare_command_writes_tables_and_reports_missing_post(bids_like_recordings, tmp_path, capsys):
    pre = [str(p) for (s, ses), p in sorted(bids_like_recordings.items()) if ses == "pre"]
    post = [str(p) for (s, ses), p in sorted(bids_like_recordings.items()) if ses == "post"]
    out = tmp_path / "cmp"
    code, stdout, err = _run(["-q", "compare", *pre, "--post", *post, "--out", str(out), "--harmonics", "off",
                              "--no-report", "--permutations", "2000"], capsys)
    assert code == 0, err
    assert "subject 04: pre recording without a post recording" in stdout
    # 3 paired subjects: the exact sign-flip test bottoms out at p = 2/8 (issue 16)
    assert "(smallest attainable p 0.25)" in stdout
    assert "harmonix: warning: with 3 paired subjects the smallest attainable p is 0.25" in err
    comparison = pd.read_csv(out / "comparison.csv", keep_default_na=False, na_values=[""])
    # condition (the event condition of a metric row, empty for the whole recording) is part of the key
    assert list(comparison.columns[:16]) == ["metric", "band", "component", "condition", "n", "mean_pre", "mean_post",
                                             "difference", "effect_size", "effect_size_kind", "ci_low", "ci_high", "p",
                                             "p_wilcoxon", "p_ttest", "q"]
    assert pd.read_csv(out / "comparison.csv", keep_default_na=False)["condition"].eq("").all()
    alpha = comparison.query("metric == 'band_power' and band == 'alpha'").iloc[0]
    assert alpha["n"] == 3 and alpha["mean_post"] > alpha["mean_pre"] and alpha["component"] == SUMMARY_COMPONENT
    assert "subject(s) without post" in alpha["note"]
    sessions = pd.read_csv(out / "sessions.csv", dtype=str)
    assert sorted(sessions["subject"].unique()) == ["01", "02", "03", "04"]
    assert all(Path(p).is_dir() for p in sessions["analysis"])  # named where they ended up, not the staging folder
    params = json.loads((out / "params.json").read_text())
    assert params["issues"] and params["labels"] == ["pre", "post"] and params["versions"]["harmonix"]


def test_compare_aligns_channels_and_sampling_rates(tmp_path, capsys):
    raw_a, _ = synthetic_eeg(duration=24.0, sfreq=128.0, seed=1)
    raw_b, _ = synthetic_eeg(duration=24.0, sfreq=256.0, seed=2)
    raw_b = raw_b.drop_channels(["Oz", "Iz"])
    a = _save(raw_a, tmp_path / "a_raw.fif")
    b = _save(raw_b, tmp_path / "b_raw.fif")
    out = tmp_path / "cmp"
    code, stdout, err = _run(["-q", "compare", str(a), "--post", str(b), "--out", str(out), "--harmonics", "off",
                              "--no-report", "--permutations", "500"], capsys)
    assert code == 0, err
    notes = json.loads((out / "params.json").read_text())["notes"]
    assert any("resampled from 256 Hz to 128 Hz" in n for n in notes)
    assert any("a_raw.fif: channels Oz, Iz left out" in n for n in notes)
    table = pd.read_csv(out / "session_table.csv")
    assert "Oz" not in set(table["component"])
    comparison = pd.read_csv(out / "comparison.csv")
    assert (comparison["design"] == "windows").all() and not (out / "comparison_windows.csv").exists()


def test_compare_rejects_too_few_shared_channels(tmp_path, capsys):
    raw_a, _ = synthetic_eeg(duration=24.0, sfreq=128.0, seed=1)
    raw_b = raw_a.copy().pick(raw_a.ch_names[:6])
    a, b = _save(raw_a, tmp_path / "a_raw.fif"), _save(raw_b, tmp_path / "b_raw.fif")
    code, _, err = _run(["-q", "compare", str(a), "--post", str(b), "--out", str(tmp_path / "cmp"),
                         "--harmonics", "off", "--no-report"], capsys)
    assert code == 2 and err.count("\n") == 1 and "share only 6 EEG channels" in err
    assert not (tmp_path / "cmp").exists()


def test_compare_rejects_analyses_at_different_rates(tmp_path, capsys):
    folders = []
    for name, sfreq in (("slow", 128.0), ("fast", 256.0)):
        raw, _ = synthetic_eeg(duration=24.0, sfreq=sfreq, seed=4)
        path = _save(raw, tmp_path / f"{name}_raw.fif")
        assert _run(["-q", "analyze", str(path), "--out", str(tmp_path / "an"), "--harmonics", "off"], capsys)[0] == 0
        folders.append(tmp_path / "an" / f"{name}_raw")
    code, _, err = _run(["-q", "compare", str(folders[0]), "--post", str(folders[1]), "--out", str(tmp_path / "cmp"),
                         "--no-report"], capsys)
    assert code == 2 and "slow_raw 128 Hz, fast_raw 256 Hz" in err


@pytest.mark.real_data
def test_compare_rest_vs_motor_imagery_with_report(shared_data, tmp_path, capsys):
    out = tmp_path / "cmp"
    code, stdout, err = _run(["-q", "compare", str(shared_data / "eegmmidb_S001R01.edf"), "--post",
                              str(shared_data / "eegmmidb_S001R04.edf"), "--out", str(out),
                              "--permutations", "2000"], capsys)
    assert code == 0, err
    windows = pd.read_csv(out / "comparison.csv")
    assert (windows["design"] == "windows").all()
    assert {"band_power", "harmonic_power", "energy_parameter"} <= set(windows["metric"])
    assert windows["p"].between(0, 1).all() and (windows["q"] >= windows["p"] - 1e-12).all()
    html = (out / "report.html").read_text()
    assert "<img" in html and "research proxy" in html.lower()
    assert (out / "analysis" / "eegmmidb_S001R01" / "metrics.csv").is_file()


def test_unpaired_groups(bids_like_recordings, tmp_path, capsys):
    control = [str(p) for (s, ses), p in sorted(bids_like_recordings.items()) if ses == "pre"]
    treated = [str(p) for (s, ses), p in sorted(bids_like_recordings.items()) if ses == "post"]
    out = tmp_path / "groups"
    code, stdout, err = _run(["-q", "compare", *control, "--post", *treated, "--design", "unpaired", "--out", str(out),
                              "--harmonics", "off", "--no-report", "--permutations", "2000"], capsys)
    assert code == 0, err
    assert "without a post" not in stdout  # groups are not pairs: nothing is missing
    comparison = pd.read_csv(out / "comparison.csv", keep_default_na=False, na_values=[""])
    alpha = comparison.query("metric == 'band_power' and band == 'alpha'").iloc[0]
    assert (alpha["n_pre"], alpha["n_post"]) == (4, 3) and alpha["effect_size_kind"] == "hedges_g"
    assert alpha["effect_size"] > 0 and (comparison["design"] == "unpaired").all()


def test_session_csv_with_own_labels(bids_like_recordings, tmp_path, capsys):
    rows = ["path,subject,session,condition"]
    for (subject, session), path in sorted(bids_like_recordings.items()):
        if subject < 4:
            rows.append(f"{path},P{subject},{'baseline' if session == 'pre' else 'week8'},rest")
    rows.append(f"{bids_like_recordings[(1, 'pre')]},P1,followup,rest")  # a third label, not compared
    csv = tmp_path / "sessions.csv"
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path / "cmp"
    argv = ["-q", "compare", str(csv), "--out", str(out), "--harmonics", "off", "--no-report", "--permutations", "500"]
    code, _, err = _run(argv, capsys)
    assert code == 2 and "--labels" in err  # three labels: which two?
    code, _, err = _run([*argv, "--labels", "baseline,week8"], capsys)
    assert code == 0, err
    comparison = pd.read_csv(out / "comparison.csv", keep_default_na=False, na_values=[""])
    alpha = comparison.query("metric == 'band_power' and band == 'alpha'").iloc[0]
    assert alpha["n"] == 3 and alpha["difference"] > 0
    assert json.loads((out / "params.json").read_text())["labels"] == ["baseline", "week8"]


def test_epochs_are_the_windows_of_epoched_data():
    import mne

    raw, _ = synthetic_eeg(duration=30.0, sfreq=128.0, seed=5)
    epochs = mne.make_fixed_length_epochs(raw, duration=3.0, preload=True, verbose=False)
    analysis = analyze_eeg(epochs, session="epochs")
    power = analysis.arrays["window_band_power"]
    assert power.shape == (len(epochs), len(raw.ch_names), len(analysis.params["bands"]))  # delta needs 4-s epochs
    alpha = [b["name"] for b in analysis.params["bands"]].index("alpha")
    direct = analyze_eeg(epochs[3], session="one")  # one epoch alone: a (1, ...) epochs object
    one_epoch_alpha = direct.metrics.query("metric == 'band_power' and band == 'alpha'")["value"].to_numpy()
    np.testing.assert_allclose(power[3, :, alpha], one_epoch_alpha, rtol=1e-10)
    table = window_metrics(analysis.arrays, analysis.params)
    assert table["window"].nunique() == len(epochs)
