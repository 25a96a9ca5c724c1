"""Complexity and entropy of signals and spectra.

* :func:`spectral_entropy`: Shannon entropy of the normalised PSD (Inouye et al. 1991);
* :func:`lempel_ziv_complexity`: LZ76 complexity of the binarised signal
  (Lempel & Ziv 1976) counted with the Kaspar-Schuster algorithm;
* :func:`band_lempel_ziv`: the same on each band's amplitude envelope
  (Schartner et al. 2015, 2017);
* :func:`repertoire_entropy`: entropy in bits of any non-negative
  distribution (e.g. the powers of the connectome harmonics).

References
----------
Inouye T. et al. (1991). Quantification of EEG irregularity by use of the
entropy of the power spectrum. Electroencephalogr Clin Neurophysiol 79:204-210.

Lempel A., Ziv J. (1976). On the complexity of finite sequences. IEEE Trans
Inf Theory 22:75-81.

Kaspar F., Schuster H. G. (1987). Easily calculable measure for the complexity
of spatiotemporal patterns. Phys Rev A 36:842-848.

Schartner M. et al. (2015). Complexity of multi-dimensional spontaneous EEG
decreases during propofol induced general anaesthesia. PLoS ONE 10:e0133532.

Schartner M. M. et al. (2017). Increased spontaneous MEG signal diversity for
psychoactive doses of ketamine, LSD and psilocybin. Sci Rep 7:46421.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harmonix.errors import DataQualityError, ParameterError
from harmonix.spectral.bands import Band, load_bands
from harmonix.spectral.filterbank import iter_analytic_blocks
from harmonix.spectral.psd import Spectrum, psd_arrays

__all__ = [
    "band_lempel_ziv",
    "binarize",
    "lempel_ziv_complexity",
    "lz76_count",
    "repertoire_entropy",
    "spectral_entropy",
]


def repertoire_entropy(power: np.ndarray, *, axis: int = -1, normalize: bool = False) -> np.ndarray | float:
    """Shannon entropy (bits) of a non-negative distribution.

    .. math:: H = -\\sum_k p_k \\log_2 p_k, \\qquad p_k = P_k / \\sum_j P_j

    with :math:`0 \\log 0 = 0`. ``log2(n)`` bits for a uniform distribution
    over ``n`` entries, 0 when one entry holds everything. Used for the
    repertoire of connectome harmonics (Atasoy et al. 2017, "Connectome-
    harmonic decomposition of human brain activity reveals dynamical
    repertoire re-organization under LSD", Sci Rep 7:17661) and any other
    power distribution.

    Parameters
    ----------
    power : array_like
        Non-negative values (powers, counts, probabilities).
    axis : int
        Axis holding the distribution.
    normalize : bool
        Divide by ``log2(n)`` (result in [0, 1]).

    Returns
    -------
    entropy : float or ndarray
        Bits (or a fraction of ``log2(n)``); NaN where all values are zero.

    Raises
    ------
    ParameterError
        Negative or non-finite values, empty axis.

    Examples
    --------
    >>> repertoire_entropy(np.ones(8))
    3.0
    >>> repertoire_entropy([0.0, 5.0, 0.0])
    0.0
    """
    p = np.asarray(power, dtype=float)
    if p.ndim == 0 or p.shape[axis] == 0:
        raise ParameterError(f"repertoire_entropy needs a non-empty array, got shape {p.shape}")
    if not np.isfinite(p).all() or np.any(p < 0):
        raise ParameterError("repertoire_entropy needs finite, non-negative values")
    total = p.sum(axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = p / total
        h = -np.sum(np.where(q > 0, q * np.log2(np.where(q > 0, q, 1.0)), 0.0), axis=axis)
    h = np.where(np.squeeze(total, axis=axis) > 0, h, np.nan)
    h = h + 0.0  # -0.0 -> 0.0
    if normalize:
        n = p.shape[axis]
        h = h / np.log2(n) if n > 1 else np.where(np.isnan(h), np.nan, 0.0)
    return float(h) if np.ndim(h) == 0 else h


def spectral_entropy(
    spectrum: Spectrum | np.ndarray,
    freqs: np.ndarray | None = None,
    *,
    fmin: float | None = None,
    fmax: float | None = None,
    normalize: bool = True,
) -> np.ndarray:
    """Spectral entropy of each channel's PSD (Inouye et al. 1991).

    .. math::

        H = -\\sum_{f_{min} \\le f_k \\le f_{max}} p_k \\log_2 p_k, \\qquad
        p_k = \\frac{P(f_k)}{\\sum_j P(f_j)},

    divided by :math:`\\log_2 K` (``K`` bins in the range) when ``normalize``:
    1 for a flat (white) spectrum, near 0 when the power sits in one bin
    (a pure sinusoid). Bits, or unitless when normalised. The value depends
    on the frequency resolution (more bins, higher unnormalised entropy).

    Parameters
    ----------
    spectrum : Spectrum | ndarray, shape (..., n_freqs)
        A harmonix or MNE spectrum (:func:`~harmonix.spectral.psd.as_spectrum`) or a PSD array (last axis frequency).
    freqs : ndarray | None
        Frequencies of an array's last axis (Hz); not needed for a Spectrum.
    fmin, fmax : float | None
        Frequency range (Hz, inclusive); default the whole spectrum.
    normalize : bool
        Divide by ``log2(K)``.

    Returns
    -------
    entropy : ndarray, shape ``psd.shape[:-1]``

    Examples
    --------
    >>> f = np.arange(0, 40.5, 0.5)
    >>> psd = np.vstack([np.ones(f.size), np.where(f == 10, 1.0, 0.0)])
    >>> spectral_entropy(psd, f, fmin=1, fmax=40).round(3).tolist()
    [1.0, 0.0]
    """
    grid, psd = psd_arrays(spectrum, freqs, where="spectral_entropy")
    if grid.ndim != 1 or psd.shape[-1] != grid.size:
        raise ParameterError(f"PSD last axis ({psd.shape}) must match freqs ({grid.shape})")
    lo = grid[0] if fmin is None else float(fmin)
    hi = grid[-1] if fmax is None else float(fmax)
    keep = (grid >= lo - 1e-9) & (grid <= hi + 1e-9)
    if keep.sum() < 2:
        raise ParameterError(
            f"spectral entropy needs at least 2 bins between {lo:g} and {hi:g} Hz; the spectrum covers "
            f"{grid[0]:g}-{grid[-1]:g} Hz"
        )
    sel = psd[..., keep]
    if not np.isfinite(sel).all() or np.any(sel < 0):
        raise DataQualityError("PSD values must be finite and non-negative")
    if np.any(sel.sum(axis=-1) == 0):
        raise DataQualityError(f"a channel has zero power between {lo:g} and {hi:g} Hz (flat signal?)")
    h = repertoire_entropy(sel, axis=-1, normalize=normalize)
    return np.asarray(h)


# --------------------------------------------------------------------------- Lempel-Ziv


def _lz76_py(s: np.ndarray) -> int:
    """Kaspar-Schuster LZ76 component count of a symbol array (the reference; see :func:`_lz76_automaton`)."""
    n = s.size
    if n <= 1:
        return n
    c, l, i, k, k_max = 1, 1, 0, 1, 1
    while True:
        if s[i + k - 1] == s[l + k - 1]:
            k += 1
            if l + k > n:
                c += 1
                break
        else:
            if k > k_max:
                k_max = k
            i += 1
            if i == l:
                c += 1
                l += k_max
                if l + 1 > n:
                    break
                i, k, k_max = 0, 1, 1
            else:
                k = 1
    return c


def _lz76_automaton(s: np.ndarray, alphabet: int) -> int:
    """The same LZ76 component count in linear time, with an online suffix automaton.

    Kaspar & Schuster's scan restarts its search for every component, which
    costs :math:`O(n\\,c(n))`. Here the text read so far is kept in a suffix
    automaton (Blumer et al. 1985), extended one symbol at a time: the current
    component grows by the next symbol while component + symbol is a substring
    of the text before that symbol (a transition of the automaton, copies
    overlapping the component allowed, as in LZ76), and ends with it otherwise.
    The component's state is re-anchored along suffix links after each
    extension, since cloning may move its string to a new state.
    ``tests/test_complexity.py`` checks the count equals :func:`_lz76_py`.
    """
    n = s.size
    if n <= 1:
        return n
    size = 2 * n + 1
    nxt = np.full((size, alphabet), -1, np.int32)
    link = np.full(size, -1, np.int32)
    length = np.zeros(size, np.int32)
    states, last, current, current_length, components = 1, 0, 0, 0, 0
    for j in range(n):
        symbol = s[j]
        target = nxt[current, symbol]
        if target != -1:
            current, current_length = target, current_length + 1
        else:
            components += 1
            current, current_length = 0, 0
        new = states
        states += 1
        length[new] = length[last] + 1
        p = last
        while p != -1 and nxt[p, symbol] == -1:
            nxt[p, symbol] = new
            p = link[p]
        if p == -1:
            link[new] = 0
        else:
            q = nxt[p, symbol]
            if length[p] + 1 == length[q]:
                link[new] = q
            else:
                clone = states
                states += 1
                length[clone] = length[p] + 1
                nxt[clone, :] = nxt[q, :]
                link[clone] = link[q]
                while p != -1 and nxt[p, symbol] == q:
                    nxt[p, symbol] = clone
                    p = link[p]
                link[q] = clone
                link[new] = clone
        last = new
        while current_length > 0 and link[current] != -1 and length[link[current]] >= current_length:
            current = link[current]
    return components + (1 if current_length > 0 else 0)


try:
    import numba

    _lz76_nb = numba.njit(cache=True, nogil=True)(_lz76_automaton)

    @numba.njit(cache=True, parallel=True)
    def _lz76_rows_nb(rows, alphabet):
        out = np.empty(rows.shape[0], dtype=np.int64)
        for r in numba.prange(rows.shape[0]):
            out[r] = _lz76_nb(rows[r], alphabet)
        return out

    def _lz76_rows(rows: np.ndarray) -> np.ndarray:
        rows = np.ascontiguousarray(rows, dtype=np.uint8)
        return _lz76_rows_nb(rows, int(rows.max()) + 1 if rows.size else 1)

except ImportError:  # numba ships with librosa; this keeps the module importable without it

    def _lz76_rows(rows: np.ndarray) -> np.ndarray:
        return np.array([_lz76_py(r) for r in np.asarray(rows, dtype=np.uint8)], dtype=np.int64)


def lz76_count(sequence: Sequence[int] | np.ndarray) -> int:
    """Number of components of the LZ76 exhaustive parsing of a symbol sequence.

    The parsing of Lempel & Ziv (1976) as Kaspar & Schuster (1987) count it:
    scan the sequence once, growing the current component while it can be
    copied from earlier text (the copy may overlap the component itself); a
    new component starts when it cannot. Computed in linear time with a
    suffix automaton (:func:`_lz76_automaton`). Symbols must be small
    non-negative integers (0-255).

    Examples
    --------
    >>> lz76_count([0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 1])  # 0.001.10.100.1000.101
    6
    """
    s = np.asarray(sequence)
    if s.ndim != 1:
        raise ParameterError(f"lz76_count needs a 1-D sequence, got shape {s.shape}")
    if s.size and (s.min() < 0 or s.max() > 255):
        raise ParameterError("lz76_count needs symbols in 0..255")
    return int(_lz76_rows(s.astype(np.uint8)[np.newaxis])[0])


def binarize(x: np.ndarray, threshold: str | float | np.ndarray = "median") -> np.ndarray:
    """``1`` where ``x`` is above the threshold (per row), ``0`` elsewhere (uint8).

    ``threshold``: ``'median'``, ``'mean'``, or a number / array broadcast
    against ``x[..., :1]``.
    """
    x = np.asarray(x, dtype=float)
    if isinstance(threshold, str):
        if threshold == "median":
            thr = np.median(x, axis=-1, keepdims=True)
        elif threshold == "mean":
            thr = x.mean(axis=-1, keepdims=True)
        else:
            raise ParameterError(f"threshold must be 'median', 'mean' or a number, got {threshold!r}")
    else:
        thr = np.asarray(threshold, dtype=float)
        if thr.ndim:
            thr = thr[..., np.newaxis]
    return (x > thr).astype(np.uint8)


def lempel_ziv_complexity(
    x: np.ndarray, *, threshold: str | float | np.ndarray = "median", normalize: bool = True
) -> np.ndarray | float:
    """Lempel-Ziv (LZ76) complexity of the binarised signal, per channel.

    The signal is binarised (1 above ``threshold``, 0 otherwise; the median
    by default, so both symbols are equally frequent) and the number
    :math:`c(n)` of components of its LZ76 exhaustive parsing is counted
    (Kaspar & Schuster 1987; in linear time with a suffix automaton, compiled
    with numba, one channel per thread). Normalised,

    .. math:: C = c(n) \\, \\frac{\\log_2 n}{n},

    which tends to 1 for an i.i.d. fair binary sequence as ``n`` grows (slightly
    above 1 at finite ``n``: about 1.03 at n = 10^4) and to 0 for periodic or
    constant ones (Lempel & Ziv 1976). Unitless (or a count when not normalised).

    Parameters
    ----------
    x : ndarray, shape (n_times,) or (..., n_times)
        Signal(s); the last axis is time.
    threshold : 'median' | 'mean' | float | ndarray
        Binarisation threshold per row.
    normalize : bool
        Return ``c(n) log2(n) / n`` instead of ``c(n)``.

    Returns
    -------
    lz : float or ndarray, shape ``x.shape[:-1]``

    Raises
    ------
    ParameterError
        Fewer than 2 samples. DataQualityError: NaN/Inf.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> round(float(lempel_ziv_complexity(rng.normal(size=5000))), 1)
    1.0
    >>> bool(lempel_ziv_complexity(np.sin(np.arange(5000) / 5.0)) < 0.1)
    True
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise ParameterError(f"lempel_ziv_complexity needs a numeric array, got dtype {arr.dtype}")
    if arr.ndim == 0 or arr.shape[-1] < 2:
        raise ParameterError(f"lempel_ziv_complexity needs at least 2 samples on the last axis, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise DataQualityError("signal contains NaN or Inf values")
    n = arr.shape[-1]
    bits = binarize(arr, threshold).reshape(-1, n)
    counts = _lz76_rows(bits).astype(float).reshape(arr.shape[:-1])
    out = counts * np.log2(n) / n if normalize else counts
    return float(out) if np.ndim(out) == 0 else out


def band_lempel_ziv(
    data: np.ndarray,
    sfreq: float,
    bands: Sequence[Band] | dict | str | None = None,
    *,
    threshold: str | float = "median",
    signal: str = "amplitude",
    normalize: bool = True,
) -> np.ndarray:
    """Lempel-Ziv complexity of each band, per channel.

    For each band the analytic signal :math:`z_b(t)` of the filter bank
    (:func:`harmonix.spectral.filterbank.iter_analytic_blocks`: MNE's
    zero-phase FIR + Hilbert) is formed and

    * ``signal='amplitude'`` (default): its envelope :math:`|z_b(t)|` is
      binarised around its median (Schartner et al. 2015 binarise the
      Hilbert amplitude around its mean: ``threshold='mean'``). This measures
      how diverse the waxing and waning of the band's power is;
    * ``signal='bandpassed'``: the band-passed signal :math:`\\mathrm{Re}\\,z_b`
      is binarised (mostly sign changes of the oscillation: low values for
      narrow bands).

    then :func:`lempel_ziv_complexity` is applied. Envelopes are smooth on the
    scale of ``1 / bandwidth``, so normalised values are well below 1 even for
    noise; compare values at the same band, sampling rate and duration.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
    sfreq : float
        Sampling rate in Hz.
    bands : bands | None
        Anything :func:`harmonix.spectral.bands.load_bands` accepts; default table.
    threshold, normalize
        As :func:`lempel_ziv_complexity`.
    signal : {'amplitude', 'bandpassed'}

    Returns
    -------
    lz : ndarray, shape (n_channels, n_bands)
        In the order of ``load_bands(bands)``.
    """
    if signal not in ("amplitude", "bandpassed"):
        raise ParameterError(f"signal must be 'amplitude' or 'bandpassed', got {signal!r}")
    bands = load_bands(bands)
    x = np.asarray(data, dtype=float)
    if x.ndim != 2:
        raise ParameterError(f"data must be (n_channels, n_times), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise DataQualityError("data contain NaN or Inf values")
    out = np.empty((len(bands), x.shape[0], x.shape[1]), dtype=np.float32)
    for blk in iter_analytic_blocks(x, sfreq, bands, dtype=np.complex64):
        out[:, :, blk.start : blk.stop] = np.abs(blk.values) if signal == "amplitude" else blk.values.real
    return np.asarray(lempel_ziv_complexity(out, threshold=threshold, normalize=normalize)).T
