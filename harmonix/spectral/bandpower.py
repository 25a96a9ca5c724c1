"""Band power and peak frequency from a :class:`~harmonix.spectral.psd.Spectrum`.

Band power is the integral of the one-sided PSD over a band ``[fmin, fmax)``,
computed with the rectangle rule on the spectrum's bin grid:

.. math::

    P_b = \\sum_{k:\\ f_\\mathrm{min} \\le f_k < f_\\mathrm{max}} S(f_k)\\,\\Delta f ,

with :math:`\\Delta f` the bin spacing. Every bin has the weight
:math:`\\Delta f` (the one-sided density already doubles the interior bins, so
the DC and Nyquist bins need no half weight for Parseval's theorem to hold),
and a bin sitting exactly on a shared edge belongs to the upper band, as in
``data/bands.csv``. Adjacent bands therefore partition the bins: each bin is
counted once and the band powers add up to the power of their union. The
integral is accurate to within one bin width at each edge; a spectral line far
from the edges (more than the window's main-lobe half-width, 2 bins for Hann)
contributes its full power :math:`A^2/2`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike

import numpy as np

from harmonix.errors import ParameterError
from harmonix.spectral.bands import Band, load_bands
from harmonix.spectral.psd import Spectrum, as_spectrum, compute_psd

__all__ = ["BandPower", "band_power", "band_mask", "peak_frequency", "windowed_band_power"]

_PEAK_METHODS = ("max", "centroid", "specparam")


@dataclass(frozen=True)
class BandPower:
    """Absolute and relative power per channel and band.

    Parameters
    ----------
    bands : tuple of Band
        The bands, in column order.
    ch_names : tuple of str
        The channels, in row order.
    absolute : ndarray, shape (n_channels, n_bands)
        Integral of the PSD over each band, in V^2 (for a PSD in V^2/Hz).
    relative : ndarray, shape (n_channels, n_bands)
        ``absolute`` divided by the power over the union of all bands
        (dimensionless; sums to 1 over non-overlapping bands).
    """

    bands: tuple[Band, ...]
    ch_names: tuple[str, ...]
    absolute: np.ndarray
    relative: np.ndarray

    def __post_init__(self) -> None:
        for name in ("absolute", "relative"):
            arr = np.array(getattr(self, name), dtype=float)
            if arr.shape != (len(self.ch_names), len(self.bands)):
                raise ParameterError(
                    f"BandPower.{name} must be (n_channels, n_bands) = "
                    f"({len(self.ch_names)}, {len(self.bands)}), got {arr.shape}"
                )
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def band_names(self) -> tuple[str, ...]:
        """Band names in column order."""
        return tuple(b.name for b in self.bands)

    def get(self, band: str, *, relative: bool = False) -> np.ndarray:
        """Return the column of one band by name, shape (n_channels,)."""
        names = self.band_names
        if band not in names:
            raise ParameterError(f"no band {band!r}; have {', '.join(names)}")
        return (self.relative if relative else self.absolute)[:, names.index(band)]


def band_mask(spectrum: Spectrum, band: Band) -> np.ndarray:
    """Boolean mask of the bins ``fmin <= f < fmax`` of ``band``.

    Raises :class:`ParameterError` when the band is not covered by the
    spectrum's frequency range or holds fewer than 2 bins (too narrow for the
    resolution: lengthen the window or widen the band).
    """
    freqs = spectrum.freqs
    df = spectrum.resolution
    src = spectrum.params.get("source", "<array>")
    if freqs.size < 2:
        raise ParameterError(f"{src}: the spectrum has a single bin; band {band.name!r} cannot be measured")
    # Half a bin of slack: a grid point at the band edge represents the band edge.
    if band.fmin < freqs[0] - df / 2 or band.fmax > freqs[-1] + df / 2:
        raise ParameterError(
            f"{src}: band {band.name!r} ({band.fmin:g}-{band.fmax:g} Hz) is outside the spectrum's range "
            f"{freqs[0]:g}-{freqs[-1]:g} Hz; recompute the PSD with a wider fmin/fmax"
        )
    # Tolerance against float grids such as 0.1 * k landing a hair below an edge.
    eps = 1e-6 * df
    mask = (freqs >= band.fmin - eps) & (freqs < band.fmax - eps)
    if mask.sum() < 2:
        raise ParameterError(
            f"{src}: band {band.name!r} ({band.fmin:g}-{band.fmax:g} Hz) holds {int(mask.sum())} frequency bin(s) "
            f"at a resolution of {df:g} Hz; need at least 2 (use a longer window or a wider band)"
        )
    return mask


def band_power(
    spectrum: Spectrum,
    bands: str | PathLike | Mapping[str, Sequence[float]] | Sequence[Band] | None = None,
) -> BandPower:
    """Absolute and relative power in frequency bands.

    Parameters
    ----------
    spectrum : Spectrum | mne.time_frequency.Spectrum
        PSD in V^2/Hz, e.g. from :func:`~harmonix.spectral.psd.compute_psd`
        or MNE's ``raw.compute_psd()``.
    bands : None | path | mapping | sequence of Band
        Anything :func:`~harmonix.spectral.bands.load_bands` accepts; ``None``
        gives delta, theta, alpha, beta, gamma.

    Returns
    -------
    power : BandPower
        ``absolute[c, b] = sum_{f_k in [fmin_b, fmax_b)} S_c(f_k) * df`` in V^2;
        ``relative[c, b] = absolute[c, b] / sum_{f_k in U} S_c(f_k) * df``
        where ``U`` is the set of bins that lie in at least one band (the
        union, each bin counted once). For contiguous, non-overlapping bands
        (the defaults) ``U`` is ``[min fmin, max fmax)`` and the relative
        powers of a channel sum to 1; overlapping bands sum to more than 1.
        A channel with zero power in ``U`` gets NaN relative power.

    Raises
    ------
    ParameterError
        A band outside the spectrum's range or narrower than 2 bins.

    Notes
    -----
    Rectangle rule with weight ``df`` on every bin whose centre frequency lies
    in the half-open band (module docstring). A sinusoid of amplitude ``A``
    well inside a band contributes ``A**2 / 2`` to that band.

    Examples
    --------
    >>> import numpy as np
    >>> from harmonix.spectral.psd import compute_psd
    >>> t = np.arange(0, 30, 1 / 200)
    >>> x = 2.0 * np.sin(2 * np.pi * 10 * t) + 1.0 * np.sin(2 * np.pi * 20 * t)
    >>> bp = band_power(compute_psd(x[None], 200.0))
    >>> bp.band_names
    ('delta', 'theta', 'alpha', 'beta', 'gamma')
    >>> np.round(bp.absolute[0], 3).tolist()
    [0.0, 0.0, 2.0, 0.5, 0.0]
    >>> np.round(bp.relative[0], 3).tolist()
    [0.0, 0.0, 0.8, 0.2, 0.0]
    """
    spectrum = as_spectrum(spectrum, where="band_power")
    bands_t = load_bands(bands)
    df = spectrum.resolution
    masks = np.stack([band_mask(spectrum, b) for b in bands_t])  # (n_bands, n_freqs)
    absolute = spectrum.psd @ masks.T.astype(float) * df
    union = masks.any(axis=0)
    total = spectrum.psd[:, union].sum(axis=1, keepdims=True) * df
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(total > 0, absolute / np.where(total > 0, total, 1.0), np.nan)
    return BandPower(bands=bands_t, ch_names=spectrum.ch_names, absolute=absolute, relative=relative)


def windowed_band_power(
    data: np.ndarray,
    sfreq: float,
    bands: Sequence[Band],
    *,
    window_seconds: float,
    segment_seconds: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Band power in consecutive non-overlapping windows (for comparisons over windows).

    Each window's power is the Welch estimate (segments of
    ``segment_seconds``, 50 % overlap) integrated over each band as in
    :func:`band_power`; a trailing part shorter than a window is left out.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        Signals in V.
    sfreq : float
        Sampling rate in Hz.
    bands : sequence of Band
    window_seconds, segment_seconds : float
        Window and Welch segment lengths in s (``segment <= window``).

    Returns
    -------
    starts : ndarray, shape (n_windows,)
        Window onsets in s.
    power : ndarray, shape (n_windows, n_channels, n_bands)
        Band power in V^2.

    Examples
    --------
    >>> t = np.arange(0, 20, 1 / 100)
    >>> x = np.sin(2 * np.pi * 10 * t) * (t >= 10)  # alpha only in the second half
    >>> starts, power = windowed_band_power(x[None], 100.0, [Band("alpha", 8.0, 13.0)],
    ...                                     window_seconds=5.0, segment_seconds=2.0)
    >>> starts.tolist(), np.round(power[:, 0, 0], 2).tolist()
    ([0.0, 5.0, 10.0, 15.0], [0.0, 0.0, 0.5, 0.5])
    """
    if not 0 < segment_seconds <= window_seconds:
        raise ParameterError(f"segment of {segment_seconds} s must be positive and fit in the {window_seconds} s window")
    n_window = int(round(window_seconds * sfreq))
    n_channels, n_times = data.shape
    n_windows = n_times // n_window
    if n_windows < 1:
        raise ParameterError(f"{n_times / sfreq:.2f} s of data is shorter than one {window_seconds} s window")
    windows = data[:, : n_windows * n_window].reshape(n_channels, n_windows, n_window).transpose(1, 0, 2)
    spectrum = compute_psd(windows.reshape(n_windows * n_channels, n_window), sfreq,
                           window_seconds=segment_seconds, fmin=min(b.fmin for b in bands))
    power = band_power(spectrum, bands).absolute.reshape(n_windows, n_channels, len(bands))
    return np.arange(n_windows) * n_window / sfreq, power


def _parabolic_peak(freqs: np.ndarray, y: np.ndarray) -> float:
    """Vertex of the parabola through the maximum bin and its two neighbours.

    ``y`` is one band's log10 power. NaN when the maximum is on the first or
    last bin: the power rises towards the band edge, so there is no peak
    inside the band.
    """
    i = int(np.argmax(y))
    if i == 0 or i == y.size - 1 or not np.isfinite(y[i]):
        return float("nan")
    y0, y1, y2 = y[i - 1], y[i], y[i + 1]
    denom = y0 - 2.0 * y1 + y2
    delta = 0.0 if denom == 0 else 0.5 * (y0 - y2) / denom
    return float(freqs[i] + delta * (freqs[1] - freqs[0]))


def peak_frequency(spectrum: Spectrum, band: Band | tuple[float, float], *, method: str = "max") -> np.ndarray:
    """Peak frequency of each channel within a band (e.g. individual alpha frequency).

    Parameters
    ----------
    spectrum : Spectrum
        PSD in V^2/Hz.
    band : Band | (fmin, fmax)
        Search range in Hz, half-open ``[fmin, fmax)``.
    method : {'max', 'centroid', 'specparam'}
        ``'max'``: the bin of largest power in the band, refined by a
        parabola through ``log10 S`` at that bin and its two neighbours
        (exact for a Gaussian-shaped peak):
        ``f* = f_i + df * (y_{i-1} - y_{i+1}) / (2 (y_{i-1} - 2 y_i + y_{i+1}))``.
        NaN when the maximum sits on the first or last bin of the band (the
        power is monotonic there: no peak inside). The raw PSD includes the
        1/f background, which pulls the estimate slightly towards ``fmin`` for
        broad peaks.
        ``'centroid'``: the spectral centre of gravity
        ``sum f_k S(f_k) / sum S(f_k)`` over the band (Klimesch 1999's
        "gravity frequency"); always defined, biased towards the band centre
        and by the 1/f slope.
        ``'specparam'``: centre frequency of the strongest periodic peak
        above the fitted aperiodic component, from :func:`~harmonix.spectral.
        aperiodic.fit_aperiodic` with its defaults over 1-45 Hz (widened to
        ``[fmin / 2, 1.5 fmax]`` for bands outside it, clipped to the
        spectrum; Donoghue et al. 2020); NaN where no peak is found.
        The most robust choice when a peak must be told apart from 1/f.

    Returns
    -------
    freq : ndarray, shape (n_channels,)
        Peak frequency in Hz (NaN where undefined).

    References
    ----------
    Klimesch, W. (1999). EEG alpha and theta oscillations reflect cognitive and
    memory performance. Brain Res. Rev. 29:169-195.

    Examples
    --------
    >>> import numpy as np
    >>> from harmonix.spectral.psd import compute_psd
    >>> t = np.arange(0, 20, 1 / 250)
    >>> spec = compute_psd(np.sin(2 * np.pi * 10.3 * t)[None], 250.0, window_seconds=4.0)
    >>> float(np.round(peak_frequency(spec, (8.0, 13.0))[0], 1))
    10.3
    """
    spectrum = as_spectrum(spectrum, where="peak_frequency")
    if not isinstance(band, Band):
        try:
            lo, hi = band
        except (TypeError, ValueError) as err:
            raise ParameterError(f"band must be a Band or (fmin, fmax), got {band!r}") from err
        band = Band("band", float(lo), float(hi))
    if method not in _PEAK_METHODS:
        raise ParameterError(f"unknown peak method {method!r}; use one of {', '.join(_PEAK_METHODS)}")
    if method == "specparam":
        from harmonix.spectral.aperiodic import fit_aperiodic, peak_in_band

        # 1-45 Hz by default, widened to hold the band with some aperiodic context on both sides.
        positive = spectrum.freqs[spectrum.freqs > 0]
        lo = max(float(positive[0]), min(1.0, band.fmin / 2))
        hi = min(float(spectrum.freqs[-1]), max(45.0, band.fmax * 1.5))
        return peak_in_band(fit_aperiodic(spectrum, freq_range=(lo, hi)), band)

    mask = band_mask(spectrum, band)
    freqs = spectrum.freqs[mask]
    psd = spectrum.psd[:, mask]
    if method == "centroid":
        with np.errstate(invalid="ignore", divide="ignore"):
            return (psd @ freqs) / psd.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.log10(psd)
        return np.array([_parabolic_peak(freqs, row) for row in logp])
