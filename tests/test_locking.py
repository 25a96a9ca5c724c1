"""Known-answer tests for harmonix.estimators.locking."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from harmonix.errors import DataQualityError, HarmonixError, ParameterError
from harmonix.estimators.adler import fit_adler
from harmonix.estimators.frequency_ratios import frequency_ratio_decoupling
from harmonix.estimators.locking import (
    GOLDEN_RATIO,
    band_plv_over_time,
    nm_orders,
    nm_plv,
    pairwise_phase_consistency,
    plv_matrix,
    plv_over_time,
    plv_over_trials,
    ppc_from_plv,
    rayleigh_test,
)
from harmonix.spectral.bands import Band
from harmonix.spectral.filterbank import analytic_signal

SFREQ = 250.0
TWO_PI = 2 * np.pi


def simulate_adler(dw, K, D, duration, rng, *, sfreq=SFREQ, substeps=4, phi0=0.0):
    """Euler-Maruyama for dphi/dt = dw - K sin(phi) + sqrt(2D) xi, sampled at sfreq.

    dw, K, D, phi0 broadcast: several independent trajectories in columns.
    Returns (n_times, n_traj).
    """
    dw, K, D, phi = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, float)) for v in (dw, K, D, phi0)))
    phi = phi.copy()
    dt = 1.0 / (sfreq * substeps)
    amp = np.sqrt(2 * D * dt)
    n = int(round(duration * sfreq))
    out = np.empty((n, phi.size))
    for i in range(n):
        out[i] = phi
        for _ in range(substeps):
            phi = phi + (dw - K * np.sin(phi)) * dt + amp * rng.standard_normal(phi.size)
    return out


def as_oscillator_pair(phi, f_b=10.0, sfreq=SFREQ):
    """Wrapped phases of two 10 Hz-ish oscillators whose difference is phi."""
    t = np.arange(len(phi)) / sfreq
    return np.angle(np.exp(1j * (TWO_PI * f_b * t + phi))), np.angle(np.exp(1j * TWO_PI * f_b * t))


def adler_exact(dw, K, t, phi0=0.0, sfreq=SFREQ):
    """Noise-free trajectory by scipy's ODE solver at tight tolerance."""
    from scipy.integrate import solve_ivp

    sol = solve_ivp(lambda _t, p: dw - K * np.sin(p), (0, t), [phi0], t_eval=np.arange(int(t * sfreq)) / sfreq,
                    rtol=1e-10, atol=1e-12, method="DOP853")
    return sol.y[0]


# ---------------------------------------------------------------------------
# Adler
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def noisy_adler():
    """Three noisy trajectories of 150 s: locked, unlocked, locked with weaker noise."""
    rng = np.random.default_rng(7)
    dw = np.array([0.8, 1.5, 0.8]) * TWO_PI
    K = np.array([1.0, 1.0, 1.0]) * TWO_PI
    D = np.array([2.0, 2.0, 0.5])
    return dw, K, D, simulate_adler(dw, K, D, 150.0, rng)


@pytest.mark.parametrize("method", ["fourier", "least-squares"])
@pytest.mark.parametrize("case", [0, 1, 2])
def test_adler_noisy_recovery(noisy_adler, method, case):
    dw, K, D, phis = noisy_adler
    pa, pb = as_oscillator_pair(phis[:, case])
    fit = fit_adler(pa, pb, SFREQ, method=method)
    assert fit.identifiable
    assert fit.dw == pytest.approx(dw[case], rel=0.10)
    assert fit.K == pytest.approx(K[case], rel=0.10)
    assert fit.locked == (abs(dw[case]) < K[case])
    assert fit.diffusion == pytest.approx(D[case], rel=0.10)
    assert fit.dw_ci[0] < fit.dw < fit.dw_ci[1] and fit.K_ci[0] < fit.K < fit.K_ci[1]
    assert fit.n_samples == len(pa) - 1


@pytest.mark.parametrize("ratio", [0.9, 1.1, 1.5, 3.0])
def test_adler_noise_free_both_sides_of_locking_range(ratio):
    K = TWO_PI * 1.0
    dw = ratio * K
    phi = adler_exact(dw, K, 30.0, phi0=-2.0)  # starts away from the fixed point: a transient
    pa, pb = as_oscillator_pair(phi)
    for method in ("fourier", "least-squares"):
        fit = fit_adler(pa, pb, SFREQ, method=method)
        assert fit.locked == (ratio < 1), (method, fit)
        assert fit.dw == pytest.approx(dw, rel=0.10)
        assert fit.K == pytest.approx(K, rel=0.10)
    if ratio > 1:
        expected = np.sqrt(dw**2 - K**2) / TWO_PI
        # observed slip rate over whole cycles vs the analytic one
        assert fit.slip_frequency == pytest.approx(expected, rel=0.02)
        assert fit.predicted_slip_frequency == pytest.approx(expected, rel=0.01)
    else:
        assert abs(fit.slip_frequency) < 0.05
        assert fit.predicted_slip_frequency == 0.0


def test_adler_slip_frequency_outside_range_exact():
    """Mean dphi/dt / 2pi over many slips equals sqrt(dw^2 - K^2) / 2pi."""
    K, dw = TWO_PI * 1.0, TWO_PI * 1.25
    phi = adler_exact(dw, K, 40.0)
    expected = np.sqrt(dw**2 - K**2) / TWO_PI  # 0.75 Hz
    period = 1 / expected
    n_cycles = int(39.0 / period)
    # time of the n-th whole slip from the unwrapped phase
    t = np.arange(len(phi)) / SFREQ
    t_n = np.interp(TWO_PI * n_cycles, phi, t)
    assert n_cycles / t_n == pytest.approx(expected, rel=1e-3)
    fit = fit_adler(*as_oscillator_pair(phi), SFREQ)
    assert fit.slip_frequency == pytest.approx(expected, rel=0.03)


def test_adler_locked_at_fixed_point_is_not_identifiable():
    K, dw = TWO_PI, 0.5 * TWO_PI
    phi = np.full(5000, np.arcsin(dw / K))  # noise-free, sitting at the fixed point
    fit = fit_adler(*as_oscillator_pair(phi), SFREQ)
    assert not fit.identifiable
    assert fit.locked
    assert np.isnan(fit.K) and np.isnan(fit.dw)
    # any noise at all drives excursions around the fixed point; near it the
    # dynamics are linear, so what identifies K is the number of relaxation
    # times observed, not the noise amplitude: the CI is honest either way
    rng = np.random.default_rng(3)
    for duration in (2.0, 60.0):
        phi = simulate_adler(dw, K, 1e-6, duration, rng, phi0=np.arcsin(dw / K))[:, 0]
        fit = fit_adler(*as_oscillator_pair(phi), SFREQ)
        assert fit.locked
        assert fit.K_ci[0] < K < fit.K_ci[1] and fit.dw_ci[0] < dw < fit.dw_ci[1]
    assert fit.identifiable and fit.K == pytest.approx(K, rel=0.10)


def test_adler_plv_matches_von_mises_bessel_ratio():
    """dw = 0: stationary density exp(K cos(phi)/D) -> PLV = I1(K/D) / I0(K/D)."""
    rng = np.random.default_rng(11)
    K = TWO_PI * 1.0
    ratios = np.array([0.5, 1.0, 2.0, 4.0])  # K/D
    n_rep = 6
    D = np.repeat(K / ratios, n_rep)
    phis = simulate_adler(0.0, K, D, 60.0, rng, sfreq=100.0, substeps=5)[500:]  # drop 5 s burn-in
    pa, pb = np.angle(np.exp(1j * phis.T)), np.zeros(phis.T.shape)
    plv = nm_plv(pa, pb, 1, 1).reshape(len(ratios), n_rep).mean(axis=1)
    expected = special.iv(1, ratios) / special.iv(0, ratios)
    np.testing.assert_allclose(plv, expected, atol=0.03)


def test_adler_input_errors():
    phi = np.zeros(1000)
    with pytest.raises(ParameterError, match="same length"):
        fit_adler(phi, phi[:-1], SFREQ)
    with pytest.raises(ParameterError, match="at least"):
        fit_adler(phi[:5], phi[:5], SFREQ)
    with pytest.raises(DataQualityError, match="NaN"):
        bad = phi.copy()
        bad[3] = np.nan
        fit_adler(bad, phi, SFREQ)
    with pytest.raises(ParameterError, match="method"):
        fit_adler(phi, phi, SFREQ, method="bogus")
    with pytest.raises(ParameterError, match="sfreq"):
        fit_adler(phi, phi, -1.0)


# ---------------------------------------------------------------------------
# PLV over time: matrix product vs naive loop, chunks, windows
# ---------------------------------------------------------------------------


def _naive_plv(z):
    n = z.shape[0]
    phase = np.angle(z)
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            out[i, j] = np.abs(np.mean(np.exp(1j * (phase[i] - phase[j]))))
    return out


def _coupled_analytic(rng, n=6, n_times=3000):
    common = np.cumsum(rng.normal(0, 0.1, n_times))
    t = np.arange(n_times) / SFREQ
    phase = TWO_PI * 10 * t + common * rng.uniform(0, 1, (n, 1)) + np.cumsum(rng.normal(0, 0.2, (n, n_times)), axis=1)
    return rng.uniform(0.5, 2, (n, n_times)) * np.exp(1j * phase)


def test_plv_matrix_equals_naive_loop_and_chunks(rng):
    z = _coupled_analytic(rng)
    expected = _naive_plv(z)
    np.testing.assert_allclose(plv_matrix(z), expected, atol=1e-12)
    np.testing.assert_allclose(plv_matrix(z, chunk_samples=7), expected, atol=1e-12)
    np.testing.assert_allclose(plv_matrix(z.astype(np.complex64), chunk_samples=500), expected, atol=1e-5)
    assert 0.05 < expected[0, 1] < 0.999  # a non-trivial case


def test_plv_over_time_matches_windowed_loop(rng):
    z = _coupled_analytic(rng, n=4, n_times=2600)
    for window_s, step_s in [(2.0, 2.0), (2.0, 0.5), (1.2, 0.8), (1.0, 1.5)]:
        times, plv = plv_over_time(z, SFREQ, window_seconds=window_s, step_seconds=step_s)
        w, s = int(window_s * SFREQ), int(step_s * SFREQ)
        starts = np.arange(0, z.shape[1] - w + 1, s)
        assert plv.shape == (len(starts), 4, 4)
        np.testing.assert_allclose(times, (starts + w / 2) / SFREQ)
        for k in (0, len(starts) // 2, len(starts) - 1):
            np.testing.assert_allclose(plv[k], _naive_plv(z[:, starts[k] : starts[k] + w]), atol=1e-10)


def test_band_plv_over_time_equals_analytic_then_plv(rng):
    data = rng.standard_normal((5, int(30 * SFREQ)))
    data[1] += 0.8 * data[0]
    band = Band("alpha", 8, 13)
    times, plv = band_plv_over_time(data, SFREQ, [band], window_seconds=2.0, step_seconds=1.0, chunk_seconds=7,
                                    dtype=np.complex128)
    z = analytic_signal(data, SFREQ, band)
    times2, plv2 = plv_over_time(z, SFREQ, window_seconds=2.0, step_seconds=1.0)
    np.testing.assert_allclose(times, times2)
    np.testing.assert_allclose(plv[0], plv2, atol=1e-5)  # chunking changes only round-off
    assert plv2[:, 0, 1].mean() > plv2[:, 2, 3].mean() + 0.2


def test_plv_of_independent_noise_matches_bias():
    """N independent phase samples: E[PLV] = sqrt(pi / (4N))."""
    rng = np.random.default_rng(5)
    n_sig, n = 40, 64
    z = np.exp(1j * rng.uniform(0, TWO_PI, (n_sig, n)))
    plv = plv_matrix(z)
    mean = plv[np.triu_indices(n_sig, 1)].mean()
    assert mean == pytest.approx(np.sqrt(np.pi / (4 * n)), rel=0.10)


# ---------------------------------------------------------------------------
# PLV over trials, against mne-connectivity
# ---------------------------------------------------------------------------


def _trial_data(rng, n_epochs, kappa, noise=0.2, n_times=1000):
    t = np.arange(n_times) / SFREQ
    theta = rng.uniform(0, TWO_PI, n_epochs)
    delta = rng.vonmises(0.5, kappa, n_epochs)
    x = np.cos(TWO_PI * 10 * t + theta[:, None])
    y = np.cos(TWO_PI * 10 * t + (theta + delta)[:, None])
    return np.stack([x, y], axis=1) + noise * rng.standard_normal((n_epochs, 2, n_times)), delta


@pytest.mark.parametrize("kappa", [0.5, 1.5, 4.0])
def test_plv_over_trials_agrees_with_mne_connectivity(kappa):
    """Same epochs, same band: harmonix filter bank vs mne's Morlet wavelets (and multitaper)."""
    mne = pytest.importorskip("mne")
    mne_connectivity = pytest.importorskip("mne_connectivity")
    rng = np.random.default_rng(int(kappa * 10))
    n_epochs = 60
    data, _ = _trial_data(rng, n_epochs, kappa)
    band = Band("alpha", 8, 13)
    z = analytic_signal(data.reshape(-1, data.shape[-1]), SFREQ, band).reshape(data.shape)
    central = slice(int(1 * SFREQ), int(3 * SFREQ))  # both methods away from epoch edges
    plv_t = plv_over_trials(z[:, :, central])  # (2, 2, n_times)
    ours = plv_t[0, 1].mean()
    assert plv_over_trials(z[:, :, central], average_time=True)[0, 1] == pytest.approx(ours, abs=1e-12)

    with mne.utils.use_log_level("ERROR"):
        con = mne_connectivity.spectral_connectivity_epochs(
            data, method="plv", mode="cwt_morlet", sfreq=SFREQ, cwt_freqs=np.arange(8.0, 14.0),
            cwt_n_cycles=5, faverage=False, verbose=False,
        )
        theirs_cwt = con.get_data(output="dense")[1, 0][:, central].mean()  # band freqs and central times
        con = mne_connectivity.spectral_connectivity_epochs(
            data[:, :, central], method="plv", mode="multitaper", sfreq=SFREQ, fmin=8.0, fmax=13.0,
            faverage=True, verbose=False,
        )
        theirs_mt = con.get_data(output="dense")[1, 0, 0]
    assert ours == pytest.approx(theirs_cwt, abs=0.02)
    assert ours == pytest.approx(theirs_mt, abs=0.02)


def test_plv_over_trials_noise_bias_and_ppc(rng):
    """Independent band-passed noise over N trials: PLV ~ sqrt(pi/(4N)), PPC ~ 0."""
    n_trials, n_sig, n_times = 20, 8, 1000
    data = rng.standard_normal((n_trials * n_sig, n_times))
    z = analytic_signal(data, SFREQ, Band("alpha", 8, 13)).reshape(n_trials, n_sig, n_times)
    plv = plv_over_trials(z[:, :, 100:-100])
    iu = np.triu_indices(n_sig, 1)
    values = plv[iu[0], iu[1]]
    assert values.mean() == pytest.approx(np.sqrt(np.pi / (4 * n_trials)), rel=0.10)
    ppc = ppc_from_plv(values, n_trials)
    assert abs(ppc.mean()) < 0.01
    np.testing.assert_allclose(np.diagonal(plv, axis1=0, axis2=1), 1.0)


def test_plv_over_trials_matches_loop(rng):
    z = rng.standard_normal((7, 3, 50)) + 1j * rng.standard_normal((7, 3, 50))
    plv = plv_over_trials(z, chunk_samples=16)
    u = z / np.abs(z)
    expected = np.abs(np.einsum("kit,kjt->ijt", u, u.conj())) / 7
    np.testing.assert_allclose(plv, expected, atol=1e-12)


# ---------------------------------------------------------------------------
# PPC, Rayleigh
# ---------------------------------------------------------------------------


def test_ppc_equivalence_and_unbiased(rng):
    theta = rng.uniform(0, TWO_PI, (2000, 12))
    ppc = pairwise_phase_consistency(theta)
    # definition: mean over pairs j<k of cos(theta_j - theta_k)
    j, k = np.triu_indices(12, 1)
    direct = np.cos(theta[:, j] - theta[:, k]).mean(axis=1)
    np.testing.assert_allclose(ppc, direct, atol=1e-12)
    plv = np.abs(np.exp(1j * theta).mean(axis=1))
    np.testing.assert_allclose(ppc, ppc_from_plv(plv, 12), atol=1e-12)
    assert abs(ppc.mean()) < 0.01  # unbiased, while PLV is biased
    assert plv.mean() > 0.2
    # concentrated phases: PPC estimates the squared population PLV
    kappa = 2.0
    theta = rng.vonmises(0, kappa, (2000, 12))
    expected = (special.iv(1, kappa) / special.iv(0, kappa)) ** 2
    assert pairwise_phase_consistency(theta).mean() == pytest.approx(expected, abs=0.02)


def test_rayleigh_null_uniform_and_alternative_tiny(rng):
    theta = rng.uniform(-np.pi, np.pi, (2000, 30))
    r, z, p = rayleigh_test(theta)
    assert p.shape == (2000,)
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert np.mean(p < 0.05) == pytest.approx(0.05, abs=0.02)
    np.testing.assert_allclose(z, 30 * r**2)
    r, z, p = rayleigh_test(rng.vonmises(1.0, 2.0, 50))
    assert p < 1e-6 and r > 0.5
    # CircStat reference value: n=10 phases, R_n computed by hand
    theta = np.linspace(0, 1.0, 10)
    rn = np.abs(np.exp(1j * theta).sum())
    expected_p = np.exp(np.sqrt(1 + 40 + 4 * (100 - rn**2)) - 21)
    assert rayleigh_test(theta).p == pytest.approx(min(expected_p, 1.0))


# ---------------------------------------------------------------------------
# n:m locking
# ---------------------------------------------------------------------------


def test_nm_plv_known_answers(rng):
    t = np.arange(5000) / SFREQ
    phase_a = TWO_PI * 5 * t + np.cumsum(rng.normal(0, 0.05, t.size))  # 5 Hz, drifting
    for n, m in [(1, 1), (2, 1), (3, 2)]:
        phase_b = (n / m) * phase_a
        assert nm_plv(np.angle(np.exp(1j * phase_a)), phase_b, n, m) == pytest.approx(1.0, abs=1e-12)
    independent = rng.uniform(0, TWO_PI, t.size)
    assert nm_plv(phase_a, independent, 2, 1) < 3 * np.sqrt(np.pi / (4 * t.size))
    assert nm_orders(10.0, 20.0) == (2, 1)
    assert nm_orders(20.0, 10.0) == (1, 2)
    assert nm_orders(10.0, 15.0) == (3, 2)
    assert nm_orders(6.0, 40.0) == (6, 1)


# ---------------------------------------------------------------------------
# frequency-ratio decoupling
# ---------------------------------------------------------------------------


def test_frequency_ratio_decoupling_known_answers():
    golden = frequency_ratio_decoupling(10.0, 16.18)
    assert golden.regime == "golden" and golden.decoupling_index > 0.9
    assert golden.golden_distance < 1e-3
    octave = frequency_ratio_decoupling(10.0, 20.0)
    assert (int(octave.p), int(octave.q)) == (2, 1)
    assert octave.decoupling_index == pytest.approx(-1.0) and octave.regime == "integer"
    fifth = frequency_ratio_decoupling(15.0, 10.0)
    assert (int(fifth.p), int(fifth.q)) == (3, 2) and fifth.integer_distance == pytest.approx(0.0)
    # vectorised over region pairs
    f = np.array([10.0, 16.18, 20.0, 15.0])
    res = frequency_ratio_decoupling(f[:, None], f[None, :])
    assert res.decoupling_index.shape == (4, 4)
    np.testing.assert_allclose(res.decoupling_index, res.decoupling_index.T)
    assert res.decoupling_index[0, 1] > 0.9 and res.decoupling_index[0, 2] == pytest.approx(-1.0)
    assert np.all(np.abs(res.decoupling_index) <= 1.0)
    assert abs(GOLDEN_RATIO - 1.6180339887) < 1e-9
    with pytest.raises(ParameterError):
        frequency_ratio_decoupling(0.0, 10.0)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------


def test_bad_inputs_raise_harmonix_errors(rng):
    z = np.exp(1j * rng.uniform(0, TWO_PI, (3, 100)))
    with pytest.raises(ParameterError, match="complex"):
        plv_matrix(z.real)
    with pytest.raises(ParameterError, match="2-D"):
        plv_matrix(z[0])
    bad = z.copy()
    bad[1, 5] = np.nan
    with pytest.raises(DataQualityError, match="NaN"):
        plv_matrix(bad)
    zero = z.copy()
    zero[2] = 0
    with pytest.raises(DataQualityError, match=r"signal\(s\) \[2\]"):
        plv_matrix(zero)
    with pytest.raises(ParameterError, match="shorter than one window"):
        plv_over_time(z, SFREQ, window_seconds=2.0)
    with pytest.raises(ParameterError, match="at least 2 trials"):
        plv_over_trials(z[None])
    with pytest.raises(ParameterError, match="3-D"):
        plv_over_trials(z)
    with pytest.raises(ParameterError, match="matching shapes"):
        nm_plv(np.zeros(10), np.zeros(11), 1, 1)
    with pytest.raises(ParameterError, match="positive integer"):
        nm_plv(np.zeros(10), np.zeros(10), 0, 1)
    with pytest.raises(HarmonixError):
        rayleigh_test(np.array([np.inf, 0.0, 1.0]))
    with pytest.raises(ParameterError):
        ppc_from_plv(0.5, 1)
