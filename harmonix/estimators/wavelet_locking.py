"""Time-resolved phase-locking value from Morlet wavelets (mne-connectivity's ``cwt_morlet`` PLV, fast).

This is the quantity ``mne_connectivity.spectral_connectivity_time(data,
freqs, method='plv', mode='cwt_morlet', n_cycles=..., padding=...)`` returns,
computed the same way sample for sample but vectorised: every channel of a
batch of epochs is convolved with every wavelet by FFT, the coefficients are
turned into unit phasors, and all channel pairs of one epoch and frequency come
from one Hermitian matrix product (BLAS ``zherk``) instead of a Python loop
over pairs.

For one epoch ``x_c(t)``, ``t = 0 .. L-1`` (channel c), frequency f with
``n`` cycles, sampling rate ``s``:

- **Morlet wavelet** (as :func:`mne.time_frequency.morlet` builds it):
  :math:`w_f(k) = A_f \\,(e^{2\\pi i f k/s} - \\kappa)\\, e^{-(k/s)^2 / (2\\sigma_t^2)}`
  with :math:`\\sigma_t = n / (2\\pi f)` s, ``k = -(K-1) .. K-1`` where K is
  the number of samples in ``[0, 5 sigma_t)``, so the wavelet has
  ``M = 2K - 1`` samples; :math:`\\kappa = 0` (mne-connectivity passes
  ``zero_mean=False``) or :math:`e^{-2 (\\pi f \\sigma_t)^2}` with
  ``zero_mean=True``; :math:`A_f` makes :math:`\\lVert w_f \\rVert_2 = \\sqrt 2`
  (irrelevant here: only phases are used).
- **Coefficients**: the linear convolution, centred as ``numpy.convolve(...,
  mode='same')`` with the wavelet centre on the output sample,
  :math:`W_c(f, t) = \\sum_k x_c(t - k)\\, w_f(k)`, zero outside the epoch.
- **PLV** over the samples left after dropping ``p = floor(padding * s)``
  samples at both ends (Lachaux et al. 1999):

  .. math::

      \\mathrm{PLV}_{ij}(f) = \\Bigl|\\frac{1}{L - 2p}\\sum_{t=p}^{L-p-1}
      u_i(f, t)\\,\\overline{u_j(f, t)}\\Bigr|, \\qquad u = W / |W|.

  Dimensionless, in [0, 1], 1 on the diagonal. For independent signals it is
  biased upwards (about :math:`\\sqrt{\\pi / (4 N_\\mathrm{eff})}` with
  :math:`N_\\mathrm{eff}` the number of independent phase samples, roughly
  duration x wavelet bandwidth).

Only the FFT lengths differ from MNE's (a circular convolution just long
enough that the kept samples are not wrapped; for windows of one recording,
a wavelet that fits in the padding is applied once to the whole stretch
instead of once per epoch, which gives the same kept samples), so results
agree with mne-connectivity to rounding (~1e-14), not bit for bit.

Not supported (mne-connectivity defaults assumed): ``decim``, ``fdecim``,
``sm_times``/``sm_freqs`` smoothing, ``indices`` (all pairs are returned),
multitaper mode.

References
----------
Lachaux J.-P., Rodriguez E., Martinerie J., Varela F. J. (1999). Measuring
phase synchrony in brain signals. Hum Brain Mapp 8:194-208.
Tallon-Baudry C., Bertrand O., Delpuech C., Pernier J. (1997). Oscillatory
gamma-band (30-70 Hz) activity induced by a visual search task. J Neurosci
17:722-734 (the Morlet normalisation MNE uses).
mne-connectivity, ``spectral_connectivity_time``
(https://mne.tools/mne-connectivity/stable/generated/mne_connectivity.spectral_connectivity_time.html).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.fft
from scipy.linalg.blas import zherk

from harmonix.errors import DataQualityError, ParameterError
from harmonix.estimators.locking import _positive, _window_samples

FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
"""Full width at half maximum of a Gaussian in units of its standard deviation (~2.355)."""

MIN_BAND_CYCLES = 2.0
"""Fewest cycles :func:`band_morlet_frequencies` gives a wavelet.

With n cycles a Morlet wavelet's spectrum at 0 Hz is ``exp(-n**2 / 2)`` of its
peak (0.14 at n = 2): fewer cycles stop it being a band-pass.
"""

_ARRAY_BUDGET_BYTES = 8 * 2**20  # one (epochs, channels, FFT length) complex array per batch; cache-sized is fastest


# ---------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------


def _check_freqs(freqs, n_cycles, sfreq: float) -> tuple[np.ndarray, np.ndarray]:
    try:
        freqs = np.atleast_1d(np.asarray(freqs, dtype=float))
        n_cycles = np.atleast_1d(np.asarray(n_cycles, dtype=float))
    except (TypeError, ValueError) as err:
        raise ParameterError(f"freqs and n_cycles must be numbers, got freqs={freqs!r}, n_cycles={n_cycles!r}") from err
    if freqs.ndim != 1 or freqs.size == 0:
        raise ParameterError(f"freqs must be a non-empty 1-D sequence of frequencies in Hz, got shape {freqs.shape}")
    if not np.all(np.isfinite(freqs)) or np.any(freqs <= 0):
        raise ParameterError(f"freqs must be positive finite frequencies in Hz, got {freqs.tolist()}")
    nyquist = sfreq / 2.0
    if np.any(freqs >= nyquist):
        raise ParameterError(
            f"freqs {freqs[freqs >= nyquist].tolist()} Hz are at or above the Nyquist frequency {nyquist:g} Hz"
        )
    if n_cycles.ndim != 1 or n_cycles.size not in (1, freqs.size):
        raise ParameterError(
            f"n_cycles must be one number or one per frequency ({freqs.size}), got shape {n_cycles.shape}"
        )
    if not np.all(np.isfinite(n_cycles)) or np.any(n_cycles <= 0):
        raise ParameterError(f"n_cycles must be positive numbers, got {n_cycles.tolist()}")
    return freqs, np.broadcast_to(n_cycles, freqs.shape).copy()


def _band_groups(fbands, freqs: np.ndarray) -> list[np.ndarray] | None:
    """Indices of the frequencies inside each ``(fmin, fmax)`` band (inclusive)."""
    if fbands is None:
        return None
    try:
        edges = np.asarray(fbands, dtype=float).reshape(-1, 2) if len(fbands) else np.empty((0, 2))
    except (TypeError, ValueError) as err:
        raise ParameterError(f"fbands must be a sequence of (fmin, fmax) pairs in Hz, got {fbands!r}") from err
    if edges.shape[0] == 0 or np.asarray(fbands, dtype=float).size != edges.size:
        raise ParameterError(f"fbands must be a non-empty sequence of (fmin, fmax) pairs in Hz, got {fbands!r}")
    groups = []
    for fmin, fmax in edges:
        if not (np.isfinite(fmin) and np.isfinite(fmax) and fmin <= fmax):
            raise ParameterError(f"fbands: need finite fmin <= fmax, got ({fmin:g}, {fmax:g}) Hz")
        idx = np.flatnonzero((freqs >= fmin) & (freqs <= fmax))
        if idx.size == 0:
            raise ParameterError(f"fbands: no frequency of freqs lies in the band {fmin:g}-{fmax:g} Hz")
        groups.append(idx)
    return groups


def _check_real_array(data, ndim: int, name: str, shape_text: str) -> np.ndarray:
    data = np.asarray(data)
    if data.ndim != ndim:
        raise ParameterError(f"{name} must be {ndim}-D {shape_text}, got shape {data.shape}")
    if np.iscomplexobj(data) or not np.issubdtype(data.dtype, np.number):
        raise ParameterError(f"{name} must hold real samples, got dtype {data.dtype}")
    if 0 in data.shape[:-1]:
        raise ParameterError(f"{name} holds no signals (shape {data.shape})")
    data = data.astype(np.float64, copy=False)
    if not np.all(np.isfinite(data)):
        raise DataQualityError(f"{name} contains NaN or Inf values; interpolate or drop the bad samples first")
    return data


def _padding_samples(padding, sfreq: float, n_times: float) -> int:
    """mne-connectivity's ``pad_idx = floor(padding * sfreq)``, with its limits."""
    try:
        padding = float(padding)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"padding must be a number of seconds, got {padding!r}") from err
    if not np.isfinite(padding) or padding < 0:
        raise ParameterError(f"padding must be >= 0 s, got {padding}")
    if padding >= n_times / sfreq / 2:
        raise ParameterError(
            f"padding={padding:g} s must be shorter than half the epoch ({n_times} samples at {sfreq:g} Hz)"
        )
    pad = int(np.floor(padding * sfreq))
    if padding > 0 and pad == 0:
        # mne-connectivity would slice out[..., 0:-0] (nothing) and return NaN
        raise ParameterError(f"padding={padding:g} s is under one sample at {sfreq:g} Hz; use 0 or at least 1/sfreq")
    return pad


# ---------------------------------------------------------------------------
# engine
# ---------------------------------------------------------------------------


class _MorletPLV:
    """Morlet PLV for a fixed epoch length L, padding p and set of wavelets.

    Per epoch (:meth:`epochs`), each frequency's coefficients come from a
    circular convolution of length ``N >= max(L, L - p + h)`` (h = wavelet
    half-length): the kept samples ``p .. L-p-1`` of the linear ``'same'``
    convolution are then free of wrap-around, so N is about L instead of
    MNE's ``L + M - 1``; frequencies sharing an FFT length share the forward
    transform of the data.

    For windows cut from one recording (:meth:`windows`), a frequency whose
    wavelet fits in the padding (``h <= p``) never sees an epoch edge from a
    kept sample, so its kept coefficients are the same samples of one
    transform of the whole stretch: each sample is transformed once instead
    of once per epoch holding it. Longer wavelets go through :meth:`epochs`.
    """

    def __init__(self, sfreq, freqs, n_cycles, n_times: int, pad: int, zero_mean: bool) -> None:
        from mne.time_frequency import morlet

        wavelets = morlet(sfreq, freqs, n_cycles=n_cycles, zero_mean=bool(zero_mean))
        lengths = np.array([w.size for w in wavelets])
        if np.any(lengths > n_times):
            k = int(np.argmax(lengths))
            raise ParameterError(
                f"the Morlet wavelet at {freqs[k]:g} Hz with {n_cycles[k]:g} cycles spans {lengths[k]} samples, "
                f"longer than the epoch of {n_times} samples; use longer windows/padding, fewer cycles or higher freqs"
            )
        self.wavelets = wavelets
        self.n_times, self.pad, self.n_kept = n_times, pad, n_times - 2 * pad
        self.half = (lengths - 1) // 2  # wavelet centre: output sample j is full-convolution index j + half
        self.n_freqs = len(wavelets)
        self.epoch_nfft = [scipy.fft.next_fast_len(max(n_times, n_times - pad + h)) for h in self.half]
        self.shared = np.flatnonzero(self.half <= pad)
        self.edge = np.flatnonzero(self.half > pad)
        self._ffts: dict[tuple[int, int], np.ndarray] = {}

    def _wavelet_fft(self, k: int, nfft: int) -> np.ndarray:
        key = (k, nfft)
        if key not in self._ffts:
            self._ffts[key] = scipy.fft.fft(self.wavelets[k], nfft)
        return self._ffts[key]

    def batch_size(self, n_channels: int, step: int | None = None) -> int:
        """Epochs (or windows ``step`` apart) per batch so that one complex array stays near the budget."""
        per_epoch = 16 * n_channels * max(self.epoch_nfft)
        if step is not None and not self.edge.size:
            per_epoch = 16 * n_channels * step
        return max(1, _ARRAY_BUDGET_BYTES // per_epoch)

    def epochs(self, x: np.ndarray, which=None, out: np.ndarray | None = None) -> np.ndarray:
        """PLV (n_freqs, n_epochs, n, n), upper triangle (diagonal 1, lower 0), from x (n_epochs, n, L)."""
        n_ep, n_ch, _ = x.shape
        if out is None:
            out = np.empty((self.n_freqs, n_ep, n_ch, n_ch))
        which = range(self.n_freqs) if which is None else which
        by_nfft: dict[int, list[int]] = {}
        for k in which:
            by_nfft.setdefault(self.epoch_nfft[k], []).append(k)
        buffers = _PhasorBuffers((n_ep, n_ch, self.n_kept))
        for nfft, members in by_nfft.items():
            spectrum = scipy.fft.fft(x, nfft, axis=-1)
            product = np.empty_like(spectrum)  # reused: fresh large arrays cost page faults
            for k in members:
                np.multiply(spectrum, self._wavelet_fft(k, nfft), out=product)
                coef = scipy.fft.ifft(product, axis=-1, overwrite_x=True)
                start = self.pad + self.half[k]
                buffers.cross(coef[..., start : start + self.n_kept], out[k])
        return out

    def windows(self, seg: np.ndarray, n_win: int, step: int) -> np.ndarray:
        """As :meth:`epochs` for the epochs ``seg[:, w*step : w*step + L]``, w < n_win, of seg (n, n_seg)."""
        n_ch, n_seg = seg.shape
        out = np.empty((self.n_freqs, n_win, n_ch, n_ch))
        if self.edge.size:
            epochs = np.lib.stride_tricks.sliding_window_view(seg, self.n_times, axis=-1)[:, ::step][:, :n_win]
            self.epochs(np.ascontiguousarray(epochs.transpose(1, 0, 2)), self.edge, out)
        if self.shared.size:
            # h <= pad, so N >= n_seg leaves samples pad .. n_seg-pad-1 of the linear convolution unwrapped
            nfft = scipy.fft.next_fast_len(n_seg)
            spectrum = scipy.fft.fft(seg, nfft, axis=-1)
            product = np.empty_like(spectrum)
            span = (n_win - 1) * step + self.n_kept
            buffers = _PhasorBuffers((n_win, n_ch, self.n_kept))
            for k in self.shared:
                np.multiply(spectrum, self._wavelet_fft(k, nfft), out=product)
                coef = scipy.fft.ifft(product, axis=-1, overwrite_x=True)
                start = self.pad + self.half[k]
                kept = np.lib.stride_tricks.sliding_window_view(coef[:, start : start + span], self.n_kept, axis=-1)
                buffers.cross(kept[:, ::step].transpose(1, 0, 2), out[k])
        return out


class _PhasorBuffers:
    """Unit phasors of coefficient blocks and their per-epoch Hermitian products, in reused buffers."""

    def __init__(self, shape: tuple[int, int, int]) -> None:
        self.u = np.empty(shape, dtype=np.complex128)
        self.mag = np.empty(shape)

    def cross(self, z: np.ndarray, out: np.ndarray) -> None:
        """out[e] = |U_e U_e^H| / T (upper triangle) for the phasors U_e = z[e] / |z[e]| (n, T)."""
        np.abs(z, out=self.mag)
        if not self.mag.all():
            ep, ch = np.argwhere(self.mag == 0)[0][:2]
            raise DataQualityError(
                f"channel {ch} of epoch {ep} has Morlet coefficients of exactly zero (phase undefined) "
                "- a flat or all-zero channel cannot be phase-locked; drop it"
            )
        np.divide(z, self.mag, out=self.u)
        scale = 1.0 / self.u.shape[-1]
        for e in range(self.u.shape[0]):
            # A = u_e^T is Fortran-ordered (T, n); zherk gives the upper triangle of A^H A
            # = conj(U U^H): same modulus, half the flops of a full matmul
            np.abs(zherk(scale, self.u[e].T, trans=2), out=out[e])


def _finish(upper: np.ndarray) -> np.ndarray:
    """Mirror the upper triangle, 1 on the diagonal, clip rounding above 1."""
    n = upper.shape[-1]
    full = np.triu(upper, 1)
    full += np.swapaxes(full, -1, -2)
    idx = np.arange(n)
    full[..., idx, idx] = 1.0
    return np.minimum(full, 1.0, out=full)


def _collect(results, n_epochs: int, n_ch: int, groups) -> np.ndarray:
    """Stack per-batch upper-triangle PLVs (freqs, batch, n, n), band-averaged if asked, into full matrices."""
    plv = None
    for e0, res in results:
        if groups is not None:
            res = np.stack([res[g].mean(axis=0) for g in groups])
        if plv is None:
            plv = np.empty((res.shape[0], n_epochs, n_ch, n_ch))
        plv[:, e0 : e0 + res.shape[1]] = _finish(res)  # batch-sized: the mirroring stays in cache
    return plv


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


def morlet_plv_epochs(
    epochs: np.ndarray,
    sfreq: float,
    freqs,
    *,
    n_cycles=7.0,
    padding: float = 0.0,
    fbands: Sequence[tuple[float, float]] | None = None,
    zero_mean: bool = False,
) -> np.ndarray:
    """Morlet-wavelet PLV over the time samples of each epoch, for every channel pair.

    Equals ``mne_connectivity.spectral_connectivity_time(epochs, freqs,
    method='plv', mode='cwt_morlet', sfreq=sfreq, n_cycles=n_cycles,
    padding=padding)`` (see the module docstring for the wavelet and the
    formula): each epoch is transformed on its own (zero outside it), then
    ``floor(padding * sfreq)`` samples are dropped at both ends before the
    time average.

    Parameters
    ----------
    epochs : ndarray, shape (n_epochs, n_channels, n_times)
        Real signals (e.g. V); computed in float64.
    sfreq : float
        Sampling rate in Hz.
    freqs : array_like, shape (n_freqs,)
        Wavelet frequencies in Hz, each in (0, sfreq/2).
    n_cycles : float | array_like, shape (n_freqs,)
        Cycles per wavelet (temporal s.d. ``n_cycles / (2 pi f)`` s).
    padding : float
        Seconds dropped at each end of every epoch after the transform.
    fbands : sequence of (fmin, fmax) | None
        If given, the PLV is averaged over the frequencies ``fmin <= f <= fmax``
        of each band (Hz), as ``faverage=True`` with ``fmin``/``fmax`` does in
        mne-connectivity. (mne-connectivity 0.9 picks each band's edge
        frequencies by nearest match and, for a band holding several
        frequencies, widens its upper index to ``2 * f_e``; the two agree for
        a single band and whenever those quirks select the same frequencies.)
    zero_mean : bool
        Subtract the wavelet's mean (MNE's ``zero_mean``); mne-connectivity
        uses False.

    Returns
    -------
    plv : ndarray, shape (n_freqs or n_bands, n_epochs, n_channels, n_channels), float64
        Symmetric, 1 on the diagonal. (mne-connectivity's
        ``con.get_data('dense')`` holds the same values in its lower triangle,
        shape (n_epochs, n, n, n_freqs).)

    References
    ----------
    Lachaux et al. (1999), Hum Brain Mapp 8:194; mne-connectivity
    ``spectral_connectivity_time``.

    Examples
    --------
    Two 10 Hz oscillations a quarter cycle apart with a little noise lock
    perfectly; a third channel of noise does not:

    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(1000) / 250.0
    >>> x = np.stack([np.sin(2 * np.pi * 10 * t), np.cos(2 * np.pi * 10 * t), rng.standard_normal(1000)])
    >>> epochs = x[np.newaxis] + 0.01 * rng.standard_normal((1, 3, 1000))
    >>> plv = morlet_plv_epochs(epochs, 250.0, [10.0], n_cycles=5.0, padding=0.5)
    >>> plv.shape
    (1, 1, 3, 3)
    >>> np.round(plv[0, 0], 2)
    array([[1.  , 1.  , 0.26],
           [1.  , 1.  , 0.26],
           [0.26, 0.26, 1.  ]])
    """
    sfreq = _positive(sfreq, "sfreq")
    epochs = _check_real_array(epochs, 3, "epochs", "(n_epochs, n_channels, n_times)")
    freqs, n_cycles = _check_freqs(freqs, n_cycles, sfreq)
    groups = _band_groups(fbands, freqs)
    n_epochs, n_ch, n_times = epochs.shape
    if n_times < 2:
        raise ParameterError(f"epochs must hold at least 2 time samples, got {n_times}")
    pad = _padding_samples(padding, sfreq, n_times)
    engine = _MorletPLV(sfreq, freqs, n_cycles, n_times, pad, zero_mean)
    size = engine.batch_size(n_ch)
    results = ((e0, engine.epochs(epochs[e0 : e0 + size])) for e0 in range(0, n_epochs, size))
    return _collect(results, n_epochs, n_ch, groups)


def morlet_plv_over_time(
    data: np.ndarray,
    sfreq: float,
    freqs,
    *,
    n_cycles=7.0,
    window_seconds: float,
    step_seconds: float | None = None,
    padding: float | None = None,
    fbands: Sequence[tuple[float, float]] | None = None,
    zero_mean: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Time-resolved Morlet-wavelet PLV matrices of a continuous recording.

    Windows of W = ``window_seconds`` start every S = ``step_seconds``; window
    w covers samples ``s_w .. s_w + W - 1`` with ``s_w = w * S`` (as
    :func:`harmonix.estimators.locking.band_plv_over_time`). Each window is
    analysed as one mne-connectivity epoch of ``W + 2p`` samples: the window
    with ``p = floor(padding * sfreq)`` samples of real context on both sides,
    the recording being extended by reflection (``numpy.pad(mode='reflect')``)
    at its ends. So the result equals::

        ext = np.pad(data, ((0, 0), (p, p)), mode="reflect")
        epochs = np.stack([ext[:, s : s + W + 2 * p] for s in starts])
        spectral_connectivity_time(epochs, freqs, method="plv", mode="cwt_morlet",
                                   sfreq=sfreq, n_cycles=n_cycles, padding=padding)

    and the formula is :func:`morlet_plv_epochs`'s.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        Real signals (e.g. V).
    sfreq : float
        Sampling rate in Hz.
    freqs, n_cycles, fbands, zero_mean
        As :func:`morlet_plv_epochs`.
    window_seconds : float
        Window length in s (the samples averaged over).
    step_seconds : float | None
        Hop between window starts in s; ``None`` gives non-overlapping windows.
    padding : float | None
        Context in s on each side of every window, dropped after the wavelet
        transform. ``None``: the half-length ``(M - 1) / 2`` samples of the
        longest wavelet (mne-connectivity's ``padding`` for that is e.g.
        ``(M / 2) / sfreq``), so no kept sample's wavelet reaches past its
        epoch and every window equals the same samples of one transform of
        the whole (reflected) recording.

    Returns
    -------
    times : ndarray, shape (n_windows,)
        Window centres in s from the first sample.
    plv : ndarray, shape (n_freqs or n_bands, n_windows, n_channels, n_channels), float64

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> t = np.arange(2500) / 250.0
    >>> drive = np.sin(2 * np.pi * 6 * t)
    >>> x = np.stack([drive, np.roll(drive, 5), rng.standard_normal(2500)]) + 0.05 * rng.standard_normal((3, 2500))
    >>> times, plv = morlet_plv_over_time(x, 250.0, [6.0, 20.0], n_cycles=4.0, window_seconds=2.0)
    >>> times.tolist(), plv.shape
    ([1.0, 3.0, 5.0, 7.0, 9.0], (2, 5, 3, 3))

    Channels 0 and 1 keep a fixed lag at 6 Hz; only the first window, whose
    context is the reflected start of the recording, falls short of 1:

    >>> np.round(plv[0, :, 0, 1], 2)
    array([0.98, 1.  , 1.  , 1.  , 1.  ])
    """
    sfreq = _positive(sfreq, "sfreq")
    freqs, n_cycles = _check_freqs(freqs, n_cycles, sfreq)
    groups = _band_groups(fbands, freqs)
    return _windowed_plv(data, sfreq, freqs, n_cycles, window_seconds, step_seconds, padding, groups, zero_mean)


def _windowed_plv(data, sfreq, freqs, n_cycles, window_seconds, step_seconds, padding, groups, zero_mean):
    data = _check_real_array(data, 2, "data", "(n_channels, n_times)")
    window, step = _window_samples(sfreq, window_seconds, step_seconds)
    n_ch, n_times = data.shape
    if n_times < window:
        raise ParameterError(
            f"recording of {n_times} samples is shorter than one window of {window} samples "
            f"({window_seconds} s at {sfreq:g} Hz); shorten window_seconds"
        )
    if padding is None:
        from mne.time_frequency import morlet

        pad = max((w.size - 1) // 2 for w in morlet(sfreq, freqs, n_cycles=n_cycles, zero_mean=bool(zero_mean)))
    else:
        # the epoch is the window plus the padding, so mne's "padding < half the epoch" always holds
        pad = _padding_samples(padding, sfreq, np.inf)
    if pad >= n_times:
        raise ParameterError(
            f"padding of {pad} samples needs a recording longer than that ({n_times} samples) to reflect into"
        )
    epoch_len = window + 2 * pad
    engine = _MorletPLV(sfreq, freqs, n_cycles, epoch_len, pad, zero_mean)
    ext = np.pad(data, ((0, 0), (pad, pad)), mode="reflect")
    n_windows = (n_times - window) // step + 1
    size = engine.batch_size(n_ch, step)

    def results():
        for w0 in range(0, n_windows, size):
            n_win = min(size, n_windows - w0)
            seg = ext[:, w0 * step : (w0 + n_win - 1) * step + epoch_len]  # the batch's epochs, back to back
            yield w0, engine.windows(seg, n_win, step)

    plv = _collect(results(), n_windows, n_ch, groups)
    times = (np.arange(n_windows) * step + window / 2.0) / sfreq
    return times, plv


def band_morlet_frequencies(bands=None, *, freqs_per_band: int = 4) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Wavelet frequencies and cycles that cover each band, for a band-averaged Morlet PLV.

    Each band ``[fmin, fmax)`` gets ``freqs_per_band`` frequencies at the
    centres of equal sub-bands, :math:`f_k = f_{min} + (k + 1/2)\\,\\Delta/F`
    (:math:`\\Delta` = width), all with
    :math:`n = \\max(2, 2\\sqrt{2\\ln 2}\\, f_c / \\Delta)` cycles, so that a
    wavelet at the band centre :math:`f_c` has a spectral FWHM
    (:math:`2\\sqrt{2\\ln 2}\\, f/n` Hz) equal to the band width.

    Parameters
    ----------
    bands : None | mapping | sequence of Band | path
        As :func:`harmonix.spectral.bands.load_bands`; ``None`` = defaults.
    freqs_per_band : int
        Frequencies per band.

    Returns
    -------
    freqs : ndarray, shape (n_bands * freqs_per_band,)
        In Hz, band after band.
    n_cycles : ndarray, shape (n_bands * freqs_per_band,)
    groups : list of ndarray
        Indices into ``freqs`` of each band's frequencies.

    Examples
    --------
    >>> freqs, n_cycles, groups = band_morlet_frequencies({"alpha": (8, 12)}, freqs_per_band=2)
    >>> freqs.tolist(), np.round(n_cycles, 3).tolist(), [g.tolist() for g in groups]
    ([9.0, 11.0], [5.887, 5.887], [[0, 1]])
    """
    from harmonix.spectral.bands import load_bands

    bands = load_bands(bands)
    if int(freqs_per_band) != freqs_per_band or freqs_per_band < 1:
        raise ParameterError(f"freqs_per_band must be a positive integer, got {freqs_per_band!r}")
    per = int(freqs_per_band)
    freqs, cycles, groups = [], [], []
    for band in bands:
        groups.append(np.arange(len(freqs), len(freqs) + per))
        freqs.extend(band.fmin + (np.arange(per) + 0.5) * band.width / per)
        cycles.extend([max(MIN_BAND_CYCLES, FWHM_PER_SIGMA * band.center / band.width)] * per)
    return np.array(freqs), np.array(cycles), groups


def band_morlet_plv_over_time(
    data: np.ndarray,
    sfreq: float,
    bands=None,
    *,
    window_seconds: float,
    step_seconds: float | None = None,
    padding: float | None = None,
    freqs_per_band: int = 4,
    zero_mean: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Band-averaged Morlet PLV over time: :func:`morlet_plv_over_time` on :func:`band_morlet_frequencies`.

    The Morlet mode of :func:`harmonix.estimators.locking.band_plv_over_time`
    (``mode='morlet'``): for every band the PLV of each of its wavelets
    (mne-connectivity's ``cwt_morlet`` PLV) is averaged over the band's
    frequencies.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
    sfreq : float
        Hz.
    bands : None | mapping | sequence of Band | path
        As :func:`harmonix.spectral.bands.load_bands`.
    window_seconds, step_seconds, padding, zero_mean
        As :func:`morlet_plv_over_time`.
    freqs_per_band : int
        As :func:`band_morlet_frequencies`.

    Returns
    -------
    times : ndarray, shape (n_windows,)
    plv : ndarray, shape (n_bands, n_windows, n_channels, n_channels), float64

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> x = rng.standard_normal((2, 2500))
    >>> times, plv = band_morlet_plv_over_time(x, 250.0, {"theta": (4, 8), "beta": (13, 30)}, window_seconds=5.0)
    >>> plv.shape
    (2, 2, 2, 2)
    """
    sfreq = _positive(sfreq, "sfreq")
    freqs, n_cycles, groups = band_morlet_frequencies(bands, freqs_per_band=freqs_per_band)
    freqs, n_cycles = _check_freqs(freqs, n_cycles, sfreq)
    return _windowed_plv(data, sfreq, freqs, n_cycles, window_seconds, step_seconds, padding, groups, zero_mean)


__all__ = [
    "FWHM_PER_SIGMA",
    "MIN_BAND_CYCLES",
    "band_morlet_frequencies",
    "band_morlet_plv_over_time",
    "morlet_plv_epochs",
    "morlet_plv_over_time",
]
