"""Every methods sentence of a report says what the parameters that produced the numbers say (issue 16)."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest

from harmonix.compare import compare_tables
from harmonix.compare.tables import methods_sentence
from harmonix.compare.windows import compare_windows
from harmonix.report.comparison import comparison_report
from harmonix.report.html import analysis_report


def _statistics(page: str) -> str:
    """The text of the report's 'Statistics' fact."""
    match = re.search(r"<th>Statistics</th><td>(.*?)</td>", page, re.S)
    assert match, "no Statistics line in the report"
    return html.unescape(match.group(1))


def _subjects_table(n_subjects: int, rng) -> pd.DataFrame:
    rows = []
    for s in range(n_subjects):
        for label, shift in (("pre", 0.0), ("post", 1.0)):
            for metric in ("band_power", "plv_mean"):
                rows.append({"subject": f"{s:02d}", "session": label, "metric": metric, "band": "alpha",
                             "component": "all", "value": rng.normal() + shift, "unit": "1"})
    return pd.DataFrame(rows)


def _sessions(n: int) -> pd.DataFrame:
    return pd.DataFrame({"subject": [f"{s:02d}" for s in range(n) for _ in (0, 1)],
                         "session": ["pre", "post"] * n, "path": [f"r{i}.fif" for i in range(2 * n)]})


@pytest.mark.parametrize("ci_method, n_bootstrap, n_permutations", [("percentile", 300, 500), ("bca", 400, 64)])
def test_comparison_by_subjects_describes_its_own_statistics(rng, ci_method, n_bootstrap, n_permutations):
    table = _subjects_table(8, rng)
    comparison = compare_tables(table[table.session == "pre"], table[table.session == "post"],
                                ci_method=ci_method, n_bootstrap=n_bootstrap, n_permutations=n_permutations)
    sentence = _statistics(comparison_report(comparison, _sessions(8), {}))
    assert sentence == methods_sentence(comparison.attrs["parameters"])
    name = {"percentile": "percentile", "bca": "BCa"}[ci_method]
    assert f"{name} bootstrap 95% CI" in sentence and f"({n_bootstrap} resamples)" in sentence
    assert "Cohen's d_z" in sentence and "sign-flip" in sentence and f"else {n_permutations} random" in sentence
    assert "bootstrap bootstrap" not in sentence and "?" not in sentence and "Hedges" not in sentence
    assert set(comparison["effect_size_kind"]) == {"d_z"}


def test_unpaired_comparison_names_hedges_g(rng):
    table = _subjects_table(6, rng)
    comparison = compare_tables(table[table.session == "pre"], table[table.session == "post"], design="unpaired",
                                n_bootstrap=200, n_permutations=300)
    sentence = _statistics(comparison_report(comparison, _sessions(6), {}))
    assert sentence == methods_sentence(comparison.attrs["parameters"])
    assert "Hedges' g" in sentence and "group labels" in sentence and "d_z" not in sentence
    assert set(comparison["effect_size_kind"]) == {"hedges_g"}


def test_window_comparison_describes_block_permutation(rng):
    def windows(shift):
        return pd.DataFrame({"metric": "band_power", "band": "alpha", "component": "Cz", "window": np.arange(24),
                             "value": rng.normal(size=24) + shift, "unit": "V^2"})

    comparison = compare_windows(windows(0.0), windows(1.0), subject="01", n_permutations=700, n_bootstrap=250)
    assert comparison.attrs["parameters"]["design"] == "windows"
    page = comparison_report(comparison, _sessions(1), {})
    sentence = _statistics(page)
    assert sentence == methods_sentence(comparison.attrs["parameters"])
    assert "block permutation" in sentence and "Hedges' g over windows" in sentence and "(250 resamples)" in sentence
    assert "d_z" not in sentence and "sign-flip" not in sentence
    assert "<th>Design</th><td>windows</td>" in page
    # parameters of a by-subject table handed with a windows table do not describe it
    comparison.attrs["parameters"] = {"design": "paired", "n_permutations": 10}
    assert "block permutation" in _statistics(comparison_report(comparison, _sessions(1), {}))


def test_analysis_report_methods_follow_its_parameters(rng):
    import mne

    from harmonix.pipeline import analyze_eeg

    sfreq = 200.0
    t = np.arange(int(40 * sfreq)) / sfreq
    data = rng.normal(0, 10e-6, (4, t.size)) + 20e-6 * np.sin(2 * np.pi * 50 * t)
    raw = mne.io.RawArray(data, mne.create_info(["Fz", "Cz", "Pz", "Oz"], sfreq, "eeg"), verbose=False)
    with pytest.warns(Warning):
        analysis = analyze_eeg(raw, session="sim", psd_method="multitaper")
    page = html.unescape(analysis_report(analysis.metrics, analysis.params, analysis.arrays))
    psd = analysis.params["psd"]
    assert f"multitaper,  window {psd['window_seconds']} s, resolution {psd['resolution']} Hz" in page
    assert f"over {analysis.params['aperiodic']['freq_range']} Hz" in page
    notch = analysis.params["line_noise"]["notch"]
    assert notch["applied"] and f"removed by a notch at {', '.join(f'{f:g}' for f in notch['freqs_hz'])} Hz" in page
