r"""Phase and instantaneous frequency at the newest sample: the endpoint-corrected Hilbert transform.

A zero-phase filter followed by a Hilbert transform gives the phase of a
band in the middle of a record, but not at its end: there it needs samples
that have not arrived yet. The endpoint-corrected Hilbert transform (ECHT;
Schreglmann et al. 2021, Nat Commun 12:363) estimates the analytic signal of
a window and filters it, in the frequency domain, with the response of a
*causal* band-pass, so that the error piles up at the window's start and the
newest sample is left accurate:

.. math::

    X_a[k] = \begin{cases} X[k] & k = 0,\ N/2 \\ 2 X[k] & 0 < k < N/2 \\ 0 & k > N/2 \end{cases}
    \qquad z = \mathrm{IFFT}\bigl(X_a[k] \, H(e^{i 2\pi k / N})\bigr),

with :math:`X` the FFT of the (mean-removed) window and :math:`H` the
frequency response of an order-2 Butterworth band-pass with the band's
corners.

The instantaneous frequency is the slope of the unwrapped phase of
:math:`z` over the window's last ``2 / f_c`` seconds (two cycles at the
centre frequency :math:`f_c = \sqrt{f_{min} f_{max}}`), by least squares,
limited to the band: :math:`f = \frac{1}{2\pi} \, d\phi/dt`.

A causal filter shifts a rhythm's phase: the Butterworth band-pass has zero
phase only at :math:`f_c`, and about +45° at 9 Hz and -60° at 12 Hz for an
8-13 Hz band. Since :math:`H` is known, the phase and amplitude at the newest
sample are read through it at the rhythm's frequency :math:`\bar f`,

.. math:: \phi = \arg z[N-1] - \arg H(\bar f), \qquad A = |z[N-1]| / |H(\bar f)|,

which is exact for a steady rhythm and removes the bias an individual
alpha frequency away from the band's centre would otherwise give.
:math:`\bar f` is the power-weighted mean frequency of the band in the
window's Hann-windowed periodogram, :math:`\bar f = \sum_k f_k P_k / \sum_k P_k`
over the bins in ``[fmin, fmax)``: the instantaneous frequency is too noisy
for this (:math:`\arg H` changes by ~50° per Hz), the window's spectrum is
not.

The functions take any ``(n_channels, n_times)`` window, so the same code
serves a recording read offline and the ring buffer of a live stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.fft
import scipy.signal

from harmonix.errors import ParameterError
from harmonix.spectral.bands import Band

ECHT_ORDER = 2
"""Order of the Butterworth band-pass (Schreglmann et al. 2021 use 2)."""


@dataclass(frozen=True)
class EndpointPhase:
    """Phase, amplitude and instantaneous frequency of a band at a window's newest sample.

    Attributes
    ----------
    phase : ndarray, shape (n_channels,)
        In radians, in ``(-pi, pi]``; 0 at the band's positive peak.
    amplitude : ndarray, shape (n_channels,)
        Envelope of the band in the input's units.
    frequency : ndarray, shape (n_channels,)
        Instantaneous frequency in Hz, within the band.
    """

    phase: np.ndarray
    amplitude: np.ndarray
    frequency: np.ndarray


@lru_cache(maxsize=32)
def _band_pass(fmin: float, fmax: float, sfreq: float, order: int) -> np.ndarray:
    return scipy.signal.butter(order, (fmin, fmax), btype="bandpass", fs=sfreq, output="sos")


@lru_cache(maxsize=32)
def _causal_response(fmin: float, fmax: float, sfreq: float, n_times: int, order: int) -> np.ndarray:
    """``H`` at the ``n_times`` FFT bins: the band-pass applied to the analytic spectrum."""
    _, response = scipy.signal.sosfreqz(_band_pass(fmin, fmax, sfreq, order), worN=n_times, whole=True, fs=sfreq)
    return response


def causal_response_at(band: Band, sfreq: float, freqs: np.ndarray, *, order: int = ECHT_ORDER) -> np.ndarray:
    """``H(f)`` of the ECHT band-pass at the frequencies ``freqs`` (Hz)."""
    _, response = scipy.signal.sosfreqz(_band_pass(float(band.fmin), float(band.fmax), float(sfreq), int(order)),
                                        worN=np.atleast_1d(np.asarray(freqs, dtype=float)), fs=sfreq)
    return response


def _check_window(window: np.ndarray, sfreq: float, band: Band) -> np.ndarray:
    window = np.asarray(window, dtype=float)
    if window.ndim == 1:
        window = window[np.newaxis]
    if window.ndim != 2:
        raise ParameterError(f"the window must be (n_channels, n_times), got shape {window.shape}")
    if not 0 < band.fmin < band.fmax < sfreq / 2:
        raise ParameterError(f"band {band.name!r} ({band.fmin:g}-{band.fmax:g} Hz) must lie strictly between 0 Hz "
                             f"and the Nyquist frequency {sfreq / 2:g} Hz of {sfreq:g} Hz data")
    cycles = window.shape[1] * band.fmin / sfreq
    if cycles < 2:
        raise ParameterError(f"a {window.shape[1] / sfreq:.3g}-s window holds {cycles:.2g} cycles of "
                             f"{band.fmin:g} Hz; the endpoint-corrected Hilbert transform needs at least 2")
    return window


def echt(window: np.ndarray, sfreq: float, band: Band, *, order: int = ECHT_ORDER) -> np.ndarray:
    """Endpoint-corrected analytic signal of each channel of a window (module docstring).

    Parameters
    ----------
    window : ndarray, shape (n_channels, n_times) or (n_times,)
        Real samples, oldest first.
    sfreq : float
        Sampling rate in Hz.
    band : Band
        Corners of the causal band-pass, in Hz.
    order : int
        Butterworth order.

    Returns
    -------
    z : ndarray, shape (n_channels, n_times), complex
        Accurate at the end of the window, not at its start.

    Examples
    --------
    >>> import numpy as np
    >>> from harmonix.spectral.bands import Band
    >>> t = np.arange(500) / 250.0
    >>> z = echt(np.cos(2 * np.pi * 10 * t + 1.0), 250.0, Band("alpha", 8.0, 12.5))
    >>> bool(abs(np.angle(z[0, -1]) - np.angle(np.exp(1j * (2 * np.pi * 10 * t[-1] + 1.0)))) < 0.05)
    True
    """
    window = _check_window(window, sfreq, band)
    n_times = window.shape[1]
    spectrum = scipy.fft.fft(window - window.mean(axis=1, keepdims=True), axis=1)
    half = n_times // 2
    spectrum[:, 1 : (n_times + 1) // 2] *= 2.0
    spectrum[:, half + 1 :] = 0.0
    spectrum *= _causal_response(float(band.fmin), float(band.fmax), float(sfreq), n_times, int(order))
    return scipy.fft.ifft(spectrum, axis=1)


def band_mean_frequency(window: np.ndarray, sfreq: float, band: Band) -> np.ndarray:
    """Power-weighted mean frequency (Hz) of ``band`` in each channel's Hann-windowed periodogram."""
    window = np.atleast_2d(np.asarray(window, dtype=float))
    taper = np.hanning(window.shape[1])
    power = np.abs(scipy.fft.rfft((window - window.mean(axis=1, keepdims=True)) * taper, axis=1)) ** 2
    freqs = scipy.fft.rfftfreq(window.shape[1], 1.0 / sfreq)
    inside = (freqs >= band.fmin) & (freqs < band.fmax)
    if not inside.any():
        return np.full(window.shape[0], float(np.sqrt(band.fmin * band.fmax)))
    weights = power[:, inside]
    total = weights.sum(axis=1)
    centre = float(np.sqrt(band.fmin * band.fmax))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, weights @ freqs[inside] / np.where(total > 0, total, 1.0), centre)


def endpoint_phase(window: np.ndarray, sfreq: float, band: Band, *, order: int = ECHT_ORDER) -> EndpointPhase:
    """Phase, amplitude and instantaneous frequency of ``band`` at the newest sample of ``window``.

    Parameters
    ----------
    window : ndarray, shape (n_channels, n_times) or (n_times,)
        Real samples ending at the sample of interest.
    sfreq : float
        Sampling rate in Hz.
    band : Band
        The rhythm's band (e.g. alpha 8-13 Hz).
    order : int
        Butterworth order of the ECHT filter.

    Returns
    -------
    EndpointPhase
        Phase and amplitude read through the filter's response at the band's
        power-weighted mean frequency in the window; the instantaneous
        frequency from the phase slope (module docstring).
    """
    z = echt(window, sfreq, band, order=order)
    centre = float(np.sqrt(band.fmin * band.fmax))
    n_fit = min(z.shape[1], max(3, int(round(2.0 / centre * sfreq))))
    tail = np.unwrap(np.angle(z[:, -n_fit:]), axis=1)
    t = np.arange(n_fit) / sfreq
    t = t - t.mean()
    slope = (tail - tail.mean(axis=1, keepdims=True)) @ t / (t @ t)
    frequency = np.clip(slope / (2 * np.pi), band.fmin, band.fmax)
    response = causal_response_at(band, sfreq, band_mean_frequency(window, sfreq, band), order=order)
    return EndpointPhase(phase=np.angle(z[:, -1] / response), amplitude=np.abs(z[:, -1]) / np.abs(response),
                         frequency=frequency)
