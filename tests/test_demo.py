"""``harmonix demo``: the embedded pre/post study finds what was planted and nothing in the null control."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from harmonix.cli import main

pytestmark = pytest.mark.slow  # the whole demo: 36 simulated recordings analysed and compared


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "harmonix-demo"
    assert main(["-q", "demo", "--out", str(out)]) == 0
    return out


def test_demo_finds_the_planted_change_in_the_right_direction(demo):
    planted = pd.read_csv(demo / "planted_vs_found.csv")
    assert len(planted) >= 3
    for row in planted.itertuples():
        assert row.q < 0.05, row.metric
        assert (row.difference > 0) == (row.expected_sign > 0), row.metric
    comparison = pd.read_csv(demo / "pre-vs-post" / "comparison.csv", keep_default_na=False, na_values=[""])
    locking = comparison.query("metric == 'region_plv_homotopic' and band == 'alpha' and component == 'PFCDL'")
    assert locking["q"].iloc[0] < 0.05 and locking["difference"].iloc[0] > 0


def test_demo_null_control_stays_within_the_false_discovery_rate(demo):
    null = pd.read_csv(demo / "pre-vs-retest" / "comparison.csv", keep_default_na=False, na_values=[""])
    tested = null["p"].notna()
    assert tested.sum() > 500
    assert (null.loc[tested, "q"] < 0.05).mean() <= 0.05
    summary = json.loads((demo / "summary.json").read_text())
    assert summary["n_significant_null"] == int((null["q"] < 0.05).sum())


def test_demo_folder_holds_tables_audio_and_reports(demo):
    for path in ("pre-vs-post/report.html", "pre-vs-retest/report.html", "pre-vs-post/session_table.csv",
                 "analysis/sub-01_ses-pre_task-rest/report.html", "analysis/sub-12_ses-post_task-rest/metrics.csv",
                 "recordings/sub-01_ses-post_task-rest_raw.fif", "stimulus/gamma-40hz-preview.wav",
                 "stimulus/gamma-40hz-preview.json"):
        assert (demo / path).is_file(), path
    sessions = pd.read_csv(demo / "pre-vs-post" / "sessions.csv", dtype=str)
    assert len(sessions) == 24 and all(Path(p).is_dir() for p in [*sessions["analysis"], *sessions["path"]])
    for text_file in ("pre-vs-post/sessions.csv", "analysis/sub-01_ses-pre_task-rest/params.json",
                      "analysis/sub-01_ses-pre_task-rest/report.html", "pre-vs-retest/report.html"):
        assert ".partial" not in (demo / text_file).read_text(), text_file
