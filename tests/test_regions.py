"""Regional specificity (issue 15 part 4): cross-talk, lag-based coupling, the pair fit, flags in comparisons."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from harmonix.compare.regions import crosstalk_map, flag_crosstalk
from harmonix.estimators.lagged_coupling import CrossSpectrumSum, LagLockingSum, weighted_phase_lag_index
from harmonix.harmonics.crosstalk import explained_by, lagged_pair_fit, pair_leakage, region_crosstalk


def test_wpli_equals_mne_connectivity(rng):
    """The same Morlet coefficients give mne-connectivity's wPLI (spectral_connectivity_time) to rounding."""
    mne = pytest.importorskip("mne")
    from mne_connectivity import spectral_connectivity_time

    sfreq, n_times, freq, cycles = 200.0, 800, 10.0, 5.0
    data = rng.normal(size=(4, 3, n_times))
    data[:, 1, 5:] += 0.8 * data[:, 0, :-5]  # channel 1 lags channel 0 by 25 ms
    tfr = mne.time_frequency.tfr_array_morlet(data, sfreq, [freq], n_cycles=cycles, output="complex",
                                              zero_mean=False, verbose=False)[:, :, 0]
    reference = spectral_connectivity_time(data, freqs=[freq], method="wpli", mode="cwt_morlet", sfreq=sfreq,
                                           n_cycles=cycles, faverage=False,
                                           indices=(np.array([0, 0]), np.array([1, 2])), verbose=False).get_data()
    ours = np.stack([weighted_phase_lag_index(tfr[:, 0], tfr[:, 1]), weighted_phase_lag_index(tfr[:, 0], tfr[:, 2])],
                    axis=1)
    np.testing.assert_allclose(ours, reference[..., 0], rtol=1e-10)
    assert ours[:, 0].mean() > ours[:, 1].mean() + 0.3  # the lagged pair stands out


def test_streaming_sums_equal_batch(rng):
    z = (rng.normal(size=(2, 5, 3000)) + 1j * rng.normal(size=(2, 5, 3000))).astype(np.complex64)
    pairs = np.array([[0, 1], [2, 4]])
    lag, cross = LagLockingSum(2, pairs), CrossSpectrumSum(2, 5)
    for a in range(0, 3000, 700):
        lag.feed(z[..., a:a + 700])
        cross.feed(z[..., a:a + 700])
    batch = weighted_phase_lag_index(z[:, pairs[:, 0]].astype(complex), z[:, pairs[:, 1]].astype(complex))
    np.testing.assert_allclose(lag.wpli(), batch, rtol=1e-5)
    np.testing.assert_allclose(cross.mean()[1], z[1] @ z[1].conj().T / 3000, rtol=1e-4, atol=1e-6)


def test_instantaneous_mixing_has_no_lagged_coupling(rng):
    """Field spread (a real mixing of independent sources) gives zero-lag locking but no wPLI or pair fit."""
    sources = rng.normal(size=(4, 40000)) + 1j * rng.normal(size=(4, 40000))
    mixing = np.array([[1.0, 0.7, 0.2, 0.0], [0.6, 1.0, 0.0, 0.3], [0.1, 0.0, 1.0, 0.5], [0.0, 0.4, 0.6, 1.0]])
    mixed = mixing @ sources
    plv = np.abs(np.mean(np.exp(1j * (np.angle(mixed[0]) - np.angle(mixed[1])))))
    assert plv > 0.3
    assert weighted_phase_lag_index(mixed[0], mixed[1]) < 0.05
    cross = mixed @ mixed.conj().T / mixed.shape[1]
    assert np.linalg.norm(cross.imag) < 0.02 * np.linalg.norm(cross.real)  # what the pair fit reads is ~0


def test_pair_fit_finds_the_lagged_pair_among_ghosts(rng):
    """A lagged link between sources 0 and 1, seen through a mixing that spreads it into pairs (2, 3)."""
    n = 60000
    common = rng.normal(size=n + 3)
    sources = rng.normal(size=(4, n))
    sources[0] += 2 * common[3:]
    sources[1] += 2 * common[:n]  # source 1 follows source 0 by 3 samples
    from scipy.signal import hilbert

    analytic = hilbert(sources, axis=-1)
    mixing = np.array([[1.0, 0.1, 0.5, 0.0], [0.1, 1.0, 0.0, 0.5], [0.6, 0.0, 1.0, 0.1], [0.0, 0.6, 0.1, 1.0]])
    estimate = mixing @ analytic
    fit = lagged_pair_fit(estimate @ estimate.conj().T / n, mixing, np.array([[0, 1], [2, 3], [0, 3]]))
    assert np.argmax(fit) == 0 and fit[0] > 0.9 and fit[1] < 0.5 * fit[0]
    # the ghost pair (2, 3) has a lagged component too, through the mixing: lag alone does not localise
    assert weighted_phase_lag_index(estimate[2], estimate[3]) > 0.1


def test_crosstalk_of_the_default_model(default_connectome, default_harmonics):
    from harmonix.harmonics.connectome import homotopic_pairs
    from harmonix.harmonics.decompose import sensor_decomposition
    from harmonix.simulate.forward import harmonic_gain

    c, basis = default_connectome, default_harmonics
    data = harmonic_gain(c, basis, n_modes=30) @ np.random.default_rng(7).normal(size=(30, 2000))
    d = sensor_decomposition(c.leadfield, c.sensor_names, basis.eigenvectors, basis.eigenvalues,
                             list(c.sensor_names), data, n_modes=30)
    ct = region_crosstalk(c.leadfield[np.asarray(d.match.sensor_indices)], c.region_map, basis.eigenvectors,
                          d.inverse.operator)
    assert ct.shape == (c.n_regions, c.n_regions)
    np.testing.assert_allclose(ct.sum(axis=1), 1.0)
    pairs = homotopic_pairs(c.region_labels)
    leak = pair_leakage(ct, pairs)
    names = [p[0] for p in pairs]
    # 30 smooth harmonics from 63 sensors cannot resolve 76 regions: most regions' estimates are mostly others'
    assert np.median(np.diag(ct)) < 0.5
    # the orbital prefrontal estimate carries more of the dorsolateral pair than of its own
    orb, dl = names.index("PFCORB"), names.index("PFCDL")
    assert leak[orb, dl] > leak[orb, orb]
    assert ("PFCDL", float(leak[orb, dl])) in explained_by(leak, names, "PFCORB", names)


def test_flag_crosstalk_marks_rows_a_significant_change_elsewhere_explains():
    comparison = pd.DataFrame({
        "metric": ["region_plv_homotopic"] * 3 + ["band_power"], "band": "alpha",
        "component": ["PFCDL", "PFCORB", "V1", "Cz"], "difference": [0.5, 0.6, 0.1, 1.0],
        "q": [0.001, 0.001, 0.5, 0.01], "note": ["", "", "", ""]})
    params = [{"harmonics": {"regions": {"pairs": {"PFCORB": {"explained_by": {"PFCDL": 0.26}},
                                                   "V1": {"explained_by": {"PFCDL": 0.3}},
                                                   "PFCDL": {"explained_by": {}}}}}}]
    flagged = flag_crosstalk(comparison, crosstalk_map(params))
    assert flagged["crosstalk_explained"].tolist() == [False, True, True, False]
    assert "cross-talk from PFCDL (leakage 0.26) can explain this row" in flagged.loc[1, "note"]
    opposite = comparison.assign(difference=[0.5, -0.6, 0.1, 1.0])
    assert not flag_crosstalk(opposite, crosstalk_map(params))["crosstalk_explained"].iloc[1]


@pytest.mark.slow
@pytest.mark.parametrize("pair", ["PFCDL", "V1"])
def test_simulated_lagged_coupling_is_recovered(pair):
    """Coupling with a 15-ms delay planted in one homotopic pair: the cross-talk-aware fit ranks it first."""
    from harmonix.harmonics.model import default_harmonic_model
    from harmonix.pipeline import analyze_eeg
    from harmonix.simulate.cohort import PlantedChange, cohort_session

    model = default_harmonic_model()
    regions = (f"r{pair}", f"l{pair}")
    change = PlantedChange(regions=regions, low_harmonic_gain=1.0)
    differences = []
    for subject in range(2):
        values = []
        for visit, planted in ((0, None), (1, change)):
            raw = cohort_session(model, subject=subject, visit=visit, change=planted, regions=regions, seed=3)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                metrics = analyze_eeg(raw, session="s", harmonic_model=model).metrics
            rows = metrics[(metrics.metric == "region_lag_fit_homotopic") & (metrics.band == "alpha")
                           & (metrics.condition == "")]
            values.append(rows.set_index("component")["value"])
        differences.append(values[1] - values[0])
    mean = pd.concat(differences, axis=1).mean(axis=1).sort_values(ascending=False)
    assert mean.index[0] == pair, mean.head()
