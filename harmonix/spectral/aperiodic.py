"""Periodic/aperiodic split of power spectra with ``specparam`` (formerly FOOOF).

Each channel's PSD is modelled in log10 power as an aperiodic component plus
Gaussian peaks (Donoghue et al. 2020):

.. math::

    \\log_{10} S(f) = L(f) + \\sum_i a_i \\exp\\!\\left(-\\frac{(f - c_i)^2}{2 w_i^2}\\right),
    \\qquad
    L(f) = b - \\log_{10}\\!\\left(k + f^{\\chi}\\right),

with offset :math:`b`, exponent :math:`\\chi` and knee :math:`k` (``k = 0``
in the ``'fixed'`` mode, where :math:`L` is a straight line of slope
:math:`-\\chi` in log-log axes, i.e. :math:`S \\propto f^{-\\chi}`).

Units: the PSD is passed to specparam in linear V^2/Hz and specparam takes
its log10, so the offset is :math:`\\log_{10}` of the aperiodic power density
extrapolated to 1 Hz, in log10(V^2/Hz) (add 12 for log10(µV^2/Hz)); the
exponent and peak heights are unit-free (a change of scale only shifts the
offset). Peak heights are in log10 power above the aperiodic fit, so
``min_peak_height=0.1`` means a peak at least 10**0.1 = 1.26 times the
background.

References
----------
Donoghue, T., Haller, M., Peterson, E. J., et al. (2020). Parameterizing neural
power spectra into periodic and aperiodic components. Nat. Neurosci.
23:1655-1665. https://doi.org/10.1038/s41593-020-00744-x
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from harmonix.errors import ParameterError
from harmonix.spectral.bands import Band
from harmonix.spectral.psd import Spectrum, as_spectrum

__all__ = ["AperiodicFit", "fit_aperiodic", "peak_in_band"]

_SPECPARAM_MIN = "2.0.0rc1"
"""specparam 2.0 renamed the result API (``get_params('aperiodic')``, metrics by
category); the 1.x names would fail or, worse, return other fields. Tested
with 2.0.0rc7; release candidates may still change the API."""

_APERIODIC_MODES = ("fixed", "knee")


def _import_specparam():
    from packaging.version import InvalidVersion, Version  # a dependency of mne

    try:
        import specparam
    except ImportError as err:  # pragma: no cover - a hard dependency
        raise ImportError(f"harmonix.spectral.aperiodic needs specparam>={_SPECPARAM_MIN}") from err
    version = getattr(specparam, "__version__", "0")
    try:
        too_old = Version(version) < Version(_SPECPARAM_MIN)
    except InvalidVersion:
        too_old = True
    if too_old:
        raise ImportError(f"harmonix needs specparam>={_SPECPARAM_MIN} (its 2.x result API); found {version}")
    return specparam


@dataclass(frozen=True)
class AperiodicFit:
    """specparam fit of every channel.

    Parameters
    ----------
    ch_names : tuple of str
        Channels, in row order.
    freq_range : (float, float)
        Fitted range in Hz.
    offset : ndarray, shape (n_channels,)
        Aperiodic offset ``b`` in log10(V^2/Hz) (aperiodic power at 1 Hz when
        there is no knee).
    exponent : ndarray, shape (n_channels,)
        Aperiodic exponent ``chi`` (``S ~ f**-chi``), dimensionless.
    knee : ndarray, shape (n_channels,) | None
        Knee parameter ``k`` in Hz**chi for ``aperiodic_mode='knee'`` (knee
        frequency ``k**(1/chi)`` Hz); None for ``'fixed'``.
    r_squared : ndarray, shape (n_channels,)
        R^2 of the full model against log10 power.
    error : ndarray, shape (n_channels,)
        Mean absolute error of the full model, in log10 power.
    peaks : tuple of ndarray
        One array per channel, shape (n_peaks, 3): centre frequency (Hz),
        power above the aperiodic fit (log10), bandwidth (Hz, ``2 * sd`` of
        the Gaussian, specparam 2.x's convention). Sorted by centre frequency.

    Notes
    -----
    Channels whose spectrum could not be fitted (zero or non-finite power in
    the range, or a failed fit) have NaN in every field and no peaks.
    """

    ch_names: tuple[str, ...]
    freq_range: tuple[float, float]
    offset: np.ndarray
    exponent: np.ndarray
    knee: np.ndarray | None
    r_squared: np.ndarray
    error: np.ndarray
    peaks: tuple[np.ndarray, ...]

    def aperiodic_psd(self, freqs: np.ndarray) -> np.ndarray:
        """Aperiodic component in V^2/Hz at ``freqs`` (Hz), shape (n_channels, n_freqs)."""
        f = np.asarray(freqs, dtype=float)[None, :]
        knee = np.zeros_like(self.offset) if self.knee is None else self.knee
        return 10.0 ** (self.offset[:, None] - np.log10(knee[:, None] + f ** self.exponent[:, None]))


def fit_aperiodic(
    spectrum: Spectrum,
    *,
    freq_range: tuple[float, float] = (1.0, 45.0),
    max_n_peaks: int = 6,
    peak_width_limits: tuple[float, float] = (1.0, 8.0),
    min_peak_height: float = 0.1,
    aperiodic_mode: str = "fixed",
) -> AperiodicFit:
    """Split each channel's PSD into aperiodic (1/f) and periodic (peaks) parts.

    Parameters
    ----------
    spectrum : Spectrum
        PSD in V^2/Hz. Smooth estimates fit best (Welch over >= 30 s, or
        multitaper); specparam recommends a resolution finer than half the
        lower peak-width limit.
    freq_range : (float, float)
        Range to fit, in Hz, within the spectrum and above 0 Hz.
    max_n_peaks : int
        Largest number of Gaussian peaks per channel.
    peak_width_limits : (float, float)
        Bounds on peak bandwidth (``2 * sd``) in Hz.
    min_peak_height : float
        Smallest peak height above the aperiodic fit, in log10 power.
    aperiodic_mode : {'fixed', 'knee'}
        ``'fixed'``: a line in log-log axes; ``'knee'``: with a bend, for
        wide ranges (e.g. 1-100 Hz intracranial data).

    Returns
    -------
    fit : AperiodicFit
        Offset, exponent, knee, goodness of fit and peaks per channel.

    Notes
    -----
    All channels are fitted by one ``specparam.SpectralGroupModel`` (the
    model and its settings are built once). specparam works on
    ``log10(psd)`` internally: pass linear V^2/Hz and read the offset in
    log10(V^2/Hz) (module docstring). The model is
    ``log10 S(f) = b - log10(k + f**chi) + sum of Gaussians``.

    Spectral smoothing steepens the apparent slope near the low end of the
    range, where 1/f is most curved: on synthetic 1/f**1.5 noise fitted over
    1-45 Hz, Welch with 4-s Hann windows gave exponents within 0.05 of the
    truth, multitaper on 4-s segments (bandwidth 2 Hz) about 0.06 too steep.
    Keep ``freq_range[0]`` above the smoothing width (multitaper bandwidth,
    or 2 bins for Welch).

    References
    ----------
    Donoghue, T., et al. (2020). Nat. Neurosci. 23:1655-1665.

    Examples
    --------
    >>> import numpy as np
    >>> f = np.arange(0.0, 60.0, 0.25)
    >>> with np.errstate(divide="ignore"):
    ...     psd = 1e-10 * f ** -2.0 * (1 + 3 * np.exp(-0.5 * ((f - 10) / 1.0) ** 2))
    >>> psd[0] = psd[1]
    >>> spec = Spectrum(f, psd[None], ("Oz",), "welch", {})
    >>> fit = fit_aperiodic(spec)
    >>> round(float(fit.exponent[0]), 2), round(float(fit.offset[0]), 1)
    (2.0, -10.0)
    >>> round(float(peak_in_band(fit, (8, 13))[0]), 1)
    10.0
    """
    spectrum = as_spectrum(spectrum, where="fit_aperiodic")
    specparam = _import_specparam()
    if aperiodic_mode not in _APERIODIC_MODES:
        raise ParameterError(f"unknown aperiodic_mode {aperiodic_mode!r}; use one of {', '.join(_APERIODIC_MODES)}")
    src = spectrum.params.get("source", "<array>")
    lo, hi = (float(v) for v in freq_range)
    freqs = spectrum.freqs
    tol = 0.5 * spectrum.resolution if freqs.size > 1 else 0.0
    if not (0 < lo < hi):
        raise ParameterError(f"{src}: freq_range must satisfy 0 < fmin < fmax Hz (log frequency), got {freq_range}")
    if lo < freqs[0] - tol or hi > freqs[-1] + tol:
        raise ParameterError(
            f"{src}: freq_range {lo:g}-{hi:g} Hz is outside the spectrum's range {freqs[0]:g}-{freqs[-1]:g} Hz; "
            f"recompute the PSD with a wider fmin/fmax or narrow freq_range"
        )
    in_range = (freqs >= lo - 1e-9) & (freqs <= hi + 1e-9)
    n_bins = int(in_range.sum())
    if n_bins < 10:
        raise ParameterError(
            f"{src}: freq_range {lo:g}-{hi:g} Hz holds {n_bins} bins at {spectrum.resolution:g} Hz resolution; "
            f"need at least 10 for a 1/f fit (use a longer window)"
        )
    wl, wh = (float(v) for v in peak_width_limits)
    if not (0 < wl < wh):
        raise ParameterError(f"peak_width_limits must satisfy 0 < low < high Hz, got {peak_width_limits}")
    if int(max_n_peaks) < 0:
        raise ParameterError(f"max_n_peaks must be >= 0, got {max_n_peaks}")

    n_ch = spectrum.n_channels
    sub = spectrum.psd[:, in_range]
    ok = np.all(np.isfinite(sub) & (sub > 0), axis=1)

    offset = np.full(n_ch, np.nan)
    exponent = np.full(n_ch, np.nan)
    knee = np.full(n_ch, np.nan) if aperiodic_mode == "knee" else None
    r_squared = np.full(n_ch, np.nan)
    error = np.full(n_ch, np.nan)
    peaks: list[np.ndarray] = [np.empty((0, 3)) for _ in range(n_ch)]

    if ok.any():
        group = specparam.SpectralGroupModel(
            peak_width_limits=(wl, wh),
            max_n_peaks=int(max_n_peaks),
            min_peak_height=float(min_peak_height),
            aperiodic_mode=aperiodic_mode,
            verbose=False,
        )
        with warnings.catch_warnings():
            # specparam's rc API notices and curve_fit's OptimizeWarning: the fit
            # quality is reported through r_squared/error instead.
            warnings.simplefilter("ignore")
            group.fit(freqs[in_range], sub[ok], [lo, hi])
        labels = list(group.modes.aperiodic.params.labels)
        ap = np.asarray(group.get_params("aperiodic"), dtype=float).reshape(-1, len(labels))
        rows = np.flatnonzero(ok)
        offset[rows] = ap[:, labels.index("offset")]
        exponent[rows] = ap[:, labels.index("exponent")]
        if knee is not None:
            knee[rows] = ap[:, labels.index("knee")]
        r_squared[rows] = np.asarray(group.get_metrics("gof"), dtype=float).ravel()
        error[rows] = np.asarray(group.get_metrics("error"), dtype=float).ravel()
        # 'peak' holds converted parameters (cf Hz, height above aperiodic in
        # log10, bandwidth 2*sd Hz) plus the spectrum index in the last column.
        pk = np.asarray(group.get_params("peak"), dtype=float).reshape(-1, 4)
        for j, row in enumerate(rows):
            mine = pk[pk[:, 3] == j, :3]
            mine = mine[np.all(np.isfinite(mine), axis=1)]
            peaks[row] = mine[np.argsort(mine[:, 0])]

    for arr in (offset, exponent, r_squared, error) + ((knee,) if knee is not None else ()):
        arr.setflags(write=False)
    for arr in peaks:
        arr.setflags(write=False)
    return AperiodicFit(
        ch_names=spectrum.ch_names,
        freq_range=(lo, hi),
        offset=offset,
        exponent=exponent,
        knee=knee,
        r_squared=r_squared,
        error=error,
        peaks=tuple(peaks),
    )


def peak_in_band(fit: AperiodicFit, band: Band | tuple[float, float]) -> np.ndarray:
    """Centre frequency of the strongest periodic peak inside a band, per channel.

    With the alpha band this is the specparam estimate of the individual alpha
    frequency (IAF): the peak is measured above the aperiodic component, so
    the 1/f slope does not bias it, and a channel without an alpha peak gets
    NaN instead of a spurious maximum.

    Parameters
    ----------
    fit : AperiodicFit
        From :func:`fit_aperiodic`.
    band : Band | (fmin, fmax)
        Half-open range ``[fmin, fmax)`` in Hz for the peak's centre.

    Returns
    -------
    freq : ndarray, shape (n_channels,)
        Centre frequency (Hz) of the highest peak (largest log10 power above
        the aperiodic fit) whose centre lies in the band; NaN if none.

    Examples
    --------
    >>> fit = AperiodicFit(("Oz",), (1.0, 45.0), np.zeros(1), np.ones(1), None, np.ones(1),
    ...                    np.zeros(1), (np.array([[6.0, 0.3, 2.0], [10.2, 0.8, 2.0]]),))
    >>> peak_in_band(fit, (8.0, 13.0)).tolist()
    [10.2]
    """
    lo, hi = (band.fmin, band.fmax) if isinstance(band, Band) else (float(band[0]), float(band[1]))
    out = np.full(len(fit.peaks), np.nan)
    for i, pk in enumerate(fit.peaks):
        inside = pk[(pk[:, 0] >= lo) & (pk[:, 0] < hi)]
        if inside.size:
            out[i] = inside[np.argmax(inside[:, 1]), 0]
    return out
