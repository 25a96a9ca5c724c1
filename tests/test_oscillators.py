"""Kuramoto and Stuart-Landau networks: theory checks (issue 6, acceptance 1 and 2), determinism, memory."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from harmonix.errors import ParameterError
from harmonix.estimators.adler import fit_adler
from harmonix.simulate.oscillators import (
    Hebbian,
    lorentzian_quantiles,
    simulate_kuramoto,
    simulate_stuart_landau,
)
from harmonix.simulate.schedules import HeatHoldCool

G_HALF_WIDTH = 0.5  # Lorentzian half-width g (rad/s); K_c = 2g = 1
N_KURAMOTO = 2000


def _stationary_r(coupling: float) -> float:
    omega = lorentzian_quantiles(N_KURAMOTO, G_HALF_WIDTH)
    res = simulate_kuramoto(omega, duration=200.0, dt=0.05, coupling=coupling, record_every=10, seed=1)
    return float(res.order[len(res.order) // 2 :].mean())


@pytest.mark.parametrize("coupling", [1.5, 2.0, 3.0])
def test_kuramoto_order_parameter_matches_sqrt_law_above_threshold(coupling):
    # Kuramoto (1984), Strogatz (2000) eq. for Lorentzian g(w): r = sqrt(1 - 2g/K) for K > K_c = 2g
    theory = np.sqrt(1.0 - 2.0 * G_HALF_WIDTH / coupling)
    r = _stationary_r(coupling)
    assert abs(r - theory) < 0.03, (coupling, r, theory)


@pytest.mark.parametrize("coupling", [0.5, 0.8])
def test_kuramoto_incoherent_below_threshold(coupling):
    assert _stationary_r(coupling) < 0.1


def test_lorentzian_quantiles_are_symmetric_with_median_zero():
    omega = lorentzian_quantiles(1000, 0.5)
    assert np.allclose(omega, -omega[::-1])
    # the quartiles of a Cauchy(0, g) are -g and +g
    assert np.quantile(omega, 0.75) == pytest.approx(0.5, rel=0.01)


def _pair(dw, coupling, temperature, seed=3, duration=100.0):
    return simulate_kuramoto(
        np.array([dw / 2, -dw / 2]), duration=duration, dt=1e-3, coupling=coupling,
        temperature=temperature, seed=seed, initial=[0.0, 0.0],
    )


@pytest.mark.parametrize("coupling,locked", [(5.5, True), (4.5, False), (8.0, True), (3.0, False)])
def test_pair_locks_iff_detuning_below_coupling(coupling, locked):
    dw = 5.0
    res = _pair(dw, coupling, 0.0)
    phi = np.unwrap(res.states[:, 0] - res.states[:, 1])
    tail = slice(len(phi) // 2, None)
    slip_hz = (phi[tail][-1] - phi[tail][0]) / (2 * np.pi * (res.times[tail][-1] - res.times[tail][0]))
    if locked:
        assert abs(slip_hz) < 1e-3
        assert np.sin(phi[-1]) == pytest.approx(dw / coupling, abs=1e-3)  # Adler fixed point
    else:
        assert slip_hz == pytest.approx(np.sqrt(dw**2 - coupling**2) / (2 * np.pi), rel=0.02)


@pytest.mark.parametrize("coupling", [8.0, 3.0])
def test_fit_adler_recovers_detuning_and_coupling_from_noisy_simulation(coupling):
    dw = 5.0
    res = _pair(dw, coupling, 0.1)
    fit = fit_adler(res.states[:, 0], res.states[:, 1], res.sfreq)
    assert fit.dw == pytest.approx(dw, rel=0.10)
    assert fit.K == pytest.approx(coupling, rel=0.10)
    assert fit.locked == (abs(dw) < coupling)
    # phase diffusion of the difference: D = 2T (two independent noises)
    assert fit.diffusion == pytest.approx(0.2, rel=0.15)


def test_network_form_equals_mean_field_form():
    omega = np.array([1.0, -0.5, 0.3])
    kw = dict(duration=2.0, dt=1e-3, coupling=1.3, temperature=0.2, seed=4, record_every=7)
    mf = simulate_kuramoto(omega, **kw)
    net = simulate_kuramoto(omega, weights=np.full((3, 3), 1 / 3), **kw)
    assert np.allclose(mf.states, net.states, atol=1e-9)
    # the network form drops the diagonal: E_net = -(K/2)(r^2 - 1/N)
    assert np.allclose(mf.energy, net.energy - 1.3 / (2 * 3), atol=1e-9)
    assert np.allclose(mf.order, net.order, atol=1e-12)


def test_delayed_pair_synchronises_at_delay_shifted_frequency():
    # identical pair, delay tau: in-phase solution Omega = w - K sin(Omega tau) (stable when K cos(Omega tau) > 0)
    w0, coupling, tau = 10.0, 1.0, 0.05
    res = simulate_kuramoto(
        np.array([w0, w0]), duration=40.0, dt=1e-3, coupling=coupling,
        weights=np.array([[0.0, 1.0], [1.0, 0.0]]), delays=np.full((2, 2), tau), initial=[0.0, 0.3],
    )
    expected = brentq(lambda x: x - w0 + coupling * np.sin(x * tau), 5.0, 15.0)
    phase = np.unwrap(res.states[:, 0])
    half = len(phase) // 2
    measured = (phase[-1] - phase[half]) / (res.times[-1] - res.times[half])
    assert measured == pytest.approx(expected, rel=1e-3)
    assert res.order[-1] > 0.999
    assert res.params["max_delay_steps"] == 50


def test_tract_lengths_give_delays_by_speed():
    lengths = np.array([[0.0, 30.0], [30.0, 0.0]])  # mm
    res = simulate_kuramoto(np.zeros(2), duration=0.1, dt=1e-3, weights=np.ones((2, 2)), tract_lengths=lengths, speed=3.0)
    assert res.params["max_delay_steps"] == 10  # 30 mm / 3 m/s = 10 ms


def test_forced_oscillator_entrains_inside_arnold_tongue():
    # single phase oscillator, forcing A e^{i Omega t}: dtheta/dt = w + A sin(Omega t - theta); locks iff |w - Omega| < A
    big = 2 * np.pi * 10.0

    def force(times):
        return 2.0 * np.exp(1j * big * times)

    for w, locks in ((big + 1.5, True), (big + 2.5, False)):
        res = simulate_kuramoto(np.array([w]), duration=20.0, dt=1e-4, drive=force, record_every=10, initial=[0.0])
        rel = np.unwrap(res.states[:, 0] - big * res.times)
        drift = (rel[-1] - rel[len(rel) // 2]) / (res.times[-1] - res.times[len(rel) // 2])
        assert (abs(drift) < 0.05) == locks


def test_stuart_landau_limit_cycle_amplitude_and_frequency():
    a, f = 4.0, 40.0
    res = simulate_stuart_landau(np.array([2 * np.pi * f]), duration=2.0, dt=1e-4, a=a, record_every=1, seed=0)
    assert abs(res.states[-1, 0]) ** 2 == pytest.approx(a, rel=1e-3)
    assert res.energy[-1] == pytest.approx(a, rel=1e-3)
    ph = np.unwrap(np.angle(res.states[-5000:, 0]))
    assert (ph[-1] - ph[0]) / (res.times[-1] - res.times[-5000]) == pytest.approx(2 * np.pi * f, rel=1e-4)


def test_stuart_landau_noise_variance_matches_ornstein_uhlenbeck():
    # a < 0, small noise: linear OU, stationary E|z|^2 = 2 * (2T) / (2 |a|) = 2T/|a|
    a, temperature = -20.0, 0.05
    res = simulate_stuart_landau(np.full(50, 2 * np.pi * 10), duration=5.0, dt=1e-4, a=a, coupling=0.0,
                                 temperature=temperature, record_every=20, seed=2, initial=np.zeros(50))
    power = res.energy[len(res.energy) // 5 :].mean()
    assert power == pytest.approx(2 * temperature / abs(a), rel=0.1)


def test_stuart_landau_pair_locks_with_strong_coupling_only():
    omega = 2 * np.pi * np.array([10.0, 10.5])
    kw = dict(duration=10.0, dt=1e-4, a=1.0, weights=np.array([[0, 1.0], [1.0, 0]]), record_every=10, seed=1)
    strong = simulate_stuart_landau(omega, coupling=10.0, **kw)
    weak = simulate_stuart_landau(omega, coupling=0.5, **kw)
    assert strong.order[-2000:].min() > 0.9
    assert weak.order[-2000:].min() < 0.2


def test_same_seed_same_output_and_different_seed_differs():
    kw = dict(duration=0.5, dt=1e-3, coupling=1.0, weights=np.full((5, 5), 0.2), delays=np.full((5, 5), 0.004),
              temperature=0.3, record_every=3)
    one = simulate_stuart_landau(np.arange(5.0), seed=11, **kw)
    two = simulate_stuart_landau(np.arange(5.0), seed=11, **kw)
    other = simulate_stuart_landau(np.arange(5.0), seed=12, **kw)
    assert np.array_equal(one.states, two.states) and np.array_equal(one.energy, two.energy)
    assert not np.array_equal(one.states, other.states)


@pytest.mark.parametrize("model", [simulate_kuramoto, simulate_stuart_landau])
def test_records_depend_on_record_every_not_on_blocking(model):
    kw = dict(duration=1.0, dt=1e-3, coupling=1.0, weights=np.full((4, 4), 0.25), delays=np.full((4, 4), 0.01),
              temperature=0.2, seed=5)
    full = model(np.arange(4.0), record_every=1, **kw)
    sparse = model(np.arange(4.0), record_every=10, **kw)
    tiny_blocks = model(np.arange(4.0), record_every=10, block_elements=24, **kw)  # 3-step noise blocks
    assert full.states.shape == (1000, 4) and sparse.states.shape == (100, 4)
    assert np.allclose(sparse.states, full.states[9::10], atol=1e-12)
    assert np.array_equal(sparse.states, tiny_blocks.states)
    assert np.allclose(sparse.times, np.arange(1, 101) * 0.01)


def test_hebbian_plasticity_learns_while_hot_and_freezes_when_cold():
    omega = np.full(3, 2 * np.pi * 5)
    weights = np.full((3, 3), 0.2)
    rule = Hebbian(rate=2.0, w_max=1.0, T_threshold=0.05)
    kw = dict(duration=4.0, dt=1e-3, coupling=2.0, weights=weights, plasticity=rule, seed=0, record_every=100)
    cold = simulate_kuramoto(omega, temperature=0.01, **kw)
    assert cold.coupling_change == 0.0
    assert np.array_equal(cold.weights_after, cold.weights_before)
    hot = simulate_kuramoto(omega, temperature=0.1, **kw)
    off_diag = ~np.eye(3, dtype=bool)
    # synchronised identical oscillators: weights grow towards w_max * cos(0) = 1
    assert hot.weights_after[off_diag].min() > 0.9
    assert hot.coupling_change > 1.0
    # heat, hold, cool below threshold: learning stops when T drops
    sched = HeatHoldCool(t_heat=0.0, t_hold=1.0, t_cool=0.5, T_start=0.2, T_high=0.2, T_end=0.0)
    annealed = simulate_kuramoto(omega, temperature=sched, **kw)
    short = simulate_kuramoto(omega, temperature=sched, **{**kw, "duration": 1.5})
    assert np.allclose(annealed.weights_after, short.weights_after)


def test_stuart_landau_plasticity_reports_coupling_change():
    res = simulate_stuart_landau(np.full(4, 2 * np.pi * 10), duration=1.0, dt=1e-3, a=1.0, coupling=5.0,
                                 weights=np.full((4, 4), 0.3), plasticity=Hebbian(rate=1.0), temperature=0.01, seed=0)
    assert res.coupling_change > 0
    assert np.all(res.weights_after <= 1.0) and np.all(res.weights_after >= 0.0)


def test_drive_gain_injects_into_chosen_regions_only():
    gain = np.array([1.0, 0.0, 0.0])
    res = simulate_stuart_landau(np.full(3, 2 * np.pi * 10), duration=1.0, dt=1e-4, a=-10.0, coupling=0.0,
                                 drive=lambda t: np.cos(2 * np.pi * 10 * t), drive_gain=gain, record_every=10,
                                 initial=np.zeros(3))
    amp = np.abs(res.states[-1000:]).mean(axis=0)
    assert amp[0] > 0.01 and np.all(amp[1:] == 0.0)


def test_result_is_frozen_and_readonly():
    res = simulate_kuramoto(np.zeros(3), duration=0.1, dt=0.01, seed=0)
    with pytest.raises((AttributeError, TypeError)):
        res.model = "x"
    with pytest.raises(ValueError):
        res.states[0, 0] = 1.0


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(dt=0.0),
        dict(dt=-1.0),
        dict(duration=float("nan")),
        dict(record_every=0),
        dict(record_every=10**9),
        dict(weights=np.ones((2, 2))),
        dict(weights=-np.ones((3, 3))),
        dict(delays=np.ones((3, 3))),  # delays without weights
        dict(temperature=-1.0),
        dict(temperature="hot"),
        dict(drive=np.ones(7)),
        dict(initial=np.zeros(2)),
        dict(weights=np.ones((3, 3)), delays=np.ones((3, 3)), tract_lengths=np.ones((3, 3))),
    ],
)
def test_bad_parameters_raise_parameter_error(kwargs):
    base = dict(duration=1.0, dt=0.01)
    with pytest.raises(ParameterError):
        simulate_kuramoto(np.zeros(3), **{**base, **kwargs})


def test_stuart_landau_rejects_negative_damping():
    with pytest.raises(ParameterError, match="damping"):
        simulate_stuart_landau(np.zeros(2), duration=1.0, dt=0.01, damping=-1.0)


# ---------------------------------------------------------------------------
# the compiled kernels against plain NumPy loops of the documented scheme
# ---------------------------------------------------------------------------


def _small_network(n=7, seed=0):
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.1, 1.0, (n, n)) * (rng.random((n, n)) < 0.7)
    steps = rng.integers(0, 40, (n, n))
    steps[0, 1] = steps[2, 3] = 0  # instantaneous and very short edges next to long ones
    steps[1, 0] = steps[3, 2] = 1
    return weights, steps


def _delayed_states(history, g, steps):
    """z_j(t_g - d_ij) for all i, j; the history before t = 0 is the initial state."""
    rows = np.maximum(g - steps, 0)
    return history[rows, np.arange(steps.shape[1])[None, :]]


def _reference_stuart_landau(omega, weights, steps, *, dt, n_steps, a, damping, coupling, temperature, seed, drive):
    rng = np.random.default_rng(seed)
    n = omega.size
    z = np.exp(1j * rng.uniform(-np.pi, np.pi, n))
    w = weights.copy()
    np.fill_diagonal(w, 0.0)
    lin = np.exp((a - damping + 1j * omega) * dt)
    noise = rng.standard_normal((n_steps, 2 * n)).view(np.complex128)  # one stream, whatever the blocks
    history = np.empty((n_steps + 1, n), dtype=complex)
    history[0] = z
    for g in range(n_steps):
        delayed = _delayed_states(history, g, steps)
        rhs = coupling * ((w * delayed).sum(axis=1) - w.sum(axis=1) * z) - np.abs(z) ** 2 * z + drive(g * dt)
        z = lin * (z + dt * rhs + np.sqrt(2 * temperature * dt) * noise[g])
        history[g + 1] = z
    return history[1:]


def _reference_kuramoto(omega, weights, steps, *, dt, n_steps, coupling, temperature, seed, drive):
    rng = np.random.default_rng(seed)
    n = omega.size
    theta = rng.uniform(-np.pi, np.pi, n)
    w = weights.copy()
    np.fill_diagonal(w, 0.0)
    noise = rng.standard_normal((n_steps, n))
    history = np.empty((n_steps + 1, n))
    history[0] = theta
    for g in range(n_steps):
        delayed = _delayed_states(history, g, steps)
        force = drive(g * dt)
        rate = omega + coupling * (w * np.sin(delayed - theta[:, None])).sum(axis=1)
        rate += np.imag(force * np.exp(-1j * theta))
        theta = theta + dt * rate + np.sqrt(2 * temperature * dt) * noise[g]
        history[g + 1] = theta
    return history[1:]


@pytest.mark.parametrize("blocks", [None, (1, 1), (8, 2), (16, 4), (64, 16)])
def test_stuart_landau_kernel_matches_numpy_reference_loop(blocks, monkeypatch):
    from harmonix.simulate import _kernels

    if blocks is not None:  # force the block split (long / middle / short edges) the cost model would pick
        monkeypatch.setattr(_kernels, "_block_sizes", lambda delay, n: blocks)
    weights, steps = _small_network()
    n, dt, n_steps = weights.shape[0], 1e-3, 400
    omega = 2 * np.pi * np.linspace(8.0, 12.0, n)
    a, damping = np.linspace(-2.0, 1.0, n), np.r_[0.5, np.zeros(n - 1)]

    def drive(t):
        return 0.3 * np.cos(2 * np.pi * 9.0 * np.asarray(t))

    gain = np.r_[1.0, 0.0, 0.5, np.zeros(n - 3)]
    res = simulate_stuart_landau(omega, duration=n_steps * dt, dt=dt, a=a, damping=damping, coupling=3.0,
                                 weights=weights, delays=steps * dt, temperature=0.2, drive=drive, drive_gain=gain,
                                 record_every=3, seed=9, block_elements=5 * 2 * n)  # 5-step noise blocks
    ref = _reference_stuart_landau(omega, weights, steps, dt=dt, n_steps=n_steps, a=a, damping=damping, coupling=3.0,
                                   temperature=0.2, seed=9, drive=lambda t: drive(t) * gain)
    assert res.params["max_delay_steps"] == steps[weights > 0].max()
    np.testing.assert_allclose(res.states, ref[2::3], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.energy, (np.abs(ref[2::3]) ** 2).mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(res.order, np.abs(np.exp(1j * np.angle(ref[2::3])).mean(axis=1)), atol=1e-12)


@pytest.mark.parametrize("blocks", [None, (1, 1), (16, 4)])
def test_kuramoto_kernel_matches_numpy_reference_loop(blocks, monkeypatch):
    from harmonix.simulate import _kernels

    if blocks is not None:
        monkeypatch.setattr(_kernels, "_block_sizes", lambda delay, n: blocks)
    weights, steps = _small_network(seed=1)
    n, dt, n_steps = weights.shape[0], 1e-3, 400
    omega = np.linspace(5.0, 9.0, n)

    def drive(t):
        return 0.8 * np.exp(1j * 7.0 * np.asarray(t))

    res = simulate_kuramoto(omega, duration=n_steps * dt, dt=dt, coupling=4.0, weights=weights, delays=steps * dt,
                            temperature=0.3, drive=drive, record_every=4, seed=2, block_elements=7 * n)
    ref = _reference_kuramoto(omega, weights, steps, dt=dt, n_steps=n_steps, coupling=4.0, temperature=0.3, seed=2,
                              drive=drive)[3::4]
    assert np.max(np.abs(np.angle(np.exp(1j * (res.states - ref))))) < 1e-11
    np.testing.assert_allclose(res.order, np.abs(np.exp(1j * ref).mean(axis=1)), atol=1e-12)
    w = weights.copy()
    np.fill_diagonal(w, 0.0)
    energy = -0.5 * 4.0 * (w[None] * np.cos(ref[:, None, :] - ref[:, :, None])).sum(axis=(1, 2)) / n
    np.testing.assert_allclose(res.energy, energy, atol=1e-11)


def test_compiled_normals_are_numpys_standard_normal():
    from harmonix.simulate.pcg64 import standard_normal as _standard_normal

    for seed in range(3):
        ours, numpys = np.random.default_rng(seed), np.random.default_rng(seed)
        ours.integers(0, 10, dtype=np.uint32)  # a buffered 32-bit half must survive, as in NumPy
        numpys.integers(0, 10, dtype=np.uint32)
        for shape in [(1000, 152), 1, 7, (3, 5), 0, 200_000]:  # 200 000 draws reach the rare tail branch
            assert np.array_equal(_standard_normal(ours, shape), numpys.standard_normal(shape))
            assert ours.bit_generator.state == numpys.bit_generator.state
    other = np.random.Generator(np.random.MT19937(4))  # another bit generator: NumPy's own draws
    assert np.array_equal(_standard_normal(other, 9), np.random.Generator(np.random.MT19937(4)).standard_normal(9))


@pytest.mark.parametrize("model", [simulate_kuramoto, simulate_stuart_landau])
def test_noise_drawn_in_the_kernel_equals_noise_drawn_by_numpy(model, monkeypatch):
    from harmonix.simulate import _kernels

    weights, steps = _small_network(seed=3)
    kw = dict(duration=0.3, dt=1e-3, coupling=2.0, weights=weights, delays=steps * 1e-3, temperature=0.2,
              record_every=2)
    gen_fast, gen_numpy = np.random.default_rng(8), np.random.default_rng(8)
    fast = model(np.arange(7.0), seed=gen_fast, **kw)
    monkeypatch.setattr(_kernels, "_fast_normals", lambda rng: False)  # pre-drawn Generator.standard_normal
    slow = model(np.arange(7.0), seed=gen_numpy, **kw)
    assert np.array_equal(fast.states, slow.states)
    assert gen_fast.bit_generator.state == gen_numpy.bit_generator.state  # a caller's generator advances alike


@pytest.mark.parametrize("model", [simulate_kuramoto, simulate_stuart_landau])
def test_plasticity_with_cooling_does_not_depend_on_blocks(model):
    # learning switches off part-way (T falls below the threshold): every-step and blocked gathers must agree
    weights, steps = _small_network(seed=4)
    sched = HeatHoldCool(t_heat=0.0, t_hold=0.2, t_cool=0.2, T_start=0.3, T_high=0.3, T_end=0.0)
    kw = dict(duration=0.6, dt=1e-3, coupling=2.0, weights=weights, delays=steps * 1e-3, temperature=sched,
              plasticity=Hebbian(rate=3.0, T_threshold=0.1), record_every=5, seed=6)
    one = model(np.linspace(5.0, 8.0, 7), **kw)
    tiny = model(np.linspace(5.0, 8.0, 7), block_elements=14 * 3, **kw)
    assert np.array_equal(one.states, tiny.states)
    assert np.array_equal(one.weights_after, tiny.weights_after)
    assert one.coupling_change > 0
