"""Energy sinks that grow with predictable input (harmonix.simulate.sinks) and their effect in simulations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from harmonix.errors import ParameterError
from harmonix.simulate.run import simulate_recording
from harmonix.simulate.sinks import dominant_period, predictive_sink

SFREQ = 1000.0


def test_periodic_drive_is_cancelled_to_one_minus_strength_with_time_constant_tau():
    t = np.arange(0, 40, 1 / SFREQ)
    pulses = (np.arange(t.size) % 25 < 2).astype(float)  # a 40 Hz click envelope
    result = predictive_sink(pulses - pulses.mean(), SFREQ, strength=0.7, tau=4.0)
    assert result.period == pytest.approx(0.025)
    assert result.gain[-1] == pytest.approx(0.7, abs=0.01)
    late = np.abs(result.drive[-1000:]).max() / np.abs(pulses - pulses.mean())[-1000:].max()
    assert late == pytest.approx(0.3, abs=0.02)
    # learned over tau: after one tau the gain is between 50 % and 1 - 1/e of its final value, after 5 tau above 99 %
    assert 0.5 < result.gain[t.searchsorted(4.0)] / 0.7 < 0.64
    assert result.gain[t.searchsorted(20.0)] / 0.7 > 0.99


def test_unpredictable_drive_passes():
    noise = np.random.default_rng(3).standard_normal(40 * int(SFREQ))
    result = predictive_sink(noise, SFREQ, strength=0.9, tau=2.0, period=0.1)
    assert result.gain.max() < 0.05
    assert np.std(result.drive[-5000:]) == pytest.approx(np.std(noise[-5000:]), rel=0.05)


def test_a_drive_that_becomes_predictable_is_cancelled_only_then():
    t = np.arange(0, 60, 1 / SFREQ)
    rng = np.random.default_rng(1)
    drive = np.where(t < 30, rng.standard_normal(t.size), np.sin(2 * np.pi * 6 * t) * np.sqrt(2))
    result = predictive_sink(drive, SFREQ, strength=0.8, tau=3.0, period=1 / 6)
    assert result.gain[t < 30].max() < 0.05
    assert result.gain[-1] == pytest.approx(0.8, abs=0.02)


def test_dominant_period_and_bad_input():
    t = np.arange(0, 5, 1 / SFREQ)
    assert dominant_period(np.sin(2 * np.pi * 7 * t), SFREQ) == pytest.approx(1 / 7, abs=1 / SFREQ)
    with pytest.raises(ParameterError, match="strength"):
        predictive_sink(np.sin(t), SFREQ, strength=1.5)
    with pytest.raises(ParameterError, match="finite"):
        predictive_sink(np.array([0.0, np.nan, 1.0]), SFREQ, strength=0.5)
    with pytest.raises(ParameterError, match="too short"):
        dominant_period(np.ones(10), SFREQ)


def _power_at(raw, freq: float, start: float) -> float:
    x = raw.get_data()[:, int(start * raw.info["sfreq"]):]
    f, p = scipy.signal.welch(x, raw.info["sfreq"], nperseg=int(2 * raw.info["sfreq"]))
    return float(p[:, np.argmin(np.abs(f - freq))].mean())


def test_sink_lowers_the_40hz_response_of_the_wave_model_once_learned():
    plain = simulate_recording("wave", seconds=24, protocol="gamma-40hz", seed=2)
    sunk = simulate_recording("wave", seconds=24, protocol="gamma-40hz", seed=2, sink=0.9, sink_tau=3.0)
    assert _power_at(sunk.raw, 40.0, 14.0) < 0.1 * _power_at(plain.raw, 40.0, 14.0)
    gain = sunk.traces["sink_gain"]
    assert gain[int(0.5 * 250)] < 0.3 < 0.85 < gain[-1]
    assert sunk.params["sink"] == {"strength": 0.9, "tau_s": 3.0} and plain.params["sink"] is None


def test_sink_without_a_drive_is_an_error():
    with pytest.raises(ParameterError, match="--protocol"):
        simulate_recording("stuart-landau", seconds=2, sink=0.5)
