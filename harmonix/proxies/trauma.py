"""Trauma proxy: the essay's three signatures, each z-scored against surrogates.

RESEARCH PROXY, NOT A DIAGNOSIS. Johnson's Neural Annealing essay (2019)
predicts that trauma-like states show (1) less energy in the low-frequency
(spatially smooth) connectome harmonics, (2) brain regions sitting in
golden-ratio frequency regimes, which do not interact, and weak locking
between regions, and (3) weak coupling between the connectome-wide harmonics
(CSHWs) and the regions' own harmonics (RSHWs). harmonix measures each
statistic :math:`x` on the recording, and tests it against phase-randomised
surrogates of the sensor data (independent phases per channel: same spectra,
no cross-channel phase relations, see :mod:`harmonix.estimators.surrogates`):

* ``low_harmonic_deficit``: :math:`-z` of the share of harmonic power
  :math:`\\sum_{k<n_{low}} \\langle|a_k|^2\\rangle / \\sum_k \\langle|a_k|^2\\rangle`
  in the band (Atasoy et al. 2017);
* ``regional_decoupling``: :math:`-z` of the mean phase-locking value between
  region time courses (harmonic reconstruction averaged over each region);
* ``golden_ratio_regime``: :math:`z` of the mean golden-ratio decoupling index
  of the regions' dominant frequencies (:func:`~harmonix.estimators.frequency_ratios.frequency_ratio_decoupling`);
* ``cshw_rshw_decoupling``: :math:`-z` of the mean n:m phase locking between
  low-band connectome harmonics and a region's high-band regional harmonics
  (:func:`cshw_rshw_decoupling`, null from circular time shifts). It needs
  vertex-level activity (regional harmonics are far finer than an EEG cap
  resolves): NaN in :func:`trauma_proxy` of sensor recordings, available for
  simulated sources.

**The null, on windows.** A surrogate of the whole recording would cost a
full re-analysis each. Instead the recording's good spans are tiled with
windows of ``window_seconds`` (at least the longest band-pass filter), up to
``max_windows`` of them are taken evenly over the recording, and in each
window :math:`w` the statistic is computed on the window itself,
:math:`x_w`, and on ``S`` phase-randomised surrogates of it, :math:`x_{ws}`.
Both are computed the same way, from the window's discrete Fourier transform
(after end-matching: the line through each channel's end samples is taken
out), so that, under the null of independent channels, :math:`x_w` and the
:math:`x_{ws}` are exchangeable (the standard surrogate assumption: given the
periodograms, the channels' Fourier phases are independent and uniform): the
band statistics with band-pass and Hilbert as circular filters, evaluated
only away from the window's ends (where its wrap-around would ring through
every channel at once), on each band's own decimated grid; the regions'
dominant frequencies from the window's periodogram of the region means in
0.5-Hz bins, which the surrogates share but for the phases between channels
(a Welch estimate would also see each channel's temporal structure, which
phase randomisation does not keep). With
:math:`d_w = x_w - \\bar x_{w\\cdot}` and the pooled within-window variance of
the surrogates :math:`s^2` (:math:`M(S-1)` degrees of freedom),

.. math::

    z = \\frac{\\bar d}{\\sqrt{s^2 (1 + 1/S) / M}},

which under the null follows Student's t with :math:`M(S-1)` degrees of
freedom (about N(0, 1)); ``S`` is chosen so that at least
``min_surrogate_windows`` surrogate windows are drawn. The golden-ratio
index moves in steps (dominant frequencies lie on a grid) and often ties
with its surrogates, which a t statistic mishandles; its z is a randomised
rank test instead (:func:`normal_scores_z`), exact under the same
exchangeability. The z-scores are signed
so that a positive component is trauma-like. The observed values reported
(``TraumaProxy.observed``) are those of the whole recording.

The combined proxy is the mean of the available components. Surrogates keep
every channel's spectrum and the linear mixing of the inverse, so the
z-scores measure structure beyond what volume conduction and spectra alone
produce.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.fft
from threadpoolctl import threadpool_limits

from harmonix.errors import ParameterError
from harmonix.estimators.accumulators import PhaseLockingSum, cross_phasor_sum, modulus_sums, real_matrix_apply
from harmonix.estimators.frequency_ratios import frequency_ratio_decoupling
from harmonix.estimators.locking import nm_orders, nm_plv
from harmonix.harmonics.crosstalk import region_modes
from harmonix.spectral.bands import Band
from harmonix.spectral.filterbank import analytic_response, analytic_signal, design_band_filter, iter_analytic_blocks
from harmonix.spectral.psd import compute_psd
from harmonix.spectral.segments import WelchAccumulator, WindowCollector, spread_evenly, tile_windows

PROXY_NOTE = (
    "research proxy, not a diagnosis: low-harmonic energy deficit, inter-regional decoupling and golden-ratio "
    "frequency regimes (Johnson 2019, Neural Annealing), each z-scored against phase-randomised surrogates "
    "of windows of the recording"
)

COMPONENTS = ("low_harmonic_deficit", "regional_decoupling", "golden_ratio_regime", "cshw_rshw_decoupling")
STATISTICS = ("low_harmonic_share", "mean_region_plv", "mean_golden_index")
"""The observed statistics behind the first three components, in this order."""

NULL_WINDOW_SECONDS = 10.0
"""Length of the windows the surrogate null is computed on (at least the longest FIR is used)."""

MAX_NULL_WINDOWS = 40
"""Windows of the recording the null is computed on, spread evenly (all when fewer)."""

MIN_SURROGATE_WINDOWS = 40
"""Surrogate windows drawn in all (at least 2 per window)."""

DOMINANT_RANGE = (2.0, 30.0)
"""Hz range searched for each region's dominant frequency."""

DOMINANT_WINDOW_SECONDS = 2.0
"""Welch segment for the regions' dominant frequencies (0.5 Hz resolution)."""


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
    return region_modes(eigenvectors, region_map, inverse.shape[0]) @ inverse


def golden_index(freqs: np.ndarray, psd: np.ndarray) -> float:
    """Mean golden-ratio decoupling index over region pairs of their dominant frequencies.

    ``psd`` is ``(n_regions, n_freqs)`` on ``freqs`` (already restricted to
    the search range); each region's dominant frequency is its PSD maximum.
    """
    dominant = freqs[np.argmax(psd, axis=1)]
    ratios = frequency_ratio_decoupling(dominant[:, np.newaxis], dominant[np.newaxis, :])
    return float(np.mean(ratios.decoupling_index[np.triu_indices(dominant.size, 1)]))


def _mean_off_diagonal(plv: np.ndarray) -> float:
    n = plv.shape[-1]
    return float((plv.sum() - np.trace(plv)) / (n * (n - 1)))


@dataclass(frozen=True)
class _BandGrid:
    """Where one band's analytic signal lives in a window's spectrum, and where it is evaluated.

    The band-passed analytic signal of a window is band-limited: its bins
    ``[k0, k1)`` where the gain reaches :data:`SUPPORT_FLOOR` (passband and
    transition bands), placed in an inverse FFT of length ``K`` (at least
    twice the support), give its values at ``K`` evenly spaced times, up to a phase
    ramp :math:`e^{2\\pi i k_0 n / K}` common to every channel, which neither
    phase differences nor power see. ``inner`` keeps the times at least one
    margin away from the window's ends.
    """

    k0: int
    k1: int
    gain: np.ndarray
    size: int
    inner: slice


SUPPORT_FLOOR = 1e-2
"""Gain (relative to the passband) below which a band's bins are left out of the null's grid: -40 dB,
under the transition bands and above the FIR's Hamming stopband sidelobes (about -53 dB)."""


def _band_grid(gain: np.ndarray, length: int, margin: int) -> _BandGrid:
    support = np.flatnonzero(np.abs(gain) >= SUPPORT_FLOOR * np.abs(gain).max())
    k0, k1 = int(support[0]), int(support[-1]) + 1
    size = min(length, int(scipy.fft.next_fast_len(max(2 * (k1 - k0), 16))))
    if size < k1 - k0:
        size = length
    first = int(np.ceil(margin * size / length))
    last = int(np.floor((length - margin) * size / length - 1e-9)) + 1
    return _BandGrid(k0, k1, gain[k0:k1].astype(np.float32), size, slice(first, max(last, first + 1)))


@dataclass(frozen=True)
class _WindowModel:
    """What one null window's statistics need, built once per window length."""

    sfreq: float
    length: int
    grids: tuple[_BandGrid, ...]  # one per band
    inverse: np.ndarray           # (n_modes, n_sensors)
    regions: np.ndarray           # (n_regions, n_modes)
    n_low: int
    dominant_range: tuple[float, float]


def _window_statistics(spectra: np.ndarray, model: _WindowModel) -> np.ndarray:
    """``(n_windows, n_bands, 3)`` statistics from sensor rFFTs ``(n_windows, n_sensors, n_pos)``.

    The windows (a window and its surrogates) go through in one batch; each
    band is evaluated on its own decimated grid (:class:`_BandGrid`).
    """
    n = model.length
    modes = real_matrix_apply(model.inverse, spectra)  # project first: 30 rows, not 64
    regions = model.regions
    n_regions = regions.shape[0]
    pairs = n_regions * (n_regions - 1)
    out = np.empty((spectra.shape[0], len(model.grids), 3))
    for b, grid in enumerate(model.grids):
        band = np.zeros((*modes.shape[:-1], grid.size), dtype=np.complex64)
        band[..., : grid.k1 - grid.k0] = modes[..., grid.k0 : grid.k1] * grid.gain
        # The circular filter wraps the window's end onto its start; the step there would
        # ring through every channel at once, so only the interior is evaluated.
        a = np.ascontiguousarray(scipy.fft.ifft(band, axis=-1)[..., grid.inner])  # BLAS needs contiguous rows
        power = np.mean(np.abs(a) ** 2, axis=-1)  # (n_windows, n_modes)
        out[:, b, 0] = power[:, : model.n_low].sum(axis=-1) / power.sum(axis=-1)
        region_signals = real_matrix_apply(regions, a)
        for w in range(region_signals.shape[0]):
            locking = np.abs(cross_phasor_sum(region_signals[w])) / region_signals.shape[-1]
            out[w, b, 1] = (locking.sum() - np.trace(locking)) / pairs
    # The regions' spectra from the window's own Fourier transform, averaged in bins of the dominant
    # frequency's resolution: phase randomisation keeps every channel's |X(f)|, so a window and its
    # surrogates differ only in the phases between channels, which is what the null is about.
    lo, hi = model.dominant_range
    step = model.sfreq / n
    width = max(1, int(round(1.0 / (DOMINANT_WINDOW_SECONDS * step))))
    first = int(np.ceil(lo / step))
    count = (int(np.floor(hi / step)) - first + 1) // width
    spectra_in_range = real_matrix_apply(regions, modes[..., first : first + count * width])
    power = np.abs(spectra_in_range) ** 2
    binned = power.reshape(*power.shape[:-1], count, width).mean(axis=-1)  # (n_windows, n_regions, count)
    centres = (first + (np.arange(count) + 0.5) * width - 0.5) * step
    out[:, :, 2] = np.array([golden_index(centres, r) for r in binned])[:, np.newaxis]
    return out


class TraumaNull:
    """Observed and surrogate statistics of windows of a recording, and the z-scores they give.

    Parameters
    ----------
    model : _WindowModel
    n_surrogates : int
        Surrogates per window (``S`` >= 2).
    seed : int
        Surrogates of window ``w`` are drawn from ``default_rng([seed, w])``,
        whatever order the windows arrive in.
    """

    def __init__(self, model: _WindowModel, n_surrogates: int, seed: int) -> None:
        if n_surrogates < 2:
            raise ParameterError(f"need at least 2 surrogates per window to estimate the spread, got {n_surrogates}")
        self.model, self.n_surrogates, self.seed = model, int(n_surrogates), int(seed)
        self._observed: list[np.ndarray] = []
        self._surrogates: list[np.ndarray] = []

    def add(self, window_index: int, window: np.ndarray) -> None:
        """Statistics of one sensor window ``(n_sensors, length)`` and of its surrogates."""
        window = np.asarray(window, dtype=float)
        # End-matching (Schreiber & Schmitz 2000): the line through each channel's first and last
        # samples is taken out, so the window's periodic extension has no step. A step's broadband
        # leakage would otherwise be spread by phase randomisation over the whole surrogate.
        ramp = np.linspace(0.0, 1.0, window.shape[-1])
        window = window - window[:, :1] - (window[:, -1:] - window[:, :1]) * ramp
        spectrum = scipy.fft.rfft(window, axis=-1)
        rng = np.random.default_rng([self.seed, int(window_index)])
        # Independent phases per channel; DC (and Nyquist) keep theirs so the surrogates stay real.
        angles = (2 * np.pi) * rng.random((self.n_surrogates, *spectrum.shape), dtype=np.float32)
        phases = np.cos(angles) + 1j * np.sin(angles)
        phases[..., 0] = 1.0
        if self.model.length % 2 == 0:
            phases[..., -1] = 1.0
        # Small matrices: a multi-threaded BLAS spends more on waking threads than on the work.
        with threadpool_limits(limits=1, user_api="blas"):
            stats = _window_statistics(np.concatenate([spectrum[np.newaxis], spectrum * phases]), self.model)
        self._observed.append(stats[0])
        self._surrogates.append(stats[1:])

    @property
    def n_windows(self) -> int:
        return len(self._observed)

    def z(self) -> tuple[np.ndarray, int]:
        """``(n_bands, 3)`` z-scores of :data:`STATISTICS` and the t statistic's degrees of freedom.

        The two continuous statistics get the paired-window t statistic; the
        golden-ratio index, which moves in steps (dominant frequencies on a
        0.5-Hz grid) and often ties with its surrogates, gets
        :func:`normal_scores_z`, calibrated whatever the ties.
        """
        if self.n_windows < 1:
            raise ParameterError("no window of the recording was long enough for the surrogate null")
        observed = np.stack(self._observed)      # (M, n_bands, 3)
        surrogates = np.stack(self._surrogates)  # (M, S, n_bands, 3)
        m, s = surrogates.shape[:2]
        difference = (observed - surrogates.mean(axis=1)).mean(axis=0)
        pooled = surrogates.var(axis=1, ddof=1).mean(axis=0)
        se = np.sqrt(pooled * (1.0 + 1.0 / s) / m)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(se > 0, difference / np.where(se > 0, se, 1.0), np.nan)
        rng = np.random.default_rng([self.seed, m, s])
        golden = normal_scores_z(observed[:, 0, 2], surrogates[:, :, 0, 2], rng)
        z[:, 2] = golden
        return z, m * (s - 1)


def normal_scores_z(observed: np.ndarray, surrogates: np.ndarray, rng: np.random.Generator) -> float:
    """Randomised rank test of windows against their surrogates, as a z-score (van der Waerden normal scores).

    In window :math:`w` the observed value's rank :math:`r_w` among itself
    and its ``S`` surrogates (ties broken uniformly at random) is uniform on
    ``0..S`` under exchangeability, whatever the statistic's distribution;
    its normal score :math:`q_w = \\Phi^{-1}((r_w + 1/2)/(S + 1))` then has mean
    0 and the known variance :math:`v_S` of the ``S + 1`` scores, and

    .. math:: z = \\frac{\\sum_w q_w}{\\sqrt{M v_S}} .

    Parameters
    ----------
    observed : ndarray, shape (M,)
    surrogates : ndarray, shape (M, S)
    rng : numpy.random.Generator
        Breaks ties.
    """
    from scipy.stats import norm

    m, s = surrogates.shape
    below = (surrogates < observed[:, np.newaxis]).sum(axis=1)
    tied = (surrogates == observed[:, np.newaxis]).sum(axis=1)
    ranks = below + np.floor(rng.random(m) * (tied + 1)).astype(int)
    scores = norm.ppf((np.arange(s + 1) + 0.5) / (s + 1))
    return float(scores[ranks].sum() / np.sqrt(m * np.mean(scores**2)))


def null_windows(spans: np.ndarray, sfreq: float, bands: Sequence[Band], *, window_seconds: float = NULL_WINDOW_SECONDS,
                 max_windows: int = MAX_NULL_WINDOWS, min_surrogate_windows: int = MIN_SURROGATE_WINDOWS,
                 taps: Sequence[np.ndarray] | None = None) -> tuple[np.ndarray, int, int]:
    """Starts of the windows the null uses, their length (samples) and surrogates per window.

    Windows tile each span; each holds ``window_seconds`` (at least one
    longest FIR) of evaluated samples plus one longest FIR on either side,
    the margin that keeps the circular filters' wrap-around out of the
    statistics. At most ``max_windows`` are taken, evenly spread over the
    recording.
    """
    taps = [design_band_filter(b, sfreq) for b in bands] if taps is None else taps
    margin = max(len(t) for t in taps)
    length = max(int(round(window_seconds * sfreq)), margin) + 2 * margin
    tiles = tile_windows(spans, length)
    if tiles.size == 0:
        return tiles, length, 0
    starts = spread_evenly(tiles, max_windows)
    per_window = max(2, int(np.ceil(min_surrogate_windows / starts.size)))
    return starts, length, per_window


class TraumaAccumulator:
    """The trauma proxy of a stream of blocks: whole-recording statistics plus the windowed null.

    Fed by :func:`harmonix.pipeline.analyze_eeg` (and :func:`trauma_proxy`)
    with each block's band-limited harmonic coefficients, their region
    means, the broadband coefficients and the sensor samples.
    """

    def __init__(self, bands: Sequence[Band], sfreq: float, inverse: np.ndarray, regions: np.ndarray,
                 spans: np.ndarray, *, n_low: int = 5, dominant_range: tuple[float, float] = DOMINANT_RANGE,
                 seed: int = 0, taps: Sequence[np.ndarray] | None = None, window_seconds: float = NULL_WINDOW_SECONDS,
                 max_windows: int = MAX_NULL_WINDOWS, min_surrogate_windows: int = MIN_SURROGATE_WINDOWS) -> None:
        self.bands, self.sfreq, self.n_low, self.seed = tuple(bands), float(sfreq), int(n_low), int(seed)
        self.dominant_range = dominant_range
        taps = [design_band_filter(b, sfreq) for b in bands] if taps is None else list(taps)
        n_modes, n_regions = inverse.shape[0], regions.shape[0]
        self.region_plv = PhaseLockingSum(len(bands), n_regions)
        self._power = np.zeros((len(bands), n_modes))
        self._regions = regions
        nperseg = int(round(DOMINANT_WINDOW_SECONDS * sfreq))
        # The regions' spectra from the FFTs of the (fewer) harmonic coefficients they mix.
        self._region_welch = WelchAccumulator(n_modes, sfreq, spans, nperseg, mixing=regions,
                                              freq_range=dominant_range)
        starts, length, per_window = null_windows(spans, sfreq, bands, window_seconds=window_seconds,
                                                  max_windows=max_windows,
                                                  min_surrogate_windows=min_surrogate_windows, taps=taps)
        self._collector = WindowCollector(starts, length)
        margin = max(len(t) for t in taps)
        grids = tuple(_band_grid(analytic_response(t, length), length, margin) for t in taps)
        self._null = TraumaNull(_WindowModel(self.sfreq, length, grids, inverse, regions, self.n_low, dominant_range),
                                max(per_window, 2), seed)
        self.null_params = {"window_seconds": (length - 2 * margin) / sfreq, "margin_seconds": margin / sfreq,
                            "n_windows": int(starts.size),
                            "surrogates_per_window": int(per_window)}

    def feed(self, start: int, coefficients: np.ndarray, region_analytic: np.ndarray, broadband: np.ndarray,
             sensors: np.ndarray, *, bands: np.ndarray | None = None) -> None:
        """Add one block.

        Parameters
        ----------
        start : int
            Stream sample of the block's first sample.
        coefficients : ndarray, shape (n_bands, n_modes, n), complex
            Band-limited analytic harmonic coefficients.
        region_analytic : ndarray, shape (n_bands, n_regions, n), complex
            Their region means (``regions @ coefficients``).
        broadband : ndarray, shape (n_modes, n)
            Real broadband harmonic coefficients (for the regions' spectra).
        sensors : ndarray, shape (n_sensors, n)
            The sensor samples (for the null's windows).
        bands : ndarray of bool | None
            Bands this block's span is long enough for.
        """
        chosen = np.ones(len(self.bands), bool) if bands is None else np.asarray(bands, bool)
        self._power[chosen] += modulus_sums(coefficients[chosen].reshape(-1, coefficients.shape[-1]))[1].reshape(
            self._power[chosen].shape)
        self.region_plv.feed(region_analytic, bands=chosen)
        self._region_welch.feed(start, broadband)
        index, windows = self._collector.feed(start, sensors)
        for i, window in zip(index, windows):
            self._null.add(int(i), window)

    def result(self) -> list[TraumaProxy]:
        """One :class:`TraumaProxy` per band."""
        z, dof = self._null.z()
        plv = self.region_plv.plv()
        golden = golden_index(self._region_welch.freqs, self._region_welch.psd())
        params = {"n_low": self.n_low, "surrogate": "phase randomisation, independent per channel, per window",
                  "null": {**self.null_params, "degrees_of_freedom": int(dof),
                           "statistic": "paired window differences, z = mean(d) / sqrt(s^2 (1 + 1/S) / M)"},
                  "dominant_range": self.dominant_range, "seed": self.seed,
                  "cshw_rshw_decoupling": "not estimable from sensor recordings (needs vertex-level activity)"}
        results = []
        for b, band in enumerate(self.bands):
            power = self._power[b]
            observed = {"low_harmonic_share": float(power[: self.n_low].sum() / power.sum()),
                        "mean_region_plv": _mean_off_diagonal(plv[b]), "mean_golden_index": golden}
            components = {
                "low_harmonic_deficit": -float(z[b, 0]),
                "regional_decoupling": -float(z[b, 1]),
                "golden_ratio_regime": float(z[b, 2]),
                "cshw_rshw_decoupling": float("nan"),
            }
            available = [v for v in components.values() if np.isfinite(v)]
            combined = float(np.mean(available)) if available else float("nan")
            results.append(TraumaProxy(band.name, components, observed, combined, plv[b], params))
        return results


def trauma_proxy(
    data: np.ndarray,
    sfreq: float,
    bands: Sequence[Band],
    inverse: np.ndarray,
    eigenvectors: np.ndarray,
    region_map: np.ndarray,
    *,
    n_low: int = 5,
    dominant_range: tuple[float, float] = DOMINANT_RANGE,
    seed: int = 0,
    window_seconds: float = NULL_WINDOW_SECONDS,
    max_windows: int = MAX_NULL_WINDOWS,
    min_surrogate_windows: int = MIN_SURROGATE_WINDOWS,
) -> list[TraumaProxy]:
    """Trauma proxy of a sensor recording, one per band (see the module docstring).

    The same :class:`TraumaAccumulator` that :func:`harmonix.pipeline.analyze_eeg`
    feeds while streaming a file, applied to an array.

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
    dominant_range : (float, float)
        Hz range searched for each region's dominant frequency.
    seed : int
        Seed of the surrogates.
    window_seconds, max_windows, min_surrogate_windows
        The windowed null (module docstring).
    """
    data = np.asarray(data, dtype=float)
    if data.ndim != 2 or data.shape[0] != inverse.shape[1]:
        raise ParameterError(f"data must be (n_sensors={inverse.shape[1]}, n_times), got {data.shape}")
    bands = tuple(bands)
    taps = [design_band_filter(b, sfreq) for b in bands]
    regions = region_modes(eigenvectors, region_map, inverse.shape[0])
    spans = np.array([[0, data.shape[1]]])
    accumulator = TraumaAccumulator(bands, sfreq, inverse, regions, spans, n_low=n_low, dominant_range=dominant_range,
                                    seed=seed, taps=taps, window_seconds=window_seconds, max_windows=max_windows,
                                    min_surrogate_windows=min_surrogate_windows)
    broadband = inverse @ data
    for block in iter_analytic_blocks(broadband, sfreq, bands, taps=taps):
        region_analytic = np.einsum("rk,bkt->brt", regions, block.values)
        accumulator.feed(block.start, block.values, region_analytic, block.signal,
                         data[:, block.start:block.stop])
    return accumulator.result()


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
