"""Trauma proxy: the essay's three signatures, each z-scored against surrogates.

RESEARCH PROXY, NOT A DIAGNOSIS. Johnson's Neural Annealing essay (2019)
predicts that trauma-like states show (1) less energy in the low-frequency
(spatially smooth) connectome harmonics, (2) brain regions sitting in
golden-ratio frequency regimes, which do not interact, and weak locking
between regions, and (3) weak coupling between the connectome-wide harmonics
(CSHWs) and the regions' own harmonics (RSHWs). harmonix measures each on the
recording and on ``n_surrogates`` phase-randomised surrogates of its sensor
data (independent phases per channel: same spectra, no cross-channel phase
relations, see :mod:`harmonix.estimators.surrogates`), and reports

.. math::

    z = \\frac{x_{obs} - \\overline{x}_{surr}}{\\operatorname{sd}(x_{surr})},

signed so that a positive component is trauma-like:

* ``low_harmonic_deficit``: :math:`-z` of the share of harmonic power
  :math:`\\sum_{k<n_{low}} \\langle|a_k|^2\\rangle / \\sum_k \\langle|a_k|^2\\rangle`
  in the band (Atasoy et al. 2017);
* ``regional_decoupling``: :math:`-z` of the mean phase-locking value between
  region time courses (harmonic reconstruction averaged over each region);
* ``golden_ratio_regime``: :math:`z` of the mean golden-ratio decoupling index
  of the regions' dominant frequencies (:func:`~harmonix.estimators.locking.frequency_ratio_decoupling`);
* ``cshw_rshw_decoupling``: :math:`-z` of the mean n:m phase locking between
  low-band connectome harmonics and a region's high-band regional harmonics
  (:func:`cshw_rshw_decoupling`, null from circular time shifts). It needs
  vertex-level activity (regional harmonics are far finer than an EEG cap
  resolves): NaN in :func:`trauma_proxy` of sensor recordings, available for
  simulated sources.

The combined proxy is the mean of the available components. Surrogates keep
every channel's spectrum and the linear mixing of the inverse, so the
z-scores measure structure beyond what volume conduction and spectra alone
produce.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from harmonix.errors import ParameterError
from harmonix.estimators.locking import frequency_ratio_decoupling, nm_orders, nm_plv, plv_matrix
from harmonix.estimators.surrogates import phase_randomized
from harmonix.spectral.bands import Band
from harmonix.spectral.filterbank import analytic_signal, iter_analytic_blocks
from harmonix.spectral.psd import compute_psd

PROXY_NOTE = (
    "research proxy, not a diagnosis: low-harmonic energy deficit, inter-regional decoupling and golden-ratio "
    "frequency regimes (Johnson 2019, Neural Annealing), each z-scored against phase-randomised surrogates"
)

COMPONENTS = ("low_harmonic_deficit", "regional_decoupling", "golden_ratio_regime", "cshw_rshw_decoupling")


@dataclass(frozen=True)
class TraumaProxy:
    """Trauma proxy of one band: components (z), observed values, and the combination."""

    band: str
    components: dict
    observed: dict
    combined: float
    region_plv: np.ndarray
    params: dict = field(default_factory=dict)
    note: str = PROXY_NOTE


def region_operator(eigenvectors: np.ndarray, region_map: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """Map from sensors to region-mean activity: ``R Ψ W`` (n_regions, n_sensors).

    ``R`` averages vertices per region (regions without vertices are dropped),
    ``Ψ`` are the harmonics, ``W`` the sensor inverse (n_modes, n_sensors).
    """
    regions = np.unique(region_map)
    averaging = np.zeros((regions.size, region_map.size))
    for i, region in enumerate(regions):
        members = region_map == region
        averaging[i, members] = 1.0 / members.sum()
    return (averaging @ eigenvectors[:, : inverse.shape[0]]) @ inverse


def _statistics(data: np.ndarray, sfreq: float, bands: Sequence[Band], inverse: np.ndarray, regions: np.ndarray,
                n_low: int, dominant_range: tuple[float, float]) -> tuple[list[dict], np.ndarray]:
    """The three observed quantities for every band, from one pass of the filter bank."""
    coefficients = np.concatenate([b.values for b in iter_analytic_blocks(inverse @ data, sfreq, bands)], axis=-1)
    region_signals = regions @ data
    region_analytic = np.concatenate([b.values for b in iter_analytic_blocks(region_signals, sfreq, bands)], axis=-1)
    spectrum = compute_psd(region_signals, sfreq, fmin=dominant_range[0], fmax=dominant_range[1])
    dominant = spectrum.freqs[np.argmax(spectrum.psd, axis=1)]
    ratios = frequency_ratio_decoupling(dominant[:, np.newaxis], dominant[np.newaxis, :])
    golden = float(np.mean(ratios.decoupling_index[np.triu_indices(dominant.size, 1)]))
    off_diagonal = ~np.eye(regions.shape[0], dtype=bool)
    values, plvs = [], []
    for b in range(len(bands)):
        power = np.mean(np.abs(coefficients[b]) ** 2, axis=1)
        plv = plv_matrix(region_analytic[b])
        plvs.append(plv)
        values.append({
            "low_harmonic_share": float(power[:n_low].sum() / power.sum()),
            "mean_region_plv": float(plv[off_diagonal].mean()),
            "mean_golden_index": golden,
        })
    return values, np.stack(plvs)


def trauma_proxy(
    data: np.ndarray,
    sfreq: float,
    bands: Sequence[Band],
    inverse: np.ndarray,
    eigenvectors: np.ndarray,
    region_map: np.ndarray,
    *,
    n_low: int = 5,
    n_surrogates: int = 19,
    dominant_range: tuple[float, float] = (2.0, 30.0),
    seed: int = 0,
) -> list[TraumaProxy]:
    """Trauma proxy of a sensor recording, one per band (see the module docstring).

    Parameters
    ----------
    data : ndarray, shape (n_sensors, n_times)
        Sensor data (V), the channels matched to the inverse's columns.
    sfreq : float
    bands : sequence of Band
        Bands of the harmonic power and the locking. The golden-ratio
        component uses the regions' dominant frequencies over
        ``dominant_range`` and is the same for every band.
    inverse : ndarray, shape (n_modes, n_sensors)
        Sensor-to-harmonic operator (:class:`~harmonix.harmonics.decompose.SensorInverse`).
    eigenvectors : ndarray, shape (n_vertices, >= n_modes)
    region_map : ndarray, shape (n_vertices,)
    n_low : int
        Harmonics counted as "low".
    n_surrogates : int
        Surrogates per recording (19 gives a two-sided 10 % rank test).
    dominant_range : (float, float)
        Hz range searched for each region's dominant frequency.
    seed : int
        Seed of the surrogates.
    """
    data = np.asarray(data, dtype=float)
    if data.ndim != 2 or data.shape[0] != inverse.shape[1]:
        raise ParameterError(f"data must be (n_sensors={inverse.shape[1]}, n_times), got {data.shape}")
    if n_surrogates < 5:
        raise ParameterError(f"n_surrogates must be at least 5 to estimate a spread, got {n_surrogates}")
    regions = region_operator(eigenvectors, region_map, inverse)
    observed, plvs = _statistics(data, sfreq, bands, inverse, regions, n_low, dominant_range)
    rng = np.random.default_rng(seed)
    null = [_statistics(phase_randomized(data, rng), sfreq, bands, inverse, regions, n_low, dominant_range)[0]
            for _ in range(n_surrogates)]
    params = {"n_low": n_low, "n_surrogates": n_surrogates, "surrogate": "phase randomisation, independent per channel",
              "dominant_range": dominant_range, "seed": seed,
              "cshw_rshw_decoupling": "not estimable from sensor recordings (needs vertex-level activity)"}
    results = []
    for b, band in enumerate(bands):
        def z(key: str) -> float:
            values = np.array([s[b][key] for s in null])
            sd = values.std(ddof=1)
            return float((observed[b][key] - values.mean()) / sd) if sd > 0 else float("nan")

        components = {
            "low_harmonic_deficit": -z("low_harmonic_share"),
            "regional_decoupling": -z("mean_region_plv"),
            "golden_ratio_regime": z("mean_golden_index"),
            "cshw_rshw_decoupling": float("nan"),
        }
        available = [v for v in components.values() if np.isfinite(v)]
        results.append(TraumaProxy(band.name, components, observed[b], float(np.mean(available)), plvs[b], params))
    return results


def cshw_rshw_coupling(
    connectome_coefficients: np.ndarray,
    regional_coefficients: np.ndarray,
    sfreq: float,
    low_band: Band,
    high_band: Band,
    *,
    max_order: int = 8,
) -> np.ndarray:
    """n:m phase locking between connectome harmonics (low band) and regional harmonics (high band).

    For connectome harmonic ``k`` (phase :math:`\\phi_k` in ``low_band``) and
    regional harmonic ``j`` (phase :math:`\\psi_j` in ``high_band``), the
    orders come from their dominant frequencies
    (:func:`~harmonix.estimators.locking.nm_orders`, :math:`n f_k \\approx m f_j`)
    and the coupling is :func:`~harmonix.estimators.locking.nm_plv`,
    :math:`|\\langle e^{i(n\\phi_k - m\\psi_j)}\\rangle_t|` (Tass et al. 1998).
    Needs vertex-level activity (e.g. from the simulation core): regional
    harmonics are far finer than EEG sensors resolve.

    Parameters
    ----------
    connectome_coefficients : ndarray, shape (n_cshw, n_times)
        Coefficients of the connectome harmonics of interest (real).
    regional_coefficients : ndarray, shape (n_rshw, n_times)
        Coefficients of one region's harmonics (real), same time base.
    sfreq : float
    low_band, high_band : Band
    max_order : int
        Largest n or m considered.

    Returns
    -------
    coupling : ndarray, shape (n_cshw, n_rshw)
        In [0, 1].
    """
    low = analytic_signal(np.asarray(connectome_coefficients, dtype=float), sfreq, low_band)
    high = analytic_signal(np.asarray(regional_coefficients, dtype=float), sfreq, high_band)
    if low.shape[1] != high.shape[1]:
        raise ParameterError(f"coefficients must share the time axis, got {low.shape} and {high.shape}")
    f_low = _dominant(connectome_coefficients, sfreq, low_band)
    f_high = _dominant(regional_coefficients, sfreq, high_band)
    phase_low, phase_high = np.angle(low), np.angle(high)
    coupling = np.empty((low.shape[0], high.shape[0]))
    for k in range(low.shape[0]):
        for j in range(high.shape[0]):
            n, m = nm_orders(f_low[k], f_high[j], max_order=max_order)
            coupling[k, j] = nm_plv(phase_low[k], phase_high[j], n, m)
    return coupling


def _dominant(x: np.ndarray, sfreq: float, band: Band) -> np.ndarray:
    spectrum = compute_psd(np.asarray(x, dtype=float), sfreq, fmin=band.fmin, fmax=band.fmax)
    keep = (spectrum.freqs >= band.fmin) & (spectrum.freqs < band.fmax)
    return spectrum.freqs[keep][np.argmax(spectrum.psd[:, keep], axis=1)]


def cshw_rshw_decoupling(
    connectome_coefficients: np.ndarray,
    regional_coefficients: np.ndarray,
    sfreq: float,
    low_band: Band,
    high_band: Band,
    *,
    n_surrogates: int = 19,
    min_shift_seconds: float = 1.0,
    seed: int = 0,
) -> float:
    """The trauma proxy's CSHW–RSHW component: ``-z`` of the mean n:m coupling.

    The null distribution circularly shifts the regional coefficients in time
    by at least ``min_shift_seconds`` (keeping every spectrum, destroying the
    cross-scale phase relation); a positive value means weaker coupling than
    typical of the shifted data (trauma-like), a negative one stronger.
    """
    observed = float(cshw_rshw_coupling(connectome_coefficients, regional_coefficients, sfreq, low_band, high_band).mean())
    regional = np.asarray(regional_coefficients, dtype=float)
    n_times = regional.shape[1]
    shift_min = int(min_shift_seconds * sfreq)
    if n_times <= 2 * shift_min or n_surrogates < 5:
        raise ParameterError(f"need more than {2 * min_shift_seconds:g} s of data and at least 5 surrogates")
    rng = np.random.default_rng(seed)
    null = np.array([
        cshw_rshw_coupling(connectome_coefficients, np.roll(regional, int(rng.integers(shift_min, n_times - shift_min)), axis=1),
                           sfreq, low_band, high_band).mean()
        for _ in range(n_surrogates)
    ])
    sd = null.std(ddof=1)
    return float(-(observed - null.mean()) / sd) if sd > 0 else float("nan")
