"""Coupling that field spread cannot fake: the weighted phase-lag index.

Field spread (volume conduction, and the cross-talk of an inverse that
turns sensors into region estimates) mixes one source into many signals
*instantaneously*: two estimates that share a source are coherent with zero
phase lag, and the phase-locking value counts that as coupling. The
imaginary part of the cross-spectrum is unaffected by instantaneous mixing
(Nolte et al. 2004), so measures built on it see only interactions with a
time lag, such as those carried by axonal conduction.

Estimator
---------
For analytic signals :math:`z_x(t), z_y(t)` of one band (Hilbert or
Morlet), with :math:`X(t) = z_x(t)\\,\\overline{z_y(t)}`, the weighted
phase-lag index (Vinck et al. 2011, eq. 8) over the samples
:math:`t = 1..T` is

.. math::

    \\mathrm{wPLI}_{xy} = \\frac{\\left|\\sum_t \\operatorname{Im} X(t)\\right|}
                              {\\sum_t \\left|\\operatorname{Im} X(t)\\right|}
    \\in [0, 1],

the sign-consistency of the phase lead, weighted by the magnitude of the
imaginary cross-spectrum (so samples whose phase difference is near 0 or
pi, where noise flips the sign, weigh little). Zero for any instantaneous
mixture of independent sources in expectation; one when one signal
consistently leads the other. It is estimated from sums, so streams of any
length accumulate it in constant memory (:class:`LagLockingSum`). For
epoched data, mne-connectivity's ``spectral_connectivity_time`` computes the
same quantity per epoch (agreement is tested).

A zero-lag interaction cannot be told from field spread by this or any other
lag-based measure; the price of robustness is blindness to true zero-lag
coupling.

References
----------
Nolte, G. et al. (2004). Clin Neurophysiol 115:2292-2307.
Vinck, M. et al. (2011). NeuroImage 55:1548-1565.
"""

from __future__ import annotations

import numpy as np

from harmonix.errors import ParameterError

__all__ = ["weighted_phase_lag_index", "LagLockingSum", "CrossSpectrumSum"]


def weighted_phase_lag_index(zx: np.ndarray, zy: np.ndarray, *, axis: int = -1) -> np.ndarray:
    """wPLI of two analytic signals over ``axis`` (see the module docstring).

    Parameters
    ----------
    zx, zy : ndarray, complex
        Analytic signals of equal shape (e.g. ``(n_pairs, n_times)``).
    axis : int
        Time axis.

    Returns
    -------
    wpli : ndarray
        The shape of the inputs without ``axis``; NaN where the imaginary
        cross-spectrum is zero throughout (no phase lag ever observed).

    Examples
    --------
    >>> t = np.arange(1000) / 250.0
    >>> lead = np.exp(2j * np.pi * 10 * t)
    >>> round(float(weighted_phase_lag_index(lead, lead * np.exp(-0.5j))), 6)
    1.0
    >>> rng = np.random.default_rng(0)
    >>> s = rng.normal(size=(2, 20000)) + 1j * rng.normal(size=(2, 20000))  # two independent sources
    >>> mixed = np.array([[1.0, 0.6], [0.7, 1.0]]) @ s  # instantaneous mixing: strong zero-lag locking
    >>> bool(weighted_phase_lag_index(mixed[0], mixed[1]) < 0.05)
    True
    """
    zx, zy = np.asarray(zx), np.asarray(zy)
    if zx.shape != zy.shape:
        raise ParameterError(f"wPLI needs signals of equal shape, got {zx.shape} and {zy.shape}")
    imag = np.imag(zx * np.conj(zy))
    numerator = np.abs(imag.sum(axis=axis))
    denominator = np.abs(imag).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


class LagLockingSum:
    """Running sums of :math:`\\operatorname{Im} X` and :math:`|\\operatorname{Im} X|` for chosen node pairs, per band.

    Parameters
    ----------
    n_bands : int
    pairs : ndarray of int, shape (n_pairs, 2)
        ``(x, y)`` node indices of each pair (x leads when the sum is positive).
    """

    def __init__(self, n_bands: int, pairs: np.ndarray) -> None:
        self.pairs = np.asarray(pairs, dtype=np.intp).reshape(-1, 2)
        self._signed = np.zeros((n_bands, len(self.pairs)))
        self._absolute = np.zeros((n_bands, len(self.pairs)))
        self.count = np.zeros(n_bands, dtype=np.int64)

    def feed(self, analytic: np.ndarray, *, bands: np.ndarray | None = None) -> None:
        """Add ``(n_bands, n_nodes, n)`` analytic samples (only ``bands`` when given)."""
        if analytic.shape[-1] == 0 or not len(self.pairs):
            return
        chosen = range(analytic.shape[0]) if bands is None else np.flatnonzero(bands)
        for b in chosen:
            imag = np.imag(analytic[b, self.pairs[:, 0]] * np.conj(analytic[b, self.pairs[:, 1]]))
            self._signed[b] += imag.sum(axis=-1, dtype=np.float64)
            self._absolute[b] += np.abs(imag).sum(axis=-1, dtype=np.float64)
            self.count[b] += analytic.shape[-1]

    def wpli(self) -> np.ndarray:
        """``(n_bands, n_pairs)`` wPLI; NaN for bands never fed or pairs with no lagged component."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self._absolute > 0, np.abs(self._signed) / self._absolute, np.nan)


class CrossSpectrumSum:
    """Running :math:`\\sum_t z(t) z(t)^H` per band (the complex cross-spectrum of band-limited signals).

    Parameters
    ----------
    n_bands, n_nodes : int
    """

    def __init__(self, n_bands: int, n_nodes: int) -> None:
        self._sum = np.zeros((n_bands, n_nodes, n_nodes), dtype=np.complex128)
        self.count = np.zeros(n_bands, dtype=np.int64)

    def feed(self, analytic: np.ndarray, *, bands: np.ndarray | None = None) -> None:
        """Add ``(n_bands, n_nodes, n)`` analytic samples (only ``bands`` when given)."""
        if analytic.shape[-1] == 0:
            return
        chosen = range(analytic.shape[0]) if bands is None else np.flatnonzero(bands)
        for b in chosen:
            z = analytic[b]
            self._sum[b] += z @ z.conj().T
            self.count[b] += z.shape[-1]

    def mean(self) -> np.ndarray:
        """``(n_bands, n_nodes, n_nodes)`` mean cross-spectrum; NaN for bands never fed."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._sum / np.where(self.count > 0, self.count, np.nan)[:, None, None]
