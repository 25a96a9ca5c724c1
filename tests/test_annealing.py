"""Annealing schedules and simulated annealing of SK spin glasses (issue 6, acceptance 3)."""

from __future__ import annotations

import numpy as np
import pytest

from harmonix.errors import ParameterError
from harmonix.simulate.schedules import (
    Constant,
    HeatHoldCool,
    Piecewise,
    as_schedule,
    cooling_schedule,
)
from harmonix.simulate.spin_glass import (
    PARISI_E0,
    anneal_sk,
    ground_state_bound,
    sk_couplings,
    sk_energy,
)

# ----------------------------------------------------------------------------- schedules


def test_constant_schedule_scalar_and_vector():
    s = Constant(0.3)
    assert s(5.0) == 0.3
    assert np.array_equal(s.evaluate(np.arange(4)), np.full(4, 0.3))


@pytest.mark.parametrize("law", ["linear", "exponential", "logarithmic"])
def test_heat_hold_cool_phases_and_endpoints(law):
    s = HeatHoldCool(t_heat=1.0, t_hold=2.0, t_cool=4.0, T_start=0.1, T_high=2.0, T_end=0.1, cooling=law)
    assert s(-1.0) == pytest.approx(0.1)
    assert s(0.5) == pytest.approx(1.05)  # linear heating
    assert s(1.0) == pytest.approx(2.0) and s(2.9) == pytest.approx(2.0)  # hold
    assert s(7.0) == pytest.approx(0.1) and s(100.0) == pytest.approx(0.1)
    cool = s.evaluate(np.linspace(3.0, 7.0, 101))
    assert np.all(np.diff(cool) < 0)  # strictly cooling
    assert s.duration == 7.0


def test_cooling_laws_differ_as_documented():
    t = np.array([0.1])
    lin, exp, log = (cooling_schedule(1.0, 2.0, 0.02, law)(t)[0] for law in ("linear", "exponential", "logarithmic"))
    assert lin == pytest.approx(2.0 - 1.98 * 0.1)
    assert exp == pytest.approx(2.0 * 0.01**0.1)
    assert log < exp < lin  # logarithmic drops fastest early, then approaches T_end slowly
    # second half of the cooling: the logarithmic law creeps (small change), the exponential still falls
    log_s, exp_s = cooling_schedule(1.0, 2.0, 0.02, "logarithmic"), cooling_schedule(1.0, 2.0, 0.02, "exponential")
    assert log_s(0.5) - log_s(1.0) < 0.5 * (exp_s(0.5) - exp_s(1.0))


def test_piecewise_linear_and_step():
    s = Piecewise.from_pairs([(0.0, 0.0), (1.0, 1.0), (3.0, 0.0)])
    assert np.allclose(s.evaluate([-1, 0.5, 2.0, 5.0]), [0.0, 0.5, 0.5, 0.0])
    st = Piecewise((0.0, 1.0), (2.0, 0.5), kind="step")
    assert np.allclose(st.evaluate([-1, 0.0, 0.99, 1.0, 9.0]), [2.0, 2.0, 2.0, 0.5, 0.5])


def test_schedules_are_frozen_and_hashable():
    s = HeatHoldCool(t_cool=2.0)
    with pytest.raises((AttributeError, TypeError)):
        s.t_cool = 3.0
    assert hash(s) == hash(HeatHoldCool(t_cool=2.0))


def test_as_schedule_coerces_numbers_and_callables():
    assert as_schedule(0.5) == Constant(0.5)
    f = as_schedule(lambda t: 1.0 + 0.0 * t)
    assert np.allclose(f.evaluate([0, 1]), 1.0)
    with pytest.raises(ParameterError):
        as_schedule(lambda t: -t - 1.0).evaluate([0.0])


@pytest.mark.parametrize(
    "build",
    [
        lambda: Constant(-1.0),
        lambda: HeatHoldCool(t_cool=0.0),
        lambda: HeatHoldCool(cooling="fast"),
        lambda: HeatHoldCool(T_end=0.0, cooling="exponential"),
        lambda: Piecewise((1.0, 0.0), (1.0, 1.0)),
        lambda: Piecewise((0.0,), (1.0, 2.0)),
        lambda: as_schedule("hot"),
    ],
)
def test_bad_schedules_raise(build):
    with pytest.raises(ParameterError):
        build()


# ----------------------------------------------------------------------------- SK spin glass

N_SPINS = 256
N_SEEDS = 20
COOLING_SWEEPS = (10, 100, 1000, 10000)


@pytest.fixture(scope="module")
def sk_energies():
    """Mean final energy per spin over 20 SK instances for each cooling time (exponential cooling 2.0 -> 0.05)."""
    instances = [sk_couplings(N_SPINS, seed) for seed in range(N_SEEDS)]
    out = {}
    for sweeps in COOLING_SWEEPS:
        schedule = cooling_schedule(sweeps, 2.0, 0.05, "exponential")
        out[sweeps] = np.array([anneal_sk(J, schedule, sweeps, seed=seed).energy for seed, J in enumerate(instances)])
    return out


def test_slower_cooling_reaches_lower_energy(sk_energies):
    means = [sk_energies[s].mean() for s in COOLING_SWEEPS]
    # monotonic over cooling times spanning 1000x (issue 6 asks for >= 3 over 100x)
    assert all(a > b for a, b in zip(means, means[1:])), means
    assert means[0] - means[2] > 0.03  # clearly separated over 100x


def test_annealed_energies_stay_above_ground_state_bound(sk_energies):
    bound = ground_state_bound(N_SPINS)  # -0.7633 + 0.7 N^(-2/3) = -0.7459 (Boettcher 2005)
    assert bound == pytest.approx(-0.7459, abs=1e-4)
    for sweeps, energies in sk_energies.items():
        # mean over 20 instances; the mean ground state of 20 instances scatters by ~ std/sqrt(20)
        sem = energies.std(ddof=1) / np.sqrt(len(energies))
        assert energies.mean() > bound - 2 * sem, (sweeps, energies.mean(), bound)
        assert energies.min() > PARISI_E0 - 0.05
    assert sk_energies[10000].mean() < bound + 0.01  # and slow cooling gets within 1.3 % of it


def test_anneal_is_deterministic_and_ends_in_local_minimum():
    J = sk_couplings(64, 7)
    sched = cooling_schedule(50, 2.0, 0.05)
    one, two = anneal_sk(J, sched, 50, seed=3), anneal_sk(J, sched, 50, seed=3)
    assert np.array_equal(one.spins, two.spins) and one.energy == two.energy
    assert one.energy == pytest.approx(sk_energy(J, one.spins))
    fields = J @ one.spins
    assert np.all(one.spins * fields >= 0)  # no single flip lowers the energy


def test_sk_couplings_statistics():
    J = sk_couplings(400, 0)
    assert np.array_equal(J, J.T) and np.all(np.diag(J) == 0)
    assert J[np.triu_indices(400, 1)].var() * 400 == pytest.approx(1.0, rel=0.02)


def test_anneal_rejects_bad_couplings():
    with pytest.raises(ParameterError):
        anneal_sk(np.ones((3, 3)), 1.0, 10)
    with pytest.raises(ParameterError):
        anneal_sk(np.zeros((3, 4)), 1.0, 10)
    with pytest.raises(ParameterError):
        anneal_sk(sk_couplings(8, 0), 1.0, -1)
