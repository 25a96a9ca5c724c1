"""`harmonix simulate` -> `harmonix analyze`: planted ground truth is recovered from the simulated EEG."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from harmonix.cli import main


def _simulate_and_analyze(tmp_path, name, *extra):
    assert main(["-q", "simulate", "--seconds", "30", "--seed", "3", "--out", str(tmp_path / name), *extra]) == 0
    raw = next((tmp_path / name).glob("*_raw.fif"))
    assert main(["-q", "analyze", str(raw), "--out", str(tmp_path / f"{name}-analysis")]) == 0
    return pd.read_csv(tmp_path / f"{name}-analysis" / raw.name[: -len(".fif")] / "metrics.csv")


def test_simulate_writes_recording_traces_and_figure(tmp_path, capsys):
    assert main(["-q", "simulate", "--model", "kuramoto", "--seconds", "5", "--out", str(tmp_path / "k")]) == 0
    traces = pd.read_csv(tmp_path / "k" / "traces.csv")
    assert {"order_parameter", "energy", "temperature"} <= set(traces.metric)
    assert ((traces.metric != "order_parameter") | traces.value.between(0, 1)).all()
    assert (tmp_path / "k" / "traces.png").stat().st_size > 10_000
    params = json.loads((tmp_path / "k" / "params.json").read_text())
    assert params["model"] == "kuramoto" and params["seed"] == 0 and "versions" in params


def test_simulation_is_reproducible(tmp_path):
    import mne

    for name in ("a", "b"):
        assert main(["-q", "simulate", "--seconds", "3", "--seed", "7", "--out", str(tmp_path / name)]) == 0
    a = mne.io.read_raw_fif(next((tmp_path / "a").glob("*_raw.fif")), verbose=False).get_data()
    b = mne.io.read_raw_fif(next((tmp_path / "b").glob("*_raw.fif")), verbose=False).get_data()
    assert (a == b).all()


def test_higher_temperature_raises_the_energy_parameter(tmp_path):
    cold = _simulate_and_analyze(tmp_path, "cold", "--temperature", "0.02")
    hot = _simulate_and_analyze(tmp_path, "hot", "--temperature", "0.5")

    def energy(table):
        return table.query("metric == 'energy_parameter_mean'")["value"].iloc[0]

    assert energy(hot) > 1.5 * energy(cold)


def test_coupling_two_regions_raises_their_locking(tmp_path):
    """Acceptance: switching on coupling between lPFCDL and rPFCDL raises their locking as analysed.

    Same seed, frequencies, noise and rhythm generator in both runs; only the
    planted link differs. The other homotopic pairs, on average, stay put.
    """
    free = _simulate_and_analyze(tmp_path, "free")
    coupled = _simulate_and_analyze(tmp_path, "coupled", "--couple", "lPFCDL,rPFCDL")

    def homotopic_alpha(table):
        rows = table.query("metric == 'region_plv_homotopic' and band == 'alpha'")
        return rows.set_index("component")["value"]

    before, after = homotopic_alpha(free), homotopic_alpha(coupled)
    rise = after["PFCDL"] - before["PFCDL"]
    others = after.drop("PFCDL").median() - before.drop("PFCDL").median()
    assert rise > 0.3, (before["PFCDL"], after["PFCDL"])
    assert abs(others) < 0.1 and abs(others) < rise / 4
    params = json.loads((tmp_path / "coupled" / "params.json").read_text())
    assert params["couple"] == ["lPFCDL", "rPFCDL"] and params["generators"] == ["lPFCDL", "rPFCDL"]


def test_wave_model_with_a_protocol_runs(tmp_path):
    assert main(["-q", "simulate", "--model", "wave", "--seconds", "5", "--preset", "gamma-40hz",
                 "--out", str(tmp_path / "w")]) == 0
    # named by what was simulated: model, schedule, seed, length, protocol
    assert [p.name for p in (tmp_path / "w").glob("*_raw.fif")] == ["wave-constant-seed0-5s-gamma-40hz_raw.fif"]


def test_unknown_preset_exits_2(tmp_path, capsys):
    assert main(["simulate", "--seconds", "2", "--preset", "no-such-preset", "--out", str(tmp_path / "x")]) == 2
    assert "no-such-preset" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_region_harmonic_power_matches_projecting_vertex_activity():
    from harmonix.harmonics.model import default_harmonic_model
    from harmonix.simulate.run import region_harmonic_power

    model = default_harmonic_model()
    labels = list(model.connectome.region_labels)
    rng = np.random.default_rng(0)
    activity = rng.standard_normal((len(labels), 50))
    vertices = activity[model.connectome.region_map]  # every vertex carries its region's activity
    direct = model.basis.eigenvectors[:, [2, 7]].T @ vertices
    traces = region_harmonic_power(activity, model, labels, sfreq=10.0, harmonics=(2, 7), smoothing=0.1)
    np.testing.assert_allclose(traces["harmonic_power_h002"], direct[0] ** 2, rtol=1e-10)
    np.testing.assert_allclose(traces["harmonic_power_h007"], direct[1] ** 2, rtol=1e-10)
    shuffled = region_harmonic_power(activity[::-1], model, labels[::-1], sfreq=10.0, harmonics=(2,), smoothing=0.1)
    np.testing.assert_allclose(shuffled["harmonic_power_h002"], direct[0] ** 2, rtol=1e-10)  # order by label
