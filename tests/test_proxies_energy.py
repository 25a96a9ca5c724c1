"""Energy-parameter proxy: harmonic energy trace and annealing-episode detection."""

from __future__ import annotations

import numpy as np
import pytest

from harmonix.errors import ParameterError
from harmonix.proxies.energy import detect_episodes, harmonic_energy_trace


def test_energy_trace_is_weighted_sum_of_squared_amplitudes():
    eigenvalues = np.array([0.0, 1.0, 2.0])
    coefficients = np.tile(np.array([[5.0], [3.0], [1.0]]), (1, 1000)) * np.exp(1j * np.linspace(0, 50, 1000))
    times, energy = harmonic_energy_trace(coefficients, eigenvalues, 100.0, window_seconds=2.0)
    assert times.tolist() == [1.0, 3.0, 5.0, 7.0, 9.0]
    np.testing.assert_allclose(energy, 0 * 25 + 1 * 9 + 4 * 1)


def _planted_trace(rng, onset=200.0, tau=30.0, height=4.0, n=600):
    t = np.arange(n, dtype=float)
    rise = np.clip((t - (onset - 10)) / 10, 0, 1) * (t < onset)
    decay = np.exp(-(t - onset) / tau) * (t >= onset)
    return t, 1.0 + height * (rise + decay) + 0.1 * rng.standard_normal(n)


def test_planted_episode_is_found_with_its_cooling_constant(rng):
    t, energy = _planted_trace(rng)
    found = detect_episodes(t, energy, smooth_seconds=3, min_duration=5)
    assert len(found.episodes) == 1
    episode = found.episodes[0]
    assert 185 <= episode.onset <= 200 and abs(episode.peak_time - 200) <= 3
    assert episode.cooling_tau == pytest.approx(30.0, rel=0.15)
    assert episode.cooling_r_squared > 0.9


def test_slower_cooling_gives_longer_tau(rng):
    taus = [detect_episodes(*_planted_trace(rng, tau=tau)).episodes[0].cooling_tau for tau in (10.0, 40.0, 80.0)]
    assert taus[0] < taus[1] < taus[2]


def test_stationary_noise_rarely_has_episodes():
    false_alarms = 0
    for seed in range(20):
        noise = 1.0 + 0.1 * np.random.default_rng(seed).standard_normal(600)
        false_alarms += len(detect_episodes(np.arange(600.0), noise).episodes)
    assert false_alarms <= 2


def test_bad_traces_are_refused():
    with pytest.raises(ParameterError, match="NaN"):
        detect_episodes(np.arange(10.0), np.r_[np.ones(9), np.nan])
    with pytest.raises(ParameterError, match="n_modes"):
        harmonic_energy_trace(np.ones((3, 100)), np.ones(2), 10.0)
