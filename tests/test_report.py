"""Figures and the self-contained HTML report (harmonix.report).

The report tests read a simulated recording with known content, analysed by ``harmonix analyze --report``
as a user would run it (see the fixtures below); one test reads a real recording, for what only real data has
(:func:`test_report_of_a_real_recording`).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from harmonix.errors import DataWarning, InputFileError, OutputError, ParameterError
from harmonix.report import comparison_figures, figures
from harmonix.report import comparison as report_comparison
from harmonix.report import page as report_page
from harmonix.report.comparison import comparison_report
from harmonix.report.html import analysis_report, write_analysis_report

NOTE = "research proxy, not a diagnosis"

# What the simulated recording carries (harmonix.simulate.synthetic.harmonic_source_recording at the 63 sensors
# of the default connectome's leadfield): alpha-range rhythms in the 30 lowest connectome harmonics, a broadband
# burst in harmonics 10 and up (one energy episode), and a mains line on every channel. Two of the leadfield's
# sensors (CB1, CB2, cerebellar) have no position in the standard 10-05 montage.
SFREQ = 128.0
SECONDS = 21.0  # just long enough for the research proxies (20 s)
BURST = (8.0, 13.0)
MAINS_HZ, MAINS_VOLTS = 50.0, 0.3e-6  # the brain signal is 1 µV RMS


# ---------------------------------------------------------------------------
# fixtures: one simulated recording analysed twice by `harmonix analyze --report`
# (21 s with harmonics and proxies, and its first 10 s without harmonics)


@pytest.fixture(scope="module")
def harmonic_model():
    from harmonix.harmonics.model import default_harmonic_model

    return default_harmonic_model()


@pytest.fixture(scope="module")
def simulated(harmonic_model):
    """21 s of simulated EEG with the known content described above (V, 10-05 montage)."""
    import mne

    from harmonix.simulate.synthetic import harmonic_source_recording

    raw, truth = harmonic_source_recording(harmonic_model, duration=SECONDS, sfreq=SFREQ, burst=BURST, seed=1)
    assert truth.burst == BURST
    mains = MAINS_VOLTS * np.sin(2 * np.pi * MAINS_HZ * raw.times)
    return mne.io.RawArray(raw.get_data() + mains, raw.info, verbose=False)


def _analyze(raw, folder: Path, name: str, *options: str) -> SimpleNamespace:
    """Save ``raw`` as ``name``_raw.fif and run ``harmonix analyze --report`` on it; read back what it wrote.

    ``main`` records the command it was given (params.json, the report's footer), not the caller's ``sys.argv``.
    Returns the analysis as read from the output folder (``metrics``, ``params``, ``arrays``), the report's text
    (``page``) and the command (``argv``).
    """
    from harmonix.cli import main
    from harmonix.compare.sessions import read_analysis, read_arrays_file
    from harmonix.pipeline.result import Analysis

    path = folder / f"{name}_raw.fif"
    raw.save(path, verbose=False)
    argv = ["harmonix", "analyze", "-q", str(path), *options, "--report", "--out", str(folder / "out")]
    assert main(argv[1:]) == 0
    output = folder / "out" / path.stem
    metrics, params = read_analysis(output)
    analysis = Analysis(metrics, params, read_arrays_file(output / "arrays.npz"))
    return SimpleNamespace(analysis=analysis, page=(output / "report.html").read_text(encoding="utf-8"), argv=argv)


@pytest.fixture(scope="module")
def full_output(simulated, tmp_path_factory):
    """All 21 s with connectome harmonics (the default model): every section of the report has content."""
    return _analyze(simulated, tmp_path_factory.mktemp("full"), "simulated", "--harmonics", "on")


@pytest.fixture(scope="module")
def short_output(simulated, tmp_path_factory):
    """The first 10 s without harmonics: no harmonic spectrum, proxies or energy trace."""
    return _analyze(simulated.copy().crop(0, 10), tmp_path_factory.mktemp("short"), "simulated10s",
                    "--harmonics", "off")


@pytest.fixture(scope="module")
def full_analysis(full_output):
    return full_output.analysis


@pytest.fixture(scope="module")
def full_report(full_output):
    return full_output.page


@pytest.fixture(scope="module")
def short_analysis(short_output):
    return short_output.analysis


@pytest.fixture(scope="module")
def short_report(short_output):
    return short_output.page


def _bands(analysis) -> list[str]:
    return [b["name"] for b in analysis.params["bands"]]


def _section(page: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}">(.*?)</section>', page, flags=re.S)
    assert match, f"section {section_id!r} missing"
    return match.group(1)


def _comparison_table() -> pd.DataFrame:
    """Hand-made comparison: q below 0.05 in rows 0, 1 and 5 only (0.05 itself is not below)."""
    table = pd.DataFrame({
        "metric": ["band_power", "plv_mean", "band_power", "lempel_ziv", "envelope_cv", "valence_proxy"],
        "band": ["alpha", "theta", "beta", "alpha", "gamma", "alpha"],
        "component": ["O1", "Fz", "Cz", "Pz", "T7", "harmonic_signature"],
        "n": [12, 12, 12, 12, 1, 12],
        "mean_pre": [1.0, 0.40, 2.0, 0.5, 0.3, 0.10],
        "mean_post": [2.0, 0.50, 2.1, 0.5, 0.4, 0.30],
        "difference": [1.0, 0.10, 0.1, 0.0, 0.1, 0.20],
        "effect_size": [2.0, 0.9, 0.6, 0.05, np.nan, 1.2],
        "effect_size_kind": "d_z",
        "ci_low": [0.5, 0.02, -0.1, -0.2, np.nan, 0.05],
        "ci_high": [1.5, 0.18, 0.3, 0.2, np.nan, 0.35],
        "p": [0.0002, 0.008, 0.01, 0.9, np.nan, 0.004],
        "p_wilcoxon": 0.01,
        "p_ttest": 0.01,
        "q": [0.001, 0.049, 0.05, 0.9, np.nan, 0.012],
        "unit": ["V^2", "1", "V^2", "1", "1", "1"],
        "n_pre": 12,
        "n_post": 12,
        "hedges_g": 0.5,
        "design": "paired",
        "note": ["", "", "", "", "fewer than 2 complete pairs (n=1); not tested", ""],
    })
    table.attrs["unpaired_subjects"] = {"pre_only": ["sub-07"], "post_only": []}
    return table


SESSIONS = pd.DataFrame({"subject": ["sub-01", "sub-01", "sub-02", "sub-02", "sub-07"],
                         "session": ["pre", "post", "pre", "post", "pre"],
                         "condition": "retreat",
                         "path": ["a/pre.edf", "a/post.edf", "b/pre.edf", "b/post.edf", "c/pre.edf"]})


# ---------------------------------------------------------------------------
# figure functions


def test_band_topomaps_one_map_per_band(short_analysis):
    import matplotlib.pyplot as plt

    bands = _bands(short_analysis)
    fig = figures.plot_band_topomaps(short_analysis.metrics, metric="band_power", scale=1e12, log=True)
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == []  # drawn into our Figure, nothing left in pyplot's state
    images = [a for a in fig.axes if any(isinstance(c, AxesImage) for c in a.get_children())]
    assert [a.get_title() for a in images] == bands
    # the map shows 10 log10 of the band power in µV² (MNE masks the image outside the head)
    alpha = short_analysis.metrics.query("metric == 'band_power' and band == 'alpha'")["value"]
    image = next(c for c in images[bands.index("alpha")].get_children() if isinstance(c, AxesImage))
    low, high = image.get_clim()
    expected = 10 * np.log10(alpha * 1e12)
    assert expected.min() - 1 <= low <= expected.max() and expected.min() <= high <= expected.max() + 1


def test_band_topomaps_leave_out_channels_without_position():
    names = ["Fz", "Cz", "Pz", "O1", "O2", "NOPOS1"]
    fig = figures.plot_band_topomaps({"alpha": np.arange(6.0)}, names)
    assert [a.get_title() for a in fig.axes if a.get_title()] == ["alpha"]
    with pytest.raises(ParameterError, match="at least 3"):
        figures.plot_band_topomaps({"alpha": np.arange(3.0)}, ["E1", "E2", "Cz"])
    with pytest.raises(ParameterError, match="values for"):
        figures.plot_band_topomaps({"alpha": np.arange(4.0)}, names)


def test_plot_psd_lines_and_log_axis(short_analysis):
    arrays = short_analysis.arrays
    fig = figures.plot_psd(arrays["psd_freqs"], arrays["psd"], list(arrays["ch_names"]),
                           bands=short_analysis.params["bands"])
    ax = fig.axes[0]
    assert len(ax.get_lines()) == arrays["psd"].shape[0] + 1
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.get_lines()[-1].get_ydata(), arrays["psd"].mean(axis=0))
    with pytest.raises(ParameterError):
        figures.plot_psd(arrays["psd_freqs"][:-1], arrays["psd"])


def test_plot_cdns_bars_are_channel_means(short_analysis):
    metrics = short_analysis.metrics
    bands = _bands(short_analysis)
    fig = figures.plot_cdns(metrics)
    ax = fig.axes[0]
    assert len(ax.patches) == 3 * len(bands)
    assert [t.get_text() for t in ax.get_xticklabels()] == bands
    heights = np.array([p.get_height() for p in ax.patches]).reshape(3, len(bands))
    for row, part in enumerate(("consonance", "dissonance", "noise")):
        expected = metrics[metrics["metric"] == f"cdns_{part}"].groupby("band")["value"].mean().reindex(bands)
        np.testing.assert_allclose(heights[row], np.nan_to_num(expected.to_numpy()), rtol=1e-12)
    with pytest.raises(ParameterError, match="no cdns_"):
        figures.plot_cdns(metrics[~metrics["metric"].str.startswith("cdns_")])


def test_plot_locking_matrices(short_analysis):
    arrays = short_analysis.arrays
    bands = list(arrays["plv_bands"])
    fig = figures.plot_locking_matrices(arrays["plv"], bands, list(arrays["ch_names"]))
    images = [a for a in fig.axes if a.get_images()]
    assert [a.get_title() for a in images] == bands
    shown = images[0].get_images()[0].get_array()
    assert np.all(np.ma.getmaskarray(shown).diagonal() | np.isnan(np.ma.getdata(shown).diagonal()))
    off = ~np.eye(shown.shape[0], dtype=bool)
    np.testing.assert_allclose(np.ma.getdata(shown)[off], arrays["plv"][0][off], rtol=1e-6)
    with pytest.raises(ParameterError):
        figures.plot_locking_matrices(arrays["plv"], bands[:-1])


def _span_x(patch) -> tuple[float, float]:
    x = patch.get_path().transformed(patch.get_patch_transform()).vertices[:, 0]
    return float(x.min()), float(x.max())


def test_plot_energy_trace_marks_each_episode():
    times = np.arange(0.5, 60.0)
    energy = 1 + np.exp(-((times - 20) / 2) ** 2) + np.exp(-((times - 45) / 3) ** 2)
    fig = figures.plot_energy_trace(times, energy, [(17.0, 6.0, 20.0), (41.0, 8.0)], threshold=1.5, baseline=1.0)
    ax = fig.axes[0]
    assert [_span_x(p) for p in ax.patches] == [(17.0, 23.0), (41.0, 49.0)]
    # the same episodes from tidy metric rows, as written by the pipeline
    rows = pd.DataFrame({
        "metric": ["energy_episode_onset", "energy_episode_duration", "energy_episode_peak_time"] * 2
        + ["energy_episode_count"],
        "band": "broadband",
        "component": ["episode1"] * 3 + ["episode2"] * 3 + ["all"],
        "value": [17.0, 6.0, 20.0, 41.0, 8.0, 45.0, 2.0],
    })
    fig = figures.plot_energy_trace(times, energy, rows)
    assert [_span_x(p) for p in fig.axes[0].patches] == [(17.0, 23.0), (41.0, 49.0)]
    assert len(figures.plot_energy_trace(times, energy).axes[0].patches) == 0


def test_plot_harmonic_power_matches_arrays(full_analysis):
    bands = _bands(full_analysis)
    from_rows = figures.plot_harmonic_power(full_analysis.metrics)
    from_arrays = figures.plot_harmonic_power(full_analysis.arrays)
    rows_lines, array_lines = from_rows.axes[0].get_lines(), from_arrays.axes[0].get_lines()
    assert [line.get_label() for line in rows_lines] == bands
    assert len(array_lines) == len(bands)
    for a, b in zip(rows_lines, array_lines):
        np.testing.assert_allclose(a.get_ydata(), b.get_ydata(), rtol=1e-4)
    energy = figures.plot_harmonic_power(full_analysis.arrays, metric="harmonic_energy").axes[0].get_lines()
    energy_rows = figures.plot_harmonic_power(full_analysis.metrics, metric="harmonic_energy").axes[0].get_lines()
    np.testing.assert_allclose(energy[2].get_ydata()[1:], energy_rows[2].get_ydata()[1:], rtol=1e-4)


def test_comparison_forest_orders_and_highlights():
    table = _comparison_table()
    fig = comparison_figures.plot_comparison_forest(table, n_rows=30, q_threshold=0.05)
    ax = fig.axes[0]
    labels = ax.get_yticklabels()
    # tested rows only (the n=1 row is left out), lowest q at the top
    assert [t.get_text() for t in labels] == [
        "band_power · alpha · O1", "valence_proxy · alpha · harmonic_signature", "plv_mean · theta · Fz",
        "band_power · beta · Cz", "lempel_ziv · alpha · Pz"]
    assert [t.get_fontweight() == "bold" for t in labels] == [True, True, True, False, False]
    # effect-size CI = CI of the difference x effect size / difference: row 0 gives [1.0, 3.0]
    top = [line for line in ax.get_lines() if len(line.get_xdata()) == 2 and line.get_ydata()[0] == 4]
    np.testing.assert_allclose(top[0].get_xdata(), [1.0, 3.0])
    assert len(comparison_figures.plot_comparison_forest(table, n_rows=2).axes[0].get_yticklabels()) == 2
    with pytest.raises(ParameterError, match="no tested row"):
        comparison_figures.plot_comparison_forest(table.assign(p=np.nan))


def test_pre_post_harmonic_spectrum():
    k = np.arange(4)
    rows = []
    for band in ("theta", "alpha"):
        for i in k:
            rows.append({"metric": "harmonic_power", "band": band, "component": f"h{i:03d}", "mean_pre": 1.0 + i,
                         "mean_post": 1.5 + i, "difference": 0.5, "ci_low": 0.1, "ci_high": 0.9,
                         "q": 0.01 if (band == "alpha" and i < 2) else 0.5})
    fig = comparison_figures.plot_pre_post_harmonic_spectrum(pd.DataFrame(rows))
    assert len(fig.axes) == 4
    assert [fig.axes[0].get_title(), fig.axes[1].get_title()] == ["theta", "alpha"]
    alpha_diff = fig.axes[3]
    marked = [line for line in alpha_diff.get_lines() if line.get_marker() == "o"]
    assert len(marked) == 1 and list(marked[0].get_xdata()) == [0, 1]
    assert not [line for line in fig.axes[2].get_lines() if line.get_marker() == "o"]
    with pytest.raises(ParameterError):
        comparison_figures.plot_pre_post_harmonic_spectrum(pd.DataFrame(rows).assign(metric="band_power"))


# ---------------------------------------------------------------------------
# analysis report


def _external_references(page: str) -> list[str]:
    bad = re.findall(r"https?://", page)
    bad += [s for s in re.findall(r'\bsrc="([^"]*)"', page) if not s.startswith("data:")]
    bad += [h for h in re.findall(r'\bhref="([^"]*)"', page) if not h.startswith(("#", "data:"))]
    bad += re.findall(r"<script|@import|url\(", page)
    return bad


def _issues(page: str) -> str:
    """The report's "Check before reading the results" list ('' when it has none)."""
    start = page.find('<div class="issues">')
    return "" if start < 0 else page[start:page.index("<nav>", start)]


def test_full_report_has_every_section(full_output):
    """Every section has content, and what the simulation planted is where the report says it is."""
    page, analysis = full_output.page, full_output.analysis
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert _external_references(page) == []
    # PSD, two sets of scalp maps, harmonic power and energy, cortex, two CDNS, two locking, energy trace
    assert page.count('src="data:image/png;base64,') == 11
    assert "Not shown" not in _section(page, "harmonics")
    assert "could not be drawn" not in page
    assert page.count('alt="Absolute band power"') == 1
    assert 'alt="Connectome harmonics on the cortex"' in page
    assert 'alt="Energy parameter over time"' in page
    # the sensors without a montage position are named under the scalp maps, and only they
    names = [str(c) for c in analysis.arrays["ch_names"]]
    unplaced = [n for n, p in zip(names, analysis.arrays["ch_pos"]) if not np.isfinite(p).all()]
    assert unplaced and len(unplaced) < len(names)
    spectra = _section(page, "spectra")
    assert ("Electrode positions as stored with the recording; without a position and left out: "
            f"{', '.join(unplaced)}.") in spectra
    # the planted burst: one episode, spanning it, listed with the numbers of the metric rows
    energy = _section(page, "energy")
    n_episodes = analysis.metrics.query("metric == 'energy_episode_count'")["value"].iloc[0]
    assert n_episodes == 1
    assert energy.count("<tr><td>") == n_episodes
    cells = re.findall(r'<tr><td>1</td><td class="num">([^<]*)</td><td class="num">([^<]*)</td>'
                       r'<td class="num">([^<]*)</td>', energy)
    assert len(cells) == 1
    onset, peak, duration = map(float, cells[0])
    episode = analysis.metrics.query("component == 'episode1'").set_index("metric")["value"]
    assert [onset, peak, duration] == pytest.approx(
        [episode["energy_episode_onset"], episode["energy_episode_peak_time"], episode["energy_episode_duration"]],
        rel=5e-3)
    assert onset <= BURST[0] and onset + duration >= BURST[1] and BURST[0] <= peak <= BURST[1]
    # the planted mains line is named, with what was done about it, before any section
    issues = _issues(page)
    assert f"mains {MAINS_HZ:g} Hz detected" in issues and f"removed by a notch at {MAINS_HZ:g} Hz" in issues
    proxies = _section(page, "proxies")
    for title in ("CDNS signature", "Valence proxy", "Trauma proxy", "Energy parameter"):
        assert title in proxies
    assert proxies.count(NOTE) >= 4
    assert "not computed for this recording" not in proxies
    valence = analysis.metrics.query("metric == 'valence_proxy' and band == 'alpha'")["value"].iloc[0]
    assert f"{valence:.3g}" in proxies
    footer = page[page.index("<footer>"):]
    assert "harmonix 0." in footer and "mne 1." in footer
    assert f"Command: <code>{html.escape(' '.join(full_output.argv))}</code>" in footer


def test_report_without_harmonics_says_why(short_report):
    page = short_report
    assert _external_references(page) == []
    harmonics = _section(page, "harmonics")
    assert "not decomposed into connectome harmonics (no harmonic model requested)" in harmonics
    assert "<img" not in harmonics
    assert "needs the connectome harmonics" in _section(page, "energy")
    assert "<img" not in _section(page, "energy")
    assert 'alt="Absolute band power"' in page and 'alt="Power spectral density"' in page
    proxies = _section(page, "proxies")
    assert proxies.count("not computed for this recording") == 3  # valence, trauma, energy; CDNS is there
    assert proxies.count(NOTE) >= 4
    assert page.count('src="data:image/png;base64,') == 5  # PSD, 2x scalp maps, CDNS channels, channel PLV


def test_report_of_epochs_says_why_proxies_are_missing(simulated, harmonic_model):
    import mne

    from harmonix.pipeline import analyze_eeg

    epochs = mne.make_fixed_length_epochs(simulated.copy().crop(0, 8), duration=4.0, preload=True, verbose="error")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "epochs: mains", DataWarning)  # the planted line
        analysis = analyze_eeg(epochs, session="epochs", harmonic_model=harmonic_model)
    page = analysis_report(analysis.metrics, analysis.params, analysis.arrays)
    assert _external_references(page) == []
    assert "across epochs" in _section(page, "locking")
    assert 'alt="Harmonic power spectrum"' in _section(page, "harmonics")
    for section in ("energy", "proxies"):
        assert "the proxies need a continuous recording, not epochs" in _section(page, section)
    assert "<img" not in _section(page, "energy")


@pytest.mark.real_data
def test_report_of_a_real_recording(shared_data, tmp_path):
    """The report ``harmonix analyze --report`` writes for a real EDF file (eegmmidb S001R01: 61 s, 64 channels).

    Real data is the point: the simulated recordings above are born with clean channel names, no
    artefacts and only the mains line planted in them. This file has EDF labels ('Fc5.', 'Cz..') that the
    loader renames before the scalp maps can place them, 60 Hz mains from its US lab, and electrodes the PREP
    checks flag (T8, T10). The report must place every renamed channel, and list each quality warning and the
    mains line under "Check before reading the results".
    """
    from harmonix.cli import main

    path = shared_data / "eegmmidb_S001R01.edf"
    assert main(["analyze", "-q", str(path), "--harmonics", "off", "--report", "--out", str(tmp_path)]) == 0
    folder = tmp_path / "eegmmidb_S001R01"
    params = json.loads((folder / "params.json").read_text(encoding="utf-8"))
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert _external_references(page) == []
    assert page.count('src="data:image/png;base64,') == 5 and "could not be drawn" not in page
    overview = _section(page, "overview")
    assert f"<th>Source</th><td><code>{html.escape(str(path))}</code></td>" in overview
    assert "<th>Channels analysed</th><td>64</td>" in overview
    # the loader renamed the EDF labels, and every channel is on the scalp maps
    assert ["Fc5.", "FC5"] in params["load"]["renamed"]
    spectra = _section(page, "spectra")
    assert "Electrode positions as stored with the recording." in spectra and "without a position" not in spectra
    # what the checks found in this recording, in the list at the top
    issues = _issues(page)
    warnings_found = params["quality"]["warnings"]
    assert any("T10" in w for w in warnings_found)
    for line in warnings_found:
        assert html.escape(line) in issues
    assert "mains 60 Hz detected" in issues and "removed by a notch at 60 Hz" in issues


def test_report_lists_episodes_from_rows():
    metrics = pd.DataFrame({
        "session": "x", "metric": ["energy_episode_onset", "energy_episode_duration", "energy_episode_peak_time",
                                   "energy_episode_cooling_tau", "energy_episode_count"],
        "band": "broadband", "component": ["episode1"] * 4 + ["all"], "value": [3.0, 4.0, 5.0, 1.5, 1.0],
        "unit": "s"})
    arrays = {"energy_times": np.arange(0.5, 10), "energy": np.r_[np.ones(3), 5, 6, 5, np.ones(4)]}
    params = {"harmonics": {"computed": True, "proxies": {
        "computed": True, "energy_episodes": {"baseline": 1.0, "threshold": 3.0, "threshold_mads": 4.0,
                                              "smooth_seconds": 3.0, "min_duration": 2.0}}}}
    energy = _section(analysis_report(metrics, params, arrays), "energy")
    assert 'alt="Energy parameter over time"' in energy
    cells = re.findall(r'<td class="num">([^<]*)</td>', energy)
    assert cells == ["3", "5", "4", "1.5"]


def test_report_without_positions_or_arrays():
    metrics = pd.DataFrame({"session": "s", "metric": "band_power", "band": ["alpha"] * 4 + ["beta"] * 4,
                            "component": ["E1", "E2", "E3", "E4"] * 2, "value": 1e-11, "unit": "V^2"})
    page = analysis_report(metrics, {}, {})
    spectra = _section(page, "spectra")
    assert "Not shown: Absolute band power" in spectra and "have a position" in spectra
    assert "no PSD" in spectra
    assert "<img" not in page
    assert "no harmonic_power rows" in _section(page, "harmonics")


def test_report_survives_a_failing_figure(monkeypatch, caplog):
    metrics = pd.DataFrame({"session": "s", "metric": ["cdns_consonance", "cdns_dissonance", "cdns_noise"],
                            "band": "alpha", "component": "Cz", "value": [0.6, 0.2, 0.3], "unit": "1"})

    def broken(*args, **kwargs):
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(figures, "plot_cdns", broken)
    with caplog.at_level("WARNING", logger="harmonix.report.html"):
        page = analysis_report(metrics, {}, {})
    assert "CDNS signature per band could not be drawn (RuntimeError: renderer exploded)" in _section(page, "cdns")
    assert any("could not be drawn" in r.getMessage() for r in caplog.records)
    assert _section(page, "proxies")  # the rest of the report is there


def test_comparison_report_rejects_other_tables():
    with pytest.raises(ParameterError, match="missing column"):
        comparison_report(pd.DataFrame({"metric": ["a"], "p": [0.1]}), SESSIONS, {})


def test_report_escapes_user_strings():
    evil = '<script>alert("x")</script>'
    metrics = pd.DataFrame({"session": evil, "metric": "cdns_consonance", "band": ["<b>sigma</b>", "alpha"],
                            "component": [evil, "Cz"], "value": [0.5, 0.2], "unit": "1"})
    params = {"session": evil, "command": f"harmonix analyze '{evil}'", "versions": {evil: "1"},
              "skipped_bands": {"<b>sigma</b>": "too <i>short</i>"}, "bands": [{"name": "<b>sigma</b>", "fmin": 12,
                                                                                 "fmax": 15}]}
    page = analysis_report(metrics, params, {}, title=f"title {evil}")
    assert evil not in page and "<b>sigma" not in page and "<i>short" not in page
    assert html.escape(evil) in page and html.escape("<b>sigma</b>") in page
    assert "<script" not in page


def test_write_analysis_report(tmp_path, short_analysis, monkeypatch):
    from harmonix.tables import write_json

    folder = tmp_path / "rec"  # the files `harmonix analyze` writes (arrays.npz uncompressed here, for speed)
    folder.mkdir()
    short_analysis.metrics.to_csv(folder / "metrics.csv", index=False)
    write_json(folder / "params.json", {**short_analysis.params, "session": "rec"})
    np.savez(folder / "arrays.npz", **short_analysis.arrays)
    path = write_analysis_report(folder)
    assert path == folder / "report.html"
    page = path.read_text(encoding="utf-8")
    assert "harmonix report: rec" in page and page.count('src="data:image/png;base64,') == 5
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".report")) == []
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary file, not a private temporary one
    # a failed write leaves the previous report as it was and no temporary file behind
    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(report_page.os, "replace", fail)
    with pytest.raises(OutputError, match="disk full"):
        write_analysis_report(folder)
    assert path.read_text(encoding="utf-8") == page
    assert [p.name for p in folder.iterdir() if p.name.startswith(".report")] == []
    monkeypatch.undo()
    with pytest.raises(InputFileError, match="metrics.csv"):
        write_analysis_report(tmp_path / "missing")


# ---------------------------------------------------------------------------
# comparison report


def test_comparison_report_highlights_exactly_significant_rows():
    table = _comparison_table()
    page = comparison_report(table, SESSIONS, {"command": "harmonix compare pre/ post/", "versions": {"mne": "1"}},
                             issues=["sub-09: post file unreadable"]).replace("<wbr>", "")  # wrap points
    assert _external_references(page) == []
    highlighted = re.findall(r'<tr class="sig"><td>([^<]*)(?:<span[^>]*>[^<]*</span>)?</td><td>([^<]*)</td>'
                             r'<td>([^<]*)</td>', page)
    assert sorted(highlighted) == sorted([("band_power", "alpha", "O1"), ("plv_mean", "theta", "Fz"),
                                          ("valence_proxy", "alpha", "harmonic_signature")])
    assert page.count("<tr") - page.count('<tr class="sig">') > 0
    summary = _section(page, "summary")
    assert re.search(r"q &lt; 0.05 \(FDR\)</th><td><strong>3</strong>", summary)
    assert "<th>Subjects</th><td>3</td>" in summary
    issues = page[page.index('<div class="issues">'):page.index("<nav>")]
    assert "sub-09: post file unreadable" in issues and "sub-07: pre without post" in issues
    proxies = _section(page, "proxies")
    assert "Valence proxy" in proxies and NOTE in proxies and "Trauma proxy" not in proxies
    assert 'alt="Forest plot"' in page
    assert "no harmonic_power rows" in _section(page, "harmonics")
    assert "harmonix compare pre/ post/" in page[page.index("<footer>"):]


def test_comparison_report_limits_the_table():
    rng = np.random.default_rng(3)
    n = 260
    p = rng.uniform(size=n)
    table = pd.DataFrame({"metric": "harmonic_power", "band": np.repeat(["alpha", "beta"], n // 2),
                          "component": [f"h{i:03d}" for i in range(n // 2)] * 2, "n": 10,
                          "mean_pre": 1 + rng.uniform(size=n), "mean_post": 1.2 + rng.uniform(size=n),
                          "difference": 0.2, "effect_size": 0.5, "effect_size_kind": "d_z", "ci_low": 0.0,
                          "ci_high": 0.4, "p": p, "q": np.minimum(p * 3, 1.0), "design": "paired"})
    page = comparison_report(table, SESSIONS.iloc[:0], {}).replace("<wbr>", "")
    rows = re.findall(r"<tr(?: class=\"sig\")?><td>harmonic_power", page)
    assert len(rows) == report_comparison.TABLE_ROWS
    assert page.count('<tr class="sig">') == int((table["q"] < 0.05).sum())
    assert "comparison.csv" in _section(page, "table")
    assert page.count('alt="harmonic_power before and after"') == 1


def test_comparison_report_of_compare_tables(short_analysis):
    from harmonix.compare import compare_tables

    rng = np.random.default_rng(0)
    channels = list(short_analysis.arrays["ch_names"][:12])
    base = short_analysis.metrics.query("metric in ['band_power_relative', 'plv_mean'] and band == 'alpha' "
                                        "and component in @channels")
    pre, post = [], []
    for subject in range(10):
        noise = rng.normal(1.0, 0.05, size=len(base))
        pre.append(base.assign(subject=f"s{subject}", value=base["value"] * noise))
        shift = np.where(base["metric"] == "plv_mean", 1.3, 1.0)
        post.append(base.assign(subject=f"s{subject}", value=base["value"] * noise * shift
                                * rng.normal(1.0, 0.02, size=len(base))))
    comparison = compare_tables(pd.concat(pre), pd.concat(post), n_permutations=1000, n_bootstrap=200)
    page = comparison_report(comparison, SESSIONS, {}).replace("<wbr>", "")
    highlighted = set(re.findall(r'<tr class="sig"><td>([a-z_]+)</td><td>alpha</td><td>([^<]*)</td>', page))
    significant = comparison[comparison["q"] < 0.05]
    assert highlighted == set(zip(significant["metric"], significant["component"]))
    assert {("plv_mean", c) for c in channels} <= highlighted


# ---------------------------------------------------------------------------
# the report in a real browser

_CHECK_SCRIPT = """<script>
(function () {
  var problems = [];
  window.addEventListener('error', function (event) {
    var t = event.target;
    if (t && t !== window && (t.src || t.href)) { problems.push('failed to load ' + t.tagName); }
    else { problems.push('script error: ' + event.message); }
  }, true);
  var original = console.error;
  console.error = function () {
    problems.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
  window.addEventListener('load', function () {
    var images = document.images, loaded = 0;
    for (var i = 0; i < images.length; i++) { if (images[i].complete && images[i].naturalWidth > 0) { loaded++; } }
    var pre = document.createElement('pre');
    pre.id = 'harmonix-check';
    pre.textContent = JSON.stringify({images: images.length, loaded: loaded, problems: problems});
    document.body.appendChild(pre);
  });
})();
</script>"""


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "no Chromium found (chromium, chromium-browser or google-chrome on PATH)"
    if os.environ.get("HARMONIX_REQUIRE_CHROMIUM") == "1":
        pytest.fail(message + "; HARMONIX_REQUIRE_CHROMIUM=1 makes this an error", pytrace=False)
    pytest.skip(message)


def _run_chromium(binary: str, page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={profile}", *args, page.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _browser_check(binary: str, text: str, tmp: Path, name: str) -> tuple[dict, list[str]]:
    """Open ``text`` (with the checking script injected) and return its findings and the console lines."""
    checked = text.replace("<head>", "<head>\n" + _CHECK_SCRIPT, 1)
    path = tmp / f"{name}.html"
    path.write_text(checked, encoding="utf-8")
    result = _run_chromium(binary, path, tmp / f"profile-{name}", "--enable-logging=stderr", "--v=0",
                           "--virtual-time-budget=5000", "--dump-dom")
    match = re.search(r'<pre id="harmonix-check">(.*?)</pre>', result.stdout, flags=re.S)
    assert match, f"Chromium did not load {path} (rc={result.returncode}): {result.stderr[-2000:]}"
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return json.loads(html.unescape(match.group(1))), console


def _colourful_pixels(png: Path) -> tuple[int, float]:
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=int)
    saturation = pixels.max(axis=-1) - pixels.min(axis=-1)
    return int((saturation > 60).sum()), float(pixels.std())


def test_report_in_headless_chromium(chromium, full_report, tmp_path):
    # negative control: the checks catch a broken image, a script error and a console error
    broken = ('<!DOCTYPE html><html><head><title>x</title></head><body><img src="missing.png">'
              '<script>console.error("deliberate"); undefinedFunction();</script></body></html>')
    found, console = _browser_check(chromium, broken, tmp_path, "broken")
    assert found["images"] == 1 and found["loaded"] == 0
    assert any("failed to load IMG" in p for p in found["problems"])
    assert any("undefinedFunction" in p for p in found["problems"])
    assert any("deliberate" in p for p in found["problems"])
    assert console, "console messages are not visible on stderr"

    found, console = _browser_check(chromium, full_report, tmp_path, "report")
    assert found["images"] == 11 and found["loaded"] == found["images"]
    assert found["problems"] == []
    assert console == []

    # screenshot: the figures are there (many saturated pixels), unlike the same page without images
    report = tmp_path / "report.html"
    report.write_text(full_report, encoding="utf-8")
    no_images = tmp_path / "no-images.html"
    no_images.write_text(re.sub(r"<img [^>]*>", "", full_report), encoding="utf-8")
    counts = {}
    for page in (report, no_images):
        shot = tmp_path / f"{page.stem}.png"
        result = _run_chromium(chromium, page, tmp_path / f"profile-shot-{page.stem}", f"--screenshot={shot}",
                               "--window-size=1280,2000")
        assert shot.is_file(), result.stderr[-2000:]
        counts[page.stem] = _colourful_pixels(shot)
    colourful, spread = counts["report"]
    assert spread > 20 and colourful > 20000
    assert counts["no-images"][0] < colourful / 5


_LAYOUT_SCRIPT = """<script>
window.addEventListener("load", function () {
  var doc = document.documentElement;
  var scrollers = [], cells = [];
  document.querySelectorAll(".scroll").forEach(function (el, i) {
    if (el.scrollWidth > el.clientWidth + 1) scrollers.push([i, el.scrollWidth, el.clientWidth]);
  });
  document.querySelectorAll("td, th, p, li, dd, figcaption, h1, h2").forEach(function (el) {
    if (el.scrollWidth > el.clientWidth + 1) cells.push(el.tagName + ": " + el.textContent.slice(0, 60));
  });
  var pre = document.createElement("pre");
  pre.id = "harmonix-layout";
  pre.textContent = JSON.stringify({scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth,
                                    scrollers: scrollers, overflowing: cells});
  document.body.appendChild(pre);
});
</script>"""


def _layout(binary: str, page: str, tmp: Path, name: str) -> dict:
    path = tmp / f"{name}.html"
    path.write_text(page.replace("<head>", "<head>\n" + _LAYOUT_SCRIPT, 1), encoding="utf-8")
    result = _run_chromium(binary, path, tmp / f"profile-layout-{name}", "--window-size=1400,1000",
                           "--virtual-time-budget=5000", "--dump-dom")
    match = re.search(r'<pre id="harmonix-layout">(.*?)</pre>', result.stdout, flags=re.S)
    assert match, f"Chromium did not load {path}: {result.stderr[-2000:]}"
    shot = tmp / f"{name}.png"
    _run_chromium(binary, path, tmp / f"profile-layout-shot-{name}", f"--screenshot={shot}", "--window-size=1400,2400")
    assert shot.is_file()
    return json.loads(html.unescape(match.group(1)))


def _comparison_pages(rng) -> dict[str, str]:
    from harmonix.compare import compare_tables
    from harmonix.compare.windows import compare_windows

    rows = []
    for s in range(4):
        for label, shift in (("pre", 0.0), ("post", 1.0)):
            for metric in ("band_power", "harmonic_low_energy_fraction", "region_plv_homotopic", "trauma_proxy"):
                for component in ("all", "PFCORB", "Oz"):
                    rows.append({"subject": f"{s:02d}", "session": label, "metric": metric, "band": "alpha",
                                 "component": component, "value": rng.normal() + shift, "unit": "V^2"})
    table = pd.DataFrame(rows)
    by_subject = compare_tables(table[table.session == "pre"], table[table.session == "post"], n_permutations=200,
                                n_bootstrap=200)
    by_subject.loc[by_subject.component == "PFCORB", "note"] += (
        "; cross-talk from PFCDL (leakage 0.26), PFCCL (leakage 0.16), PFCPOL (leakage 0.07) can explain this row")
    sessions = pd.DataFrame({"subject": [f"{s:02d}" for s in range(4) for _ in (0, 1)],
                             "session": ["pre", "post"] * 4, "path": [f"r{i}.fif" for i in range(8)]})
    windows = table[(table.subject == "00")].assign(window=0)
    windows = pd.concat([windows.assign(window=w, value=windows["value"] + rng.normal(size=len(windows)))
                         for w in range(16)])
    by_window = compare_windows(windows[windows.session == "pre"].drop(columns=["subject", "session"]),
                                windows[windows.session == "post"].drop(columns=["subject", "session"]),
                                subject="00", n_permutations=200, n_bootstrap=200)
    long_issue = ["with 4 paired subjects the smallest attainable p is 0.125, so no row can reach q < 0.05: an empty "
                  "list of significant rows says nothing about the effects; read the effect sizes and intervals"]
    return {"comparison": comparison_report(by_subject, sessions, {}, issues=long_issue),
            "windows": comparison_report(by_window, sessions.iloc[:2], {})}


def _music_page(rng) -> str:
    from harmonix.io.audio import Audio
    from harmonix.pipeline import analyze_music
    from harmonix.report.music import music_report

    sfreq = 22050.0
    t = np.arange(int(8 * sfreq)) / sfreq
    clicks = (np.sin(2 * np.pi * 2.0 * t) > 0.99).astype(float)  # 120 bpm
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 4 * t)) + 0.5 * clicks
    analysis = analyze_music(Audio(tone + 0.01 * rng.standard_normal(t.size), sfreq), session="tone")
    return music_report(analysis.metrics, analysis.params, analysis.arrays)


def test_reports_fit_the_page_at_1400px(chromium, full_report, rng, tmp_path):
    """Issue 16: no report is wider than a 1400 px window, no table hides a column, no cell's text overflows.

    Measured in headless Chromium: the page's scrollWidth equals its clientWidth, every table's scroll
    container is as wide as its content, and no cell, paragraph or caption has scrollWidth > clientWidth.
    """
    pages = {"analysis": full_report, **_comparison_pages(rng), "music": _music_page(rng)}
    for name, page in pages.items():
        found = _layout(chromium, page, tmp_path, name)
        assert found["scrollWidth"] <= found["clientWidth"], (name, found)
        assert found["scrollers"] == [], (name, found["scrollers"])
        assert found["overflowing"] == [], (name, found["overflowing"])


def test_whole_spectrum_proxy_is_written_once_and_empty_ones_say_why(full_analysis, full_report):
    """Issue 16: golden_ratio_regime is one number (band 'broadband'), not copied into each band; the
    component sensor EEG cannot give is absent with its reason in params and the report."""
    rows = full_analysis.metrics.query("metric == 'trauma_proxy_component'")
    golden = rows[rows.component == "golden_ratio_regime"]
    assert len(golden) == 1 and golden["band"].iloc[0] == "broadband"
    assert "cshw_rshw_decoupling" not in set(rows.component)
    reason = full_analysis.params["harmonics"]["proxies"]["trauma_components_not_estimated"]["cshw_rshw_decoupling"]
    assert "vertex-level" in reason
    assert "cshw_rshw_decoupling not computed: " + reason in html.unescape(full_report)
    assert "not for reading one value on its own" in full_report


# ---------------------------------------------------------------------------
# the documentation site


@pytest.mark.slow
def test_docs_build_and_render(chromium, tmp_path):
    """Issue 17: the Sphinx site builds with warnings as errors, its gallery runs, and pages render in Chromium.

    The build goes to a temporary folder (sources copied, so generated pages never land in the checkout); the
    index, an API page and the gallery page are opened with the checking script: every image loads, no error.
    """
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    pytest.importorskip("sphinx_gallery")
    source = tmp_path / "docs"
    shutil.copytree(Path(__file__).resolve().parents[1] / "docs", source,
                    ignore=shutil.ignore_patterns("_build", "generated", "auto_examples"))
    out = tmp_path / "html"
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q", str(source),
                             str(out)], capture_output=True, text=True, timeout=600, check=False,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr[-3000:]
    pages = [out / "index.html", out / "generated" / "harmonix.analyze.html",
             out / "auto_examples" / "plot_analyze_array.html"]
    for page in pages:
        assert page.is_file(), page
        checked = page.with_name(f"checked-{page.name}")
        checked.write_text(page.read_text(encoding="utf-8").replace("<head>", "<head>\n" + _CHECK_SCRIPT, 1),
                           encoding="utf-8")
        run = _run_chromium(chromium, checked, tmp_path / f"profile-docs-{page.stem}", "--virtual-time-budget=5000",
                            "--dump-dom")
        match = re.search(r'<pre id="harmonix-check">(.*?)</pre>', run.stdout, flags=re.S)
        assert match, f"Chromium did not load {checked}: {run.stderr[-2000:]}"
        found = json.loads(html.unescape(match.group(1)))
        assert found["loaded"] == found["images"], (page.name, found)
        assert [p for p in found["problems"] if "mathjax" not in p.lower()] == [], (page.name, found)
        shot = tmp_path / f"{page.stem}.png"
        _run_chromium(chromium, page, tmp_path / f"profile-docs-shot-{page.stem}", f"--screenshot={shot}",
                      "--window-size=1400,1400")
        assert shot.is_file() and shot.stat().st_size > 10_000
    gallery = (out / "auto_examples" / "plot_analyze_array.html").read_text(encoding="utf-8")
    assert "mains 60 Hz detected" in gallery and "sphx_glr_plot_analyze_array_001.png" in gallery
