"""Power spectral density: Welch and multitaper estimates on channel arrays.

Both estimators return a one-sided power spectral *density* in V^2/Hz (for
data in V), normalised so that Parseval's theorem holds on the bin grid:

.. math::

    \\sum_k P(f_k)\\,\\Delta f \\approx \\frac{1}{N}\\sum_n x[n]^2
    \\quad (\\text{after removing the mean}),

so a sinusoid of amplitude :math:`A` contributes :math:`A^2/2` V^2 to the
integral of the PSD over any band that holds its spectral peak.

References
----------
Welch, P. D. (1967). The use of fast Fourier transform for the estimation of
power spectra. IEEE Trans. Audio Electroacoust. 15(2):70-73.

Thomson, D. J. (1982). Spectrum estimation and harmonic analysis. Proc. IEEE
70(9):1055-1096.

Percival, D. B. & Walden, A. T. (1993). Spectral Analysis for Physical
Applications. Cambridge University Press.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from os import PathLike
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.fft import rfft
from scipy.signal import get_window

from harmonix.errors import ChannelError, DataQualityError, ParameterError, describe_source
from harmonix.spectral.bands import MIN_CYCLES

__all__ = ["Spectrum", "as_spectrum", "compute_psd", "psd_arrays", "psd_from_inst"]

_METHODS = ("welch", "multitaper")

_DEFAULT_WINDOW_SECONDS = 2.0
"""Shortest default Welch window (s): 0.5 Hz resolution, enough for the 1 Hz edge of delta."""

_CHUNK_BYTES = 128 * 2**20
"""Working-memory budget (bytes) for one block of the Welch and multitaper loops.

Welch holds, per block of segments, a float64 detrended copy, its complex FFT
and the power: about 32 bytes per segment sample. Blocks over channels (and,
for very long channels, over segments) keep the extra memory flat, about this
budget, however long the recording: a 60 min x 64 ch x 500 Hz recording
(0.9 GB of float64) needs < 0.2 GB more, while every block still goes
through one batched FFT.
"""


@dataclass(frozen=True)
class Spectrum:
    """A power spectral density per channel.

    Parameters
    ----------
    freqs : ndarray, shape (n_freqs,)
        Frequencies in Hz, uniformly spaced (spacing = frequency resolution).
    psd : ndarray, shape (n_channels, n_freqs)
        One-sided power spectral density in V^2/Hz (for data in V).
    ch_names : tuple of str
        One name per row of ``psd``.
    method : str
        ``'welch'`` or ``'multitaper'``.
    params : dict
        Everything needed to reproduce the estimate (``sfreq``, window length,
        resolution, bandwidth, number of segments/epochs, ``source``...).
    info : mne.Info | None
        The channels' measurement info (types, electrode positions), one
        channel per row of ``psd``, when the spectrum came from an MNE object;
        figures place the channels with it. ``None`` for a plain array.

    Notes
    -----
    ``freqs`` and ``psd`` are stored as read-only views (no copy) so that a
    frozen Spectrum cannot be edited through its fields.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(0, 10, 1 / 100)
    >>> spec = compute_psd(np.sin(2 * np.pi * 10 * t)[None], 100.0)
    >>> spec.psd.shape, spec.resolution
    ((1, 101), 0.5)
    """

    freqs: np.ndarray
    psd: np.ndarray
    ch_names: tuple[str, ...]
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    info: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        freqs = np.asarray(self.freqs, dtype=float)
        psd = np.asarray(self.psd, dtype=float)
        if freqs.ndim != 1 or psd.ndim != 2 or psd.shape[1] != freqs.size:
            raise ParameterError(
                f"Spectrum needs freqs (n_freqs,) and psd (n_channels, n_freqs); got {freqs.shape} and {psd.shape}"
            )
        if len(self.ch_names) != psd.shape[0]:
            raise ParameterError(f"Spectrum has {psd.shape[0]} PSD rows but {len(self.ch_names)} channel names")
        if freqs.size >= 2 and not np.all(np.diff(freqs) > 0):
            raise ParameterError("Spectrum freqs must be strictly increasing")
        if self.info is not None and list(self.info["ch_names"]) != [str(c) for c in self.ch_names]:
            raise ParameterError("Spectrum info must hold exactly the channels of ch_names, in their order")
        # Read-only views: the Spectrum cannot be edited through its fields, and
        # the caller's arrays (shared, not copied, to spare memory) keep their flags.
        freqs, psd = freqs.view(), psd.view()
        freqs.setflags(write=False)
        psd.setflags(write=False)
        object.__setattr__(self, "freqs", freqs)
        object.__setattr__(self, "psd", psd)
        object.__setattr__(self, "ch_names", tuple(str(c) for c in self.ch_names))

    @property
    def resolution(self) -> float:
        """Spacing of the frequency grid in Hz (``nan`` for a single bin)."""
        return float(self.freqs[1] - self.freqs[0]) if self.freqs.size >= 2 else float("nan")

    @property
    def n_channels(self) -> int:
        """Number of channels (rows of ``psd``)."""
        return self.psd.shape[0]


def as_spectrum(spectrum: Any, *, where: str = "spectrum") -> Spectrum:
    """The harmonix :class:`Spectrum` of a harmonix or an MNE spectrum.

    Parameters
    ----------
    spectrum : Spectrum | mne.time_frequency.Spectrum | mne.time_frequency.EpochsSpectrum
        A harmonix spectrum (returned as it is) or MNE's (from
        ``raw.compute_psd()`` or ``epochs.compute_psd()``): its good data
        EEG channels, averaged over epochs for an ``EpochsSpectrum``, with its
        ``info``. MNE's PSDs are in V^2/Hz for EEG, as harmonix's are.
    where : str
        The caller's name, for the error message.

    Returns
    -------
    spectrum : Spectrum

    Raises
    ------
    ParameterError
        Anything else (a Raw or Epochs: compute its spectrum first, with
        :func:`psd_from_inst` or ``inst.compute_psd()``).
    ChannelError
        An MNE spectrum without a good EEG channel.

    Examples
    --------
    >>> import mne, numpy as np
    >>> info = mne.create_info(["Oz", "Pz"], 100.0, "eeg")
    >>> raw = mne.io.RawArray(np.random.default_rng(0).normal(0, 1e-5, (2, 1000)), info, verbose=False)
    >>> as_spectrum(raw.compute_psd(fmax=40.0, verbose=False)).ch_names
    ('Oz', 'Pz')
    """
    if isinstance(spectrum, Spectrum):
        return spectrum
    import mne
    from mne.time_frequency import EpochsSpectrum
    from mne.time_frequency import Spectrum as MNESpectrum

    if not isinstance(spectrum, (MNESpectrum, EpochsSpectrum)):
        hint = ("; compute its spectrum first (harmonix.spectral.psd_from_inst or inst.compute_psd())"
                if isinstance(spectrum, (mne.io.BaseRaw, mne.BaseEpochs)) else "")
        raise ParameterError(f"{where} needs a harmonix or an MNE Spectrum, got {type(spectrum).__name__}{hint}")
    idx = mne.pick_types(spectrum.info, eeg=True, exclude="bads")
    if idx.size == 0:
        raise ChannelError(f"{where}: the MNE spectrum has no good EEG channel")
    psd, freqs = spectrum.get_data(picks=idx, return_freqs=True)
    if psd.ndim == 3:
        psd = psd.mean(axis=0)
    names = [spectrum.ch_names[i] for i in idx]
    info = mne.pick_info(spectrum.info, idx, verbose=False)
    params = {"sfreq": float(spectrum.info["sfreq"]), "fmin": float(freqs[0]), "fmax": float(freqs[-1]),
              "source": "mne.time_frequency." + type(spectrum).__name__,
              "resolution": float(freqs[1] - freqs[0]) if freqs.size > 1 else float("nan")}
    return Spectrum(freqs=freqs, psd=psd, ch_names=names, method=str(spectrum.method), params=params, info=info)


def psd_arrays(spectrum: Any, freqs: Any, *, where: str) -> tuple[np.ndarray, np.ndarray]:
    """``(freqs, psd)`` of a spectrum object, or of a PSD array and its ``freqs``.

    Parameters
    ----------
    spectrum : Spectrum | mne.time_frequency.Spectrum | ndarray, shape (..., n_freqs)
        Anything :func:`as_spectrum` takes, or a PSD array (last axis frequency).
    freqs : ndarray | None
        Frequencies of an array's last axis (Hz); ignored for a spectrum object.
    where : str
        The caller's name, for the error message.
    """
    if isinstance(spectrum, (np.ndarray, list, tuple)):
        if freqs is None:
            raise ParameterError(f"{where} needs the frequencies of the PSD array (freqs=...)")
        return np.asarray(freqs, dtype=float), np.asarray(spectrum, dtype=float)
    spectrum = as_spectrum(spectrum, where=where)
    return spectrum.freqs, spectrum.psd


def _is_mne_instance(data: Any) -> bool:
    import mne

    return isinstance(data, (mne.io.BaseRaw, mne.BaseEpochs))


def _default_window_seconds(fmin: float) -> float:
    # Two cycles of the lowest frequency of interest give a resolution of fmin/2,
    # i.e. at least two bins below fmin; never go under 2 s (0.5 Hz).
    if fmin > 0:
        return max(_DEFAULT_WINDOW_SECONDS, 2.0 / fmin)
    return _DEFAULT_WINDOW_SECONDS


def _check_data(data: Any, source: str) -> np.ndarray:
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{source}: data must be a numeric array ({err})") from err
    if arr.dtype.kind not in "fiu":
        raise ParameterError(f"{source}: data must be real numbers, got dtype {arr.dtype}")
    if arr.ndim not in (2, 3):
        raise ParameterError(
            f"{source}: data must be (n_channels, n_times) or (n_epochs, n_channels, n_times), "
            f"got an array with {arr.ndim} dimension(s) {arr.shape}"
        )
    if arr.dtype.kind in "iu":
        arr = arr.astype(float)
    if min(arr.shape) == 0:
        raise ParameterError(f"{source}: data is empty (shape {arr.shape})")
    return arr


def compute_psd(
    data: Any,
    sfreq: float | None = None,
    *,
    method: str = "welch",
    fmin: float = 0.0,
    fmax: float | None = None,
    window_seconds: float | None = None,
    overlap: float = 0.5,
    bandwidth: float | None = None,
    ch_names: Sequence[str] | None = None,
    source: str | PathLike | None = None,
) -> Spectrum:
    """Estimate the power spectral density of every channel.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times) or (n_epochs, n_channels, n_times) | mne.io.Raw | mne.Epochs
        Signals in V. With epochs, the PSD is computed per epoch and averaged
        over epochs (each epoch weighs the same). An MNE object goes through
        :func:`psd_from_inst` (its good EEG channels, its own sampling rate).
    sfreq : float | None
        Sampling rate of an array in Hz; not given for an MNE object.
    method : {'welch', 'multitaper'}
        ``'welch'``: averaged modified periodograms (Welch 1967) with a
        periodic Hann window, ``overlap`` between segments, per-segment mean
        removal and the mean over segments; identical (to rounding) to
        ``scipy.signal.welch(..., window='hann', detrend='constant',
        average='mean')`` and to MNE's ``psd_array_welch`` with a Hann window.
        ``'multitaper'``: DPSS multitaper estimate (Thomson 1982) from
        :func:`mne.time_frequency.psd_array_multitaper` with MNE's defaults
        (non-adaptive eigenvalue-weighted average, ``low_bias=True``).
    fmin, fmax : float
        Frequency range kept in the result, in Hz, inclusive. ``fmax=None``
        means Nyquist (``sfreq / 2``). ``fmin`` also sets the data-length
        requirement and the default Welch window (below).
    window_seconds : float | None
        Welch: segment length in s. Default ``max(2 s, 2 / fmin)``, i.e. a
        resolution ``1 / window_seconds`` of at most 0.5 Hz and of at most
        ``fmin / 2`` so that the lowest frequency of interest spans two
        cycles of the window. Multitaper: ``None`` (default) tapers the whole
        epoch or recording at once, as MNE does (resolution ``1 / T``); a value
        splits the data into consecutive non-overlapping segments of this
        length and averages their multitaper spectra (recommended for long
        recordings, where the whole-record grid is needlessly fine).
    overlap : float
        Welch: fraction of overlap between segments, in ``[0, 1)``.
    bandwidth : float | None
        Multitaper: full frequency bandwidth ``W`` of the DPSS tapers in Hz.
        Default (MNE's) ``8 / T`` for a segment of ``T`` s, i.e. time-half-
        bandwidth product ``NW = 4`` and 7 tapers; spectral detail finer than
        ``W`` is smoothed. Ignored by Welch.
    ch_names : sequence of str | None
        Channel names; default ``'0', '1', ...``.
    source : str | path | None
        Name of the input for error messages (e.g. the file name).

    Returns
    -------
    spectrum : Spectrum
        ``freqs`` (Hz) within ``[fmin, fmax]`` and ``psd`` in V^2/Hz.

    Raises
    ------
    ParameterError
        Unknown ``method``; wrong number of dimensions; non-finite samples;
        ``fmax`` above Nyquist; a recording or epoch shorter than the window
        or than ``MIN_CYCLES / fmin`` (4 cycles of ``fmin``) -- the message
        says "too short".

    Notes
    -----
    Welch is computed in NumPy on blocks of channels and segments, each block
    with one batched FFT: its extra memory is bounded (about 128 MB) whatever
    the channel count and duration. The one-sided density doubles all bins except DC and Nyquist, so
    ``sum(psd) * resolution`` equals the mean-removed signal variance.

    Examples
    --------
    >>> import numpy as np
    >>> sfreq = 250.0
    >>> t = np.arange(0, 20, 1 / sfreq)
    >>> x = np.vstack([2e-6 * np.sin(2 * np.pi * 10 * t), 1e-6 * np.sin(2 * np.pi * 6 * t)])
    >>> spec = compute_psd(x, sfreq, fmax=45.0, ch_names=["O1", "O2"])
    >>> float(spec.freqs[np.argmax(spec.psd[0])])
    10.0
    >>> bool(np.isclose(spec.psd[0].sum() * spec.resolution, (2e-6) ** 2 / 2))
    True
    """
    if _is_mne_instance(data):
        if sfreq is not None and float(sfreq) != float(data.info["sfreq"]):
            raise ParameterError(f"compute_psd: sfreq={sfreq} contradicts the object's own {data.info['sfreq']:g} Hz")
        kwargs = dict(method=method, fmin=fmin, fmax=fmax, window_seconds=window_seconds, overlap=overlap,
                      bandwidth=bandwidth)
        if source is not None:
            kwargs["source"] = source
        if ch_names is not None:
            raise ParameterError("compute_psd: ch_names are the MNE object's own; pick channels with psd_from_inst")
        return psd_from_inst(data, **kwargs)
    src = describe_source(source)
    if method not in _METHODS:
        raise ParameterError(f"{src}: unknown PSD method {method!r}; use one of {', '.join(_METHODS)}")
    arr = _check_data(data, src)
    if sfreq is None:
        raise ParameterError(f"{src}: give the sampling rate (sfreq) of an array")
    try:
        sfreq = float(sfreq)
    except (TypeError, ValueError):
        raise ParameterError(f"{src}: sampling rate must be a positive number of Hz, got {sfreq!r}") from None
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise ParameterError(f"{src}: sampling rate must be a positive number of Hz, got {sfreq}")
    nyquist = sfreq / 2.0
    fmin = float(fmin)
    fmax = nyquist if fmax is None else float(fmax)
    if fmin < 0:
        raise ParameterError(f"{src}: fmin must be >= 0 Hz, got {fmin:g}")
    if fmax > nyquist:
        raise ParameterError(
            f"{src}: fmax={fmax:g} Hz is above the Nyquist frequency {nyquist:g} Hz (sfreq {sfreq:g} Hz); "
            f"lower fmax or leave it as None"
        )
    if fmax <= fmin:
        raise ParameterError(f"{src}: need fmin < fmax, got fmin={fmin:g}, fmax={fmax:g} Hz")
    if not (0.0 <= overlap < 1.0):
        raise ParameterError(f"{src}: overlap must be in [0, 1), got {overlap}")

    epoched = arr.ndim == 3
    n_epochs = arr.shape[0] if epoched else 1
    n_channels, n_times = arr.shape[-2], arr.shape[-1]
    duration = n_times / sfreq
    what = "each epoch" if epoched else "the recording"

    if ch_names is None:
        names = tuple(str(i) for i in range(n_channels))
    else:
        names = tuple(str(c) for c in ch_names)
        if len(names) != n_channels:
            raise ParameterError(f"{src}: {len(names)} channel names given for {n_channels} channels")

    if fmin > 0 and duration < MIN_CYCLES / fmin:
        raise ParameterError(
            f"{src}: {what} is {duration:.2f} s long, too short for a PSD down to fmin={fmin:g} Hz "
            f"(needs {MIN_CYCLES:g} cycles, i.e. at least {MIN_CYCLES / fmin:.2f} s); raise fmin or use more data"
        )

    if window_seconds is None:
        win_s = _default_window_seconds(fmin) if method == "welch" else None
    else:
        win_s = float(window_seconds)
        if not np.isfinite(win_s) or win_s <= 0:
            raise ParameterError(f"{src}: window_seconds must be a positive number of s, got {window_seconds}")
        if fmin > 0 and win_s < 2.0 / fmin:
            raise ParameterError(
                f"{src}: window_seconds={win_s:g} s is too short for fmin={fmin:g} Hz "
                f"(a window must hold 2 cycles, i.e. >= {2.0 / fmin:.2f} s); lengthen the window or raise fmin"
            )
    if win_s is not None and win_s > duration + 0.5 / sfreq:
        raise ParameterError(
            f"{src}: {what} is {duration:.2f} s long, too short for a {win_s:g}-s {method} window; "
            f"pass a shorter window_seconds or use more data"
        )

    params: dict[str, Any] = {
        "sfreq": sfreq,
        "fmin": fmin,
        "fmax": fmax,
        "n_epochs": n_epochs,
        "source": src,
    }
    rows = arr.reshape(n_epochs * n_channels, n_times)

    def label(row: int) -> str:
        return _row_label(row, names, epoched)

    if method == "welch":
        freqs, psd = _welch_rows(rows, sfreq, win_s, overlap, src, label)
        nperseg = int(round(win_s * sfreq))
        params.update(
            window="hann",
            window_seconds=nperseg / sfreq,
            overlap=overlap,
            n_fft=nperseg,
            n_segments=1 + (n_times - nperseg) // (nperseg - int(np.floor(nperseg * overlap))),
            resolution=sfreq / nperseg,
            average="mean",
            detrend="constant",
        )
    else:
        freqs, psd, mt_params = _multitaper_rows(rows, sfreq, win_s, bandwidth, src, label)
        params.update(mt_params)

    psd = psd.reshape(n_epochs, n_channels, -1).mean(axis=0) if epoched else psd
    # A rounding-size tolerance so that fmin/fmax given on the grid are kept.
    tol = 1e-9 * sfreq
    keep = (freqs >= fmin - tol) & (freqs <= fmax + tol)
    if keep.sum() < 1:
        raise ParameterError(
            f"{src}: no frequency bin between {fmin:g} and {fmax:g} Hz at resolution {params['resolution']:g} Hz"
        )
    return Spectrum(freqs=freqs[keep], psd=psd[:, keep], ch_names=names, method=method, params=params)


def _row_label(row: int, names: tuple[str, ...], epoched: bool) -> str:
    ch = names[row % len(names)]
    return f"channel {ch!r}, epoch {row // len(names)}" if epoched else f"channel {ch!r}"


def _check_finite_block(block: np.ndarray, start: int, src: str, label: Callable[[int], str]) -> None:
    if not np.isfinite(block).all():
        bad = start + int(np.flatnonzero(~np.isfinite(block).all(axis=-1))[0])
        raise DataQualityError(
            f"{src}: data contain NaN or Inf values (first in {label(bad)}); "
            f"interpolate or drop the bad samples/channels before computing a PSD"
        )


def _welch_rows(
    rows: np.ndarray, sfreq: float, win_s: float, overlap: float, src: str, label: Callable[[int], str]
) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD of each row; equal to ``scipy.signal.welch(rows, sfreq, 'hann', nperseg,
    noverlap, detrend='constant', average='mean')`` up to rounding.

    Written out in NumPy because scipy >= 1.12 routes ``welch`` through
    ``ShortTimeFFT``, which detrends and transforms segment by segment in a
    Python loop (about 3x slower than MNE on hour-long recordings). Here all
    segments of a block go through one detrend, one window product and one
    batched ``rfft``.
    """
    n_rows, n_times = rows.shape
    nperseg = int(round(win_s * sfreq))
    if nperseg < 2:
        raise ParameterError(f"{src}: window_seconds={win_s:g} s holds fewer than 2 samples at {sfreq:g} Hz")
    nperseg = min(nperseg, n_times)
    step = nperseg - int(np.floor(nperseg * overlap))
    n_seg = 1 + (n_times - nperseg) // step
    window = get_window("hann", nperseg)  # periodic Hann, as scipy.signal.welch uses
    scale = 1.0 / (sfreq * np.sum(window**2))
    freqs = np.fft.rfftfreq(nperseg, 1.0 / sfreq)

    # Segments of one block: a float64 copy, its complex FFT and the power,
    # about 4 x 8 bytes per segment sample in all.
    per_seg = 4 * 8 * nperseg
    max_segs = max(1, _CHUNK_BYTES // per_seg)
    row_block = max(1, min(n_rows, max_segs // n_seg))
    seg_block = max(1, min(n_seg, max_segs // row_block))

    out = np.zeros((n_rows, freqs.size))
    for r0 in range(0, n_rows, row_block):
        chunk = rows[r0 : r0 + row_block]
        _check_finite_block(chunk, r0, src, label)
        segments = sliding_window_view(chunk, nperseg, axis=-1)[:, ::step][:, :n_seg]  # a view, no copy
        acc = out[r0 : r0 + row_block]
        for s0 in range(0, n_seg, seg_block):
            seg = np.asarray(segments[:, s0 : s0 + seg_block], dtype=float)
            seg = seg - seg.mean(axis=-1, keepdims=True)  # detrend='constant'
            seg *= window
            spec = rfft(seg, axis=-1)
            del seg
            acc += (spec.real**2 + spec.imag**2).sum(axis=1)
            del spec
    out *= scale / n_seg
    # One-sided density: fold negative frequencies onto positive ones, except
    # the DC and (even nperseg) Nyquist bins, which have no mirror image.
    last = -1 if nperseg % 2 == 0 else None
    out[:, 1:last] *= 2.0
    return freqs, out


def _multitaper_rows(
    rows: np.ndarray,
    sfreq: float,
    win_s: float | None,
    bandwidth: float | None,
    src: str,
    label: Callable[[int], str],
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    from mne.time_frequency import psd_array_multitaper

    n_rows, n_times = rows.shape
    n_win = n_times if win_s is None else int(round(win_s * sfreq))
    n_seg = n_times // n_win
    seg_s = n_win / sfreq
    if bandwidth is not None and (not np.isfinite(bandwidth) or bandwidth * seg_s / 2.0 < 0.5):
        raise ParameterError(
            f"{src}: multitaper bandwidth={bandwidth} Hz is too narrow for {seg_s:.2f}-s segments "
            f"(needs >= {1.0 / seg_s:.3g} Hz, i.e. a time-half-bandwidth product of at least 0.5)"
        )
    half_nbw = 4.0 if bandwidth is None else bandwidth * seg_s / 2.0
    freqs = np.fft.rfftfreq(n_win, 1.0 / sfreq)
    out = np.zeros((n_rows, freqs.size))
    # Bound memory: MNE's tapered FFTs cost n_tapers complex copies of each segment.
    n_tapers = max(1, int(2 * half_nbw))
    per_row = n_seg * n_win * 16.0 * (n_tapers + 1)
    block = max(1, int(_CHUNK_BYTES // per_row))
    for start in range(0, n_rows, block):
        chunk = rows[start : start + block]
        _check_finite_block(chunk, start, src, label)
        segs = chunk[:, : n_seg * n_win].reshape(chunk.shape[0], n_seg, n_win)
        try:
            psd, _ = psd_array_multitaper(
                segs, sfreq, bandwidth=bandwidth, adaptive=False, low_bias=True,
                normalization="full", remove_dc=True, verbose=False,
            )
        except ValueError as err:  # MNE's own parameter checks
            raise ParameterError(f"{src}: multitaper PSD failed: {err}") from err
        out[start : start + block] = psd.mean(axis=1)
    params = {
        "window_seconds": seg_s,
        "n_segments": n_seg,
        "bandwidth": 2.0 * half_nbw / seg_s,
        "time_half_bandwidth": half_nbw,
        "n_tapers_max": n_tapers,
        "resolution": sfreq / n_win,
        "adaptive": False,
        "low_bias": True,
    }
    return freqs, out, params


def psd_from_inst(inst: Any, *, picks: Any = "eeg", **kwargs: Any) -> Spectrum:
    """Compute the PSD of an MNE ``Raw`` or ``Epochs`` object.

    Parameters
    ----------
    inst : mne.io.BaseRaw | mne.BaseEpochs
        The data, in V (MNE's internal unit).
    picks : str | list | slice | None
        Channels, as MNE understands ``picks``; channels marked bad in
        ``inst.info['bads']`` are excluded (always, even when named).
    **kwargs
        Passed to :func:`compute_psd` (``method``, ``fmin``, ``fmax``,
        ``window_seconds``, ...). ``source`` defaults to the file name.

    Returns
    -------
    spectrum : Spectrum
        For Epochs, the PSD averaged over epochs. For Raw, spans annotated
        ``bad_*`` are left out (the good spans are concatenated, as
        ``Raw.get_data(reject_by_annotation='omit')`` does). Its ``info`` is
        the picked channels' measurement info, positions included.

    Examples
    --------
    >>> import mne, numpy as np
    >>> info = mne.create_info(["Oz", "Pz"], 100.0, "eeg")
    >>> raw = mne.io.RawArray(np.random.default_rng(0).normal(0, 1e-5, (2, 1000)), info, verbose=False)
    >>> psd_from_inst(raw, fmax=40.0).ch_names
    ('Oz', 'Pz')
    """
    import mne

    if not isinstance(inst, (mne.io.BaseRaw, mne.BaseEpochs)):
        raise ParameterError(f"psd_from_inst needs an mne Raw or Epochs object, got {type(inst).__name__}")
    try:
        # MNE's picks resolved through its public API: a one-sample RawArray with the same info, picked
        header = mne.io.RawArray(np.zeros((len(inst.ch_names), 1)), inst.info.copy(), verbose=False)
        picked = header.pick(picks, exclude="bads", verbose=False).ch_names
    except ValueError as err:
        raise ChannelError(f"cannot pick channels {picks!r}: {err}") from err
    idx = np.array([inst.ch_names.index(name) for name in picked if name not in inst.info["bads"]], dtype=int)
    if idx.size == 0:
        raise ChannelError(f"no good channels left after picks={picks!r} and excluding bads")
    filenames = getattr(inst, "filenames", None) or [None]
    kwargs.setdefault("source", filenames[0] and str(filenames[0]))
    if isinstance(inst, mne.io.BaseRaw):
        data = inst.get_data(picks=idx, reject_by_annotation="omit")
    else:
        data = inst.get_data(picks=idx)
    names = [inst.ch_names[i] for i in idx]
    spectrum = compute_psd(data, inst.info["sfreq"], ch_names=names, **kwargs)
    return replace(spectrum, info=mne.pick_info(inst.info, idx, verbose=False))
