"""Steady-state SNR / ITC / classification per condition (harmonix.estimators.steady_state)."""

from __future__ import annotations

import numpy as np
import pytest

from harmonix.errors import DataQualityError, ParameterError
from harmonix.estimators.entrainment import itc_chance_level
from harmonix.estimators.steady_state import freq_label, steady_state_by_condition
from harmonix.io import load_eeg
from harmonix.io.conditions import condition_trials, conditions_from_events

SFREQ = 250.0
SECONDS = 4.0
OCCIPITAL = ("Oz", "O1", "O2", "PO3", "POz", "PO7", "PO8", "PO4")


def _trials(rng, n_trials, freq=None, *, locked=True, amp=1.0, sigma=1.0, n_channels=1, seconds=SECONDS):
    t = np.arange(int(seconds * SFREQ)) / SFREQ
    x = sigma * rng.normal(size=(n_trials, n_channels, t.size))
    if freq is not None:
        phases = np.full(n_trials, 0.3) if locked else rng.uniform(0, 2 * np.pi, n_trials)
        x += amp * np.sin(2 * np.pi * freq * t[None, :] + phases[:, None])[:, None, :]
    return x


def test_known_answer_locked_sinusoid_and_noise(rng):
    n = 40
    table = steady_state_by_condition(
        {"f12": _trials(rng, n, 12.0, amp=0.5, n_channels=2), "noise": _trials(rng, n, n_channels=2)},
        SFREQ, [12.0], ["A", "B"], condition_freqs={"f12": 12.0},
    )
    assert table.conditions == ("f12", "noise") and table.n_trials.tolist() == [n, n]
    # Whole-trial Hann periodogram on a bin, neighbours beyond the main lobe: SNR = 1 + A^2 L / (6 sigma^2)
    expected = 1 + 0.5**2 * SECONDS * SFREQ / 6
    np.testing.assert_allclose(table.snr[0, :, 0], expected, rtol=0.25)
    assert table.skip.tolist() == [1, 1] and table.n_neighbors.tolist() == [8, 8]  # 2 Hz on a 0.25 Hz grid
    assert np.all(table.itc[0] > 0.95) and np.all(table.itc_p[0] < 1e-12)
    assert np.all(np.abs(table.snr[1] - 1) < 0.5)
    assert table.itc_chance[1] == pytest.approx(itc_chance_level(n))
    assert np.all(table.itc[1] < 3 * table.itc_chance[1])


def test_noise_itc_at_chance_and_rayleigh_uniform(rng):
    n, n_channels = 30, 300
    table = steady_state_by_condition({"noise": _trials(rng, n, n_channels=n_channels)}, SFREQ, [10.0, 23.0],
                                      [f"c{i}" for i in range(n_channels)])
    itc, p = table.itc[0], table.itc_p[0]
    assert itc.mean() == pytest.approx(itc_chance_level(n), rel=0.1)
    assert 0.02 < np.mean(p < 0.05) < 0.1
    assert 0.4 < np.mean(p < 0.5) < 0.6
    assert table.snr[0].mean() == pytest.approx(1.0, abs=0.1)
    assert table.classification is None


def test_power_without_phase_locking(rng):
    # random phases per trial: the power SNR sees it, the ITC does not
    table = steady_state_by_condition({"f15": _trials(rng, 30, 15.0, locked=False, amp=0.5)}, SFREQ, [15.0], ["A"])
    assert table.snr[0, 0, 0] > 5
    assert table.itc[0, 0, 0] < 3 * table.itc_chance[0]


def test_classification_and_rows(rng):
    freqs = (11.0, 13.0, 17.0)
    trials = {f"f{f:g}": _trials(rng, 6, f, amp=0.6, n_channels=2) for f in freqs}
    trials["rest"] = _trials(rng, 6, n_channels=2)
    table = steady_state_by_condition(trials, SFREQ, freqs, ["A", "B"],
                                      condition_freqs={f"f{f:g}": f for f in freqs})
    cls = table.classification
    assert cls.classes == ("11Hz", "13Hz", "17Hz", "rest")
    assert cls.truth == ("11Hz", "13Hz", "17Hz", "rest")
    np.testing.assert_array_equal(cls.confusion, 6 * np.eye(4, dtype=int))
    assert cls.accuracy.tolist() == [1.0] * 4 and cls.overall_accuracy == 1.0 and cls.chance == 0.25
    rows = table.rows()
    assert all(set(r) == {"condition", "metric", "band", "component", "value", "unit"} for r in rows)
    per_cell = [r for r in rows if r["metric"] in ("steady_state_snr", "steady_state_itc",
                                                   "steady_state_itc_rayleigh_p")]
    assert len(per_cell) == 3 * 4 * 2 * 3
    snr = {(r["condition"], r["component"], r["band"]): r["value"] for r in rows if r["metric"] == "steady_state_snr"}
    assert snr[("f13", "B", "13Hz")] == table.snr[1, 1, 1]
    acc = [r for r in rows if r["metric"] == "steady_state_classification_accuracy"]
    assert {(r["condition"], r["band"]) for r in acc} == {("f11", "11Hz"), ("f13", "13Hz"), ("f17", "17Hz"),
                                                          ("rest", "rest"), ("", "all")}
    confusion = [r for r in rows if r["metric"] == "steady_state_classification_confusion" and r["value"] > 0]
    assert {(r["condition"], r["band"], r["value"]) for r in confusion} == {
        ("f11", "11Hz", 6.0), ("f13", "13Hz", 6.0), ("f17", "17Hz", 6.0), ("rest", "rest", 6.0)}
    n_trials = {r["condition"]: r["value"] for r in rows if r["metric"] == "steady_state_n_trials"}
    assert n_trials == {"f11": 6.0, "f13": 6.0, "f17": 6.0, "rest": 6.0}
    assert {r["unit"] for r in rows} == {"1"}
    assert table.best_channel("f13", 13.0)[0] in ("A", "B")


def test_condition_frequency_added_and_lengths_differ(rng):
    table = steady_state_by_condition(
        {"a": _trials(rng, 5, 9.0, seconds=4.0), "b": _trials(rng, 1, 14.0, seconds=3.0)},
        SFREQ, [9.0], ["A"], condition_freqs={"a": 9.0, "b": 14.0},
    )
    assert table.freqs.tolist() == [9.0, 14.0]  # b's own frequency is analysed too
    assert np.isnan(table.itc[1]).all() and np.isnan(table.itc_chance[1])
    assert "b: one trial, no ITC" in table.notes
    assert any("cut to the shortest condition's 3 s" in n for n in table.notes)
    assert table.classification is not None and table.classification.classes == ("9Hz", "14Hz")
    assert freq_label(40.018) == "40.018Hz"


def test_errors(rng):
    ok = _trials(rng, 4, n_channels=2)
    with pytest.raises(ParameterError, match="2 channels in the trials but 1 channel names"):
        steady_state_by_condition({"a": ok}, SFREQ, [10.0], ["A"])
    bad = ok.copy()
    bad[0, 0, 3] = np.nan
    with pytest.raises(DataQualityError, match="condition 'a': trials contain NaN"):
        steady_state_by_condition({"a": bad}, SFREQ, [10.0], ["A", "B"])
    with pytest.raises(ParameterError, match="Nyquist"):
        steady_state_by_condition({"a": ok}, SFREQ, [125.0], ["A", "B"])
    with pytest.raises(ParameterError, match="positive"):
        steady_state_by_condition({"a": ok}, SFREQ, [-3.0], ["A", "B"])
    with pytest.raises(ParameterError, match="at least one frequency"):
        steady_state_by_condition({"a": ok}, SFREQ, [], ["A", "B"])
    with pytest.raises(ParameterError, match="condition_freqs names 'z'"):
        steady_state_by_condition({"a": ok}, SFREQ, [10.0], ["A", "B"], condition_freqs={"z": 3.0})
    with pytest.raises(ParameterError, match="condition 'a': SNR at 1 Hz needs"):
        steady_state_by_condition({"a": ok}, SFREQ, [1.0], ["A", "B"])
    with pytest.raises(ParameterError, match="at least one condition"):
        steady_state_by_condition({}, SFREQ, [10.0], ["A"])
    with pytest.raises(ParameterError, match="no trials"):
        steady_state_by_condition({"a": ok[:0]}, SFREQ, [10.0], ["A", "B"])


# --------------------------------------------------------------------------- real recordings


@pytest.mark.real_data
def test_ssvep_exo_acceptance(shared_data):
    """Issue 11, acceptance 2: the four classes as conditions on ssvep_exo_s01.

    README: code 1 = rest, 2 = 13 Hz, 3 = 21 Hz, 4 = 17 Hz; 8 trials of 5 s each.
    """
    raw = load_eeg(shared_data / "ssvep_exo_s01_raw.fif", preload=False, verbose=False)
    conds = conditions_from_events(raw, "rest=1,f13=2,f21=3,f17=4", tmax=5.0,
                                   events=shared_data / "ssvep_exo_s01-eve.fif")
    assert tuple(raw.ch_names) == OCCIPITAL
    table = steady_state_by_condition({c.name: condition_trials(raw, c) for c in conds}, raw.info["sfreq"],
                                      [13.0, 17.0, 21.0], raw.ch_names,
                                      condition_freqs={c.name: c.frequency for c in conds})
    freqs = table.freqs.tolist()
    assert freqs == [13.0, 17.0, 21.0]
    stim = [c for c in conds if c.frequency is not None]
    for cond in stim:
        ch, best = table.best_channel(cond.name, cond.frequency)
        j, k = table.ch_names.index(ch), freqs.index(cond.frequency)
        at_best = {f: table.snr[table.index(c.name), j, k] for c in stim for f in [c.frequency]}
        print(f"\n{cond.name}: best channel {ch}, SNR at 13/17/21 Hz = "
              f"{np.round(table.snr[table.index(cond.name), j], 2).tolist()}, ITC at {cond.frequency:g} Hz = "
              f"{table.itc[table.index(cond.name), j, k]:.2f} (chance {table.itc_chance[0]:.2f})")
        # On that channel, its frequency's SNR is largest in its own condition among the three stimulation ones
        assert max(at_best, key=at_best.get) == cond.frequency, at_best
        assert best > 2.0
    # README, best channel: 17 Hz ~ 10, 21 Hz ~ 6: own frequency far above the two others in its condition
    for name in ("f17", "f21"):
        c = table.index(name)
        j = table.ch_names.index(table.best_channel(name, conds[c].frequency)[0])
        assert int(np.argmax(table.snr[c, j])) == freqs.index(conds[c].frequency)
        assert table.snr[c, j].max() > 2 * np.sort(table.snr[c, j])[-2]
    # Rest (no flicker) is the negative control: no SNR above 2 anywhere
    assert table.snr[table.index("rest")].max() < 2.0
    cls = table.classification
    print(f"classification accuracy {cls.overall_accuracy:.2f} (chance {cls.chance:.2f}); classes {cls.classes}; "
          f"confusion\n{cls.confusion}")
    assert cls.overall_accuracy >= 0.75 and cls.chance == 0.25


@pytest.mark.real_data
def test_eegmmidb_per_condition_rows(shared_data):
    """Issue 11, acceptance 2: rest/left/right rows with the README's trial counts (T0 x15, T1 x8, T2 x7)."""
    raw = load_eeg(shared_data / "eegmmidb_S001R04.edf", preload=False, verbose=False)
    conds = conditions_from_events(raw, "rest=T0,left=T1,right=T2")
    picks = ["C3", "Cz", "C4", "Oz"]
    table = steady_state_by_condition({c.name: condition_trials(raw, c, picks=picks) for c in conds},
                                      raw.info["sfreq"], [10.0], picks)
    n_trials = {r["condition"]: r["value"] for r in table.rows() if r["metric"] == "steady_state_n_trials"}
    assert n_trials == {"rest": 15, "left": 8, "right": 7}
    assert table.classification is None
    assert not raw.preload


@pytest.mark.real_data
def test_muse_ssvep_aux(shared_data):
    """README: marker 2 = 20 Hz gives SNR ~ 5.8 and ITC ~ 0.68 on AUX/POz (chance ~ 0.24); marker 1 = 30 Hz."""
    raw = load_eeg(shared_data / "eegnb_muse_ssvep_s1_2017-09-14-21.20.04.csv", verbose=False)
    m1, m2 = conditions_from_events(raw, "m1=1@30Hz,m2=2@20Hz", tmax=3.0)
    table = steady_state_by_condition({c.name: condition_trials(raw, c, picks=["Right AUX"]) for c in (m1, m2)},
                                      raw.info["sfreq"], [20.0, 30.0], ["Right AUX"], classify=False)
    snr, itc = table.snr[:, 0, :], table.itc[:, 0, :]
    print(f"\nMuse AUX SNR (rows m1, m2; cols 20, 30 Hz):\n{np.round(snr, 2)}\nITC:\n{np.round(itc, 2)}")
    assert snr[1, 0] > 3 and snr[1, 0] > 3 * snr[0, 0]  # 20 Hz in the 20 Hz trials only
    assert snr[0, 1] > 3 and snr[0, 1] > 3 * snr[1, 1]  # 30 Hz in the 30 Hz trials only
    assert itc[1, 0] > 2 * table.itc_chance[1] and table.itc_p[1, 0, 0] < 1e-3
