"""The energy figure draws what the detection used, on every shared recording with proxies (issue 16)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from harmonix.proxies.energy import detect_episodes, smoothed_trace
from harmonix.report import figures

pytestmark = pytest.mark.slow  # three real recordings analysed with connectome harmonics

RECORDINGS = ("eegmmidb_S001R01.edf", "eegmmidb_S001R04.edf", "eeglab_data.set")


@pytest.fixture(scope="module")
def model():
    from harmonix.harmonics.model import default_harmonic_model

    return default_harmonic_model()


@pytest.mark.real_data
@pytest.mark.parametrize("name", RECORDINGS)
def test_energy_figure_and_caption_agree(shared_data, model, name):
    from harmonix.io import load_eeg
    from harmonix.pipeline import analyze_eeg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = analyze_eeg(load_eeg(shared_data / name, preload=False, verbose=False), session=name,
                               harmonic_model=model)
    detection = analysis.params["harmonics"]["proxies"]["energy_episodes"]
    times, energy = analysis.arrays["energy_times"], analysis.arrays["energy"]
    smoothed = smoothed_trace(times, energy, detection["smooth_seconds"])
    metrics = analysis.metrics
    fig = figures.plot_energy_trace(times, energy, metrics, threshold=detection["threshold"],
                                    baseline=detection["baseline"], smoothed=smoothed)
    drawn = {line.get_label(): line.get_ydata() for line in fig.axes[0].get_lines()}
    np.testing.assert_array_equal(drawn["smoothed (detection)"], smoothed)
    # the episodes shaded are those the detection finds on the drawn trace, and those reported
    again = detect_episodes(times, energy, threshold_mads=detection["threshold_mads"],
                            smooth_seconds=detection["smooth_seconds"], min_duration=detection["min_duration"])
    shaded = sorted((round(p.get_x(), 6), round(p.get_width(), 6)) for p in fig.axes[0].patches)
    assert shaded == sorted((round(e.onset, 6), round(e.duration, 6)) for e in again.episodes)
    count = metrics.query("metric == 'energy_episode_count' and condition == ''")["value"].iloc[0]
    assert count == len(again.episodes) == len(shaded)
    # every episode is where the drawn trace is above the threshold
    for e in again.episodes:
        at = np.searchsorted(times, e.onset)
        assert smoothed[at] > detection["threshold"]
    from harmonix.report.html import analysis_report

    page = analysis_report(metrics, analysis.params, analysis.arrays)
    if count == 0:
        crossed = bool(np.any(smoothed > detection["threshold"]))
        assert ("only for less than" in page) == crossed and "no episode in this recording" in page
    assert "moving average (black), the trace compared with the threshold" in page
