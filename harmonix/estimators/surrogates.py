"""Surrogate data: the null distributions estimators are z-scored against.

Fourier phase randomisation (Theiler et al. 1992, Physica D 58:77) keeps each
channel's power spectrum (hence its band powers and autocorrelation) and draws
new phases. With ``common=False`` every channel gets its own random phases,
which also destroys the cross-channel phase relations (coupling, spatial
covariance); with ``common=True`` all channels share them, which keeps the
cross-spectra and so the linear spatial structure.
"""

from __future__ import annotations

import numpy as np

from harmonix.errors import ParameterError


def phase_randomized(data: np.ndarray, rng: np.random.Generator, *, common: bool = False) -> np.ndarray:
    """One phase-randomised surrogate of ``data`` (n_channels, n_times).

    The DC and (for even lengths) Nyquist bins keep their phase so the
    surrogate stays real with the same mean.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((2, 256))
    >>> s = phase_randomized(x, rng)
    >>> bool(np.allclose(np.abs(np.fft.rfft(s)), np.abs(np.fft.rfft(x))))
    True
    """
    data = np.asarray(data, dtype=float)
    if data.ndim != 2:
        raise ParameterError(f"data must be (n_channels, n_times), got shape {data.shape}")
    spectrum = np.fft.rfft(data, axis=-1)
    n_freqs = spectrum.shape[-1]
    shape = (1, n_freqs) if common else spectrum.shape
    phases = np.exp(2j * np.pi * rng.random(shape))
    phases[:, 0] = 1.0
    if data.shape[-1] % 2 == 0:
        phases[:, -1] = 1.0
    return np.fft.irfft(spectrum * phases, n=data.shape[-1], axis=-1)
