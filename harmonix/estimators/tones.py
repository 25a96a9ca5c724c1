r"""Tones as sets of partials: validation and expansion into harmonic complexes.

Shared by the roughness (:mod:`harmonix.estimators.roughness`), harmonicity
(:mod:`harmonix.estimators.harmonicity`) and CDNS
(:mod:`harmonix.estimators.consonance`) estimators, which all take a set of
spectral peaks ``(freqs, amps)``: frequencies in Hz, linear amplitudes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harmonix.errors import ParameterError

__all__ = ["MIDDLE_C", "N_HARMONICS", "expand_harmonics"]

MIDDLE_C = 261.6255653005986
"""Middle C (C4) in Hz, 12-TET with A4 = 440 Hz."""

N_HARMONICS = 11
"""Harmonics per symbolic tone (fundamental included): the idealised harmonic
complex tone of Harrison & Pearce (2020) and of their ``incon`` package, with
amplitudes :math:`1/k` (``rolloff='inverse'``)."""


def peaks(freqs: Any, amps: Any, what: str = "peaks") -> tuple[np.ndarray, np.ndarray]:
    """Finite peaks with positive frequency and amplitude, as float arrays (NaN padding and zeros dropped).

    Raises
    ------
    ParameterError
        Lengths differ, a frequency is not positive or an amplitude is negative.
    """
    f = np.asarray(freqs, dtype=float).ravel()
    a = np.asarray(amps, dtype=float).ravel()
    if f.shape != a.shape:
        raise ParameterError(f"{what}: freqs and amps must have the same length, got {f.size} and {a.size}")
    keep = np.isfinite(f) & np.isfinite(a)
    f, a = f[keep], a[keep]
    if np.any(f <= 0):
        raise ParameterError(f"{what}: peak frequencies must be positive Hz, got {f[f <= 0][:3].tolist()}")
    if np.any(a < 0):
        raise ParameterError(f"{what}: peak amplitudes must be >= 0, got {a[a < 0][:3].tolist()}")
    nz = a > 0
    return f[nz], a[nz]


def expand_harmonics(
    freqs: Any, amps: Any, n_partials: int = N_HARMONICS, rolloff: float | str = "inverse"
) -> tuple[np.ndarray, np.ndarray]:
    r"""Expand each tone into a harmonic complex: partials :math:`k f` for :math:`k = 1..n`.

    Partial :math:`k` of a tone :math:`(f, a)` has frequency :math:`k f` and
    amplitude :math:`a / k` for ``rolloff='inverse'`` (the default: a
    sawtooth-like spectrum, -6 dB per octave, the idealised tone of
    Hutchinson & Knopoff 1978 and Harrison & Pearce 2020), or
    :math:`a\,r^{k-1}` for a numeric ``rolloff`` :math:`r` (Sethares 2005
    uses :math:`r = 0.88`).

    Parameters
    ----------
    freqs, amps : array_like
        Fundamental frequencies (Hz) and amplitudes of the tones.
    n_partials : int
        Partials per tone, including the fundamental (1 = no expansion).
        Default 11 (:data:`N_HARMONICS`).
    rolloff : float in (0, 1] or 'inverse'
        Amplitude ratio between successive partials, or ``'inverse'``.

    Returns
    -------
    freqs, amps : ndarray, shape (n_tones * n_partials,)
        Tone-major order: the partials of tone 0, then tone 1, ...

    Examples
    --------
    >>> f, a = expand_harmonics([100.0], [1.0], n_partials=3)
    >>> f.tolist(), np.round(a, 4).tolist()
    ([100.0, 200.0, 300.0], [1.0, 0.5, 0.3333])
    """
    if int(n_partials) != n_partials or n_partials < 1:
        raise ParameterError(f"n_partials must be a positive integer, got {n_partials!r}")
    k = np.arange(1, int(n_partials) + 1, dtype=float)
    if isinstance(rolloff, str):
        if rolloff != "inverse":
            raise ParameterError(f"rolloff must be a number in (0, 1] or 'inverse', got {rolloff!r}")
        weights = 1.0 / k
    else:
        r = float(rolloff)
        if not (0 < r <= 1):
            raise ParameterError(f"rolloff must be a number in (0, 1] or 'inverse', got {rolloff!r}")
        weights = r ** (k - 1.0)
    f, a = peaks(freqs, amps, "expand_harmonics")
    return (f[:, None] * k).ravel(), (a[:, None] * weights).ravel()


def merge_coincident(freqs: Any, amps: Any, rel_tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    r"""Merge partials at the same frequency into one, adding their powers.

    Harmonics of different tones can coincide exactly (the 2k-th harmonic of
    a tone and the k-th of its octave). A listener, and a spectrum analyser,
    get one partial there; with independent phases its expected power is the
    sum of the powers, so the merged amplitude is :math:`\sqrt{\sum a^2}`
    (the incoherent sum). Frequencies within ``rel_tol`` (relative) of the
    first of a run are merged.

    Examples
    --------
    >>> f, a = merge_coincident([200.0, 400.0, 400.0], [1.0, 0.3, 0.4])
    >>> f.tolist(), np.round(a, 3).tolist()
    ([200.0, 400.0], [1.0, 0.5])
    """
    f, a = peaks(freqs, amps, "merge_coincident")
    if f.size < 2:
        return f, a
    order = np.argsort(f)
    f, a = f[order], a[order]
    new = np.concatenate([[True], np.diff(f) > rel_tol * f[1:]])
    group = np.cumsum(new) - 1
    power = np.bincount(group, weights=a * a)
    return f[new], np.sqrt(power)
