"""Entrainment: how strongly the brain follows a periodic or rhythmic stimulus.

Three estimators, from trial-locked to stimulus-locked:

* :func:`inter_trial_coherence` (and :func:`inter_trial_coherence_time`):
  consistency of the response phase at the stimulation frequency across
  trials, with its chance level and the Rayleigh p-value;
* :func:`steady_state_snr`: power at the stimulation frequency over the mean
  power of neighbouring bins (the frequency-tagging SNR);
* :func:`stimulus_locking`: phase-locking value between a stimulus waveform
  (or its envelope, see :func:`stimulus_envelope`) and each EEG channel in a
  band, with a circular-shift surrogate chance level;
Which of several stimulation frequencies each trial carries is decided in
:mod:`harmonix.estimators.steady_state_classifier` from the SNR.

References
----------
Tallon-Baudry C., Bertrand O., Delpuech C., Pernier J. (1996). Stimulus
specificity of phase-locked and non-phase-locked 40 Hz visual responses in
human. J Neurosci 16:4240-4249 (inter-trial phase coherence).

Zar J. H. (1999). Biostatistical Analysis, 4th ed., ch. 27 (Rayleigh test).

Meigen T., Bach M. (1999). On the statistical significance of electro-
physiological steady-state responses. Doc Ophthalmol 98:207-232.

Norcia A. M., Appelbaum L. G., Ales J. M., Cottereau B. R., Rossion B. (2015).
The steady-state visual evoked potential in vision research: a review.
J Vis 15(6):4.

Lachaux J.-P., Rodriguez E., Martinerie J., Varela F. J. (1999). Measuring
phase synchrony in brain signals. Hum Brain Mapp 8:194-208 (PLV).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mne
import numpy as np
import scipy.fft
import scipy.signal

from harmonix.errors import DataQualityError, ParameterError
from harmonix.estimators.locking import rayleigh_p_from_resultant
from harmonix.spectral.bands import Band
from harmonix.spectral.filterbank import analytic_signal
from harmonix.spectral.psd import Spectrum, psd_arrays

__all__ = [
    "ITCResult",
    "StimulusLockingResult",
    "inter_trial_coherence",
    "inter_trial_coherence_time",
    "itc_chance_level",
    "rayleigh_pvalue",
    "steady_state_snr",
    "stimulus_envelope",
    "stimulus_locking",
]


# --------------------------------------------------------------------------- helpers


def itc_chance_level(n_trials: int) -> float:
    """Expected ITC of ``n_trials`` independent uniform random phases.

    .. math:: E[R] \\approx \\sqrt{\\pi / (4N)}

    (the mean of a Rayleigh distribution with :math:`\\sigma^2 = N/2`,
    divided by :math:`N`; exact for large ``N``, within 3 % from N = 8).

    Examples
    --------
    >>> round(itc_chance_level(100), 4)
    0.0886
    """
    n = int(n_trials)
    if n < 1:
        raise ParameterError(f"ITC chance level needs at least one trial, got n_trials={n_trials}")
    return float(np.sqrt(np.pi / (4.0 * n)))


def rayleigh_pvalue(r: np.ndarray | float, n: int) -> np.ndarray:
    """Rayleigh test p-value for a mean resultant length ``r`` of ``n`` phases.

    Zar's (1999, eq. 27.4) approximation, accurate to a few percent from n = 5:

    .. math:: p = \\exp\\left(\\sqrt{1 + 4n + 4(n^2 - R_n^2)} - (1 + 2n)\\right),
        \\quad R_n = n\\,r.

    Parameters
    ----------
    r : float or ndarray
        Mean resultant length(s) (ITC or PLV) in [0, 1].
    n : int
        Number of phases (trials or samples) behind each ``r``.

    Returns
    -------
    p : ndarray
        Probability of a resultant at least this long under uniform phases.

    Examples
    --------
    >>> float(rayleigh_pvalue(0.0, 20))
    1.0
    >>> bool(rayleigh_pvalue(0.6, 20) < 0.001)
    True
    """
    r = np.asarray(r, dtype=float)
    return rayleigh_p_from_resultant(n * r, n)


def _check_positive(value: Any, name: str) -> float:
    try:
        val = float(value)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name} must be a positive number, got {value!r}") from err
    if not np.isfinite(val) or val <= 0:
        raise ParameterError(f"{name} must be a positive number, got {value!r}")
    return val


def _epochs_array(
    epochs: Any, sfreq: float | None, tmin: float | None, tmax: float | None, picks: Any = None
) -> tuple[np.ndarray, float, list[str] | None]:
    """``(n_epochs, n_channels, n_times)`` float array cropped to ``[tmin, tmax)``.

    For arrays, times are seconds from the first sample of each epoch; for
    :class:`mne.Epochs`, the epochs' own time axis (``epochs.times``).
    """
    names = None
    if isinstance(epochs, mne.BaseEpochs):
        inst_sfreq = float(epochs.info["sfreq"])
        if sfreq is not None and not np.isclose(float(sfreq), inst_sfreq):
            raise ParameterError(f"sfreq={sfreq} differs from the Epochs' sampling rate {inst_sfreq}; pass sfreq=None")
        sfreq = inst_sfreq
        pick_idx = mne.io.pick._picks_to_idx(epochs.info, picks, "all", exclude=())
        data = epochs.get_data(picks=pick_idx)
        names = [epochs.ch_names[i] for i in pick_idx]
        t0 = float(epochs.times[0])
    else:
        if sfreq is None:
            raise ParameterError("sfreq is required when epochs are given as an array")
        data = np.asarray(epochs)
        if data.dtype.kind not in "fiu":
            raise ParameterError(f"epochs must be a real numeric array, got dtype {data.dtype}")
        if data.ndim == 2:
            data = data[:, np.newaxis, :]
        if data.ndim != 3:
            raise ParameterError(
                f"epochs must be (n_epochs, n_channels, n_times) or (n_epochs, n_times), got shape {data.shape}"
            )
        if picks is not None:
            data = data[:, np.atleast_1d(picks), :]
        t0 = 0.0
    sfreq = _check_positive(sfreq, "sfreq")
    data = np.asarray(data, dtype=float)
    n_times = data.shape[-1]
    start = 0 if tmin is None else int(round((float(tmin) - t0) * sfreq))
    stop = n_times if tmax is None else int(round((float(tmax) - t0) * sfreq))
    if start < 0 or stop > n_times or stop - start < 2:
        raise ParameterError(
            f"time window tmin={tmin}, tmax={tmax} s does not lie inside the epochs "
            f"({t0:g} to {t0 + (n_times - 1) / sfreq:g} s)"
        )
    data = data[..., start:stop]
    if min(data.shape) == 0:
        raise ParameterError(f"epochs are empty (shape {data.shape})")
    if not np.isfinite(data).all():
        raise DataQualityError("epochs contain NaN or Inf values; drop or repair those trials first")
    return data, sfreq, names


def _dft(x: np.ndarray, sfreq: float, freqs: np.ndarray, window: str | None) -> np.ndarray:
    """Windowed discrete-time Fourier transform of the last axis at arbitrary ``freqs`` (Hz).

    ``X(f) = sum_n w[n] (x[n] - mean x) exp(-2 pi i f n / sfreq) / sum_n w[n]``:
    a sinusoid ``A cos(2 pi f t + phi)`` gives ``X(f) ~ (A/2) exp(i phi)``.
    Equivalent to a zero-padded FFT with a bin exactly on each frequency.
    """
    n = x.shape[-1]
    w = np.ones(n) if window is None else scipy.signal.get_window(window, n, fftbins=False)
    kernel = np.exp(-2j * np.pi * np.outer(np.arange(n) / sfreq, np.atleast_1d(freqs))) * (w / w.sum())[:, None]
    return (x - x.mean(axis=-1, keepdims=True)) @ kernel


# --------------------------------------------------------------------------- ITC


@dataclass(frozen=True)
class ITCResult:
    """Inter-trial phase coherence at one frequency.

    Attributes
    ----------
    itc : ndarray, shape (n_channels,) or (n_channels, n_times)
        Mean resultant length of the per-trial phases, in [0, 1] (unitless).
    phase : ndarray
        Angle of the mean phasor (rad), same shape as ``itc``.
    p_value : ndarray
        Rayleigh test p-value (:func:`rayleigh_pvalue`), same shape as ``itc``.
    chance : float
        Expected ITC for random phases, ``sqrt(pi / (4 n_trials))``.
    freq : float
        Frequency analysed (Hz).
    n_trials : int
        Number of trials.
    method : str
        ``'dft'`` (one phase per trial) or ``'hilbert'`` (one per trial and sample).
    ch_names : tuple of str | None
        Channel names when the input carried them.
    times : ndarray | None
        Time axis (s) of a time-resolved result.
    """

    itc: np.ndarray
    phase: np.ndarray
    p_value: np.ndarray
    chance: float
    freq: float
    n_trials: int
    method: str
    ch_names: tuple[str, ...] | None = None
    times: np.ndarray | None = None


def inter_trial_coherence(
    epochs: np.ndarray | mne.BaseEpochs,
    sfreq: float | None,
    freq: float,
    *,
    tmin: float | None = None,
    tmax: float | None = None,
    window: str | None = "hann",
    picks: Any = None,
) -> ITCResult:
    """Inter-trial phase coherence (ITC) at a stimulation frequency, per channel.

    .. math::

        \\mathrm{ITC}_c(f) = \\left|\\frac{1}{N}\\sum_{n=1}^{N}
        \\frac{X_{n,c}(f)}{|X_{n,c}(f)|}\\right|,
        \\qquad X_{n,c}(f) = \\sum_t w(t)\\,x_{n,c}(t)\\,e^{-2\\pi i f t}

    The phase of trial ``n`` is that of the windowed Fourier transform of the
    trial segment evaluated exactly at ``f`` (a zero-padded DFT with a bin on
    ``f``; no rounding to the FFT grid). With the default Hann window the
    estimator integrates over a band of about ``±2/T`` Hz around ``f`` for a
    segment of ``T`` s, so the steady-state response is separated from
    neighbouring frequencies and from the 1/f background.

    Unitless, in [0, 1]: 1 when every trial has the same phase, about
    ``sqrt(pi / (4N))`` (:func:`itc_chance_level`) for random phases. The
    Rayleigh p-value tests against uniform phases (Zar 1999).

    Parameters
    ----------
    epochs : ndarray, shape (n_epochs, n_channels, n_times) or (n_epochs, n_times) | mne.Epochs
        Trials (any unit; the ITC is unitless).
    sfreq : float | None
        Sampling rate in Hz (``None`` with :class:`mne.Epochs`).
    freq : float
        Stimulation frequency in Hz.
    tmin, tmax : float | None
        Segment of each trial used, in s: from the first sample for arrays,
        on ``epochs.times`` for Epochs. Default: the whole trial. Skipping the
        onset transient (e.g. ``tmin=0.5``) often helps.
    window : str | None
        Taper (``scipy.signal.get_window`` name); ``None`` = rectangular.
    picks : channels | None
        Channel indices (arrays) or MNE picks (Epochs).

    Returns
    -------
    result : ITCResult
        ``itc``, ``phase`` and ``p_value`` of shape (n_channels,), ``chance``.

    Raises
    ------
    ParameterError
        Fewer than 2 trials, ``freq`` not in (0, Nyquist), a segment shorter
        than two cycles of ``freq``, an empty time window.
    DataQualityError
        NaN/Inf samples.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(500) / 250.0
    >>> trials = np.sin(2 * np.pi * 12 * t) + rng.normal(size=(30, 500))
    >>> res = inter_trial_coherence(trials, 250.0, 12.0)
    >>> bool(res.itc[0] > 0.9), round(res.chance, 3)
    (True, 0.162)
    """
    data, sfreq, names = _epochs_array(epochs, sfreq, tmin, tmax, picks)
    freq = _check_freq(freq, sfreq, data.shape[-1])
    n_trials = data.shape[0]
    if n_trials < 2:
        raise ParameterError(f"ITC needs at least 2 trials, got {n_trials}")
    z = _dft(data, sfreq, np.array([freq]), window)[..., 0]  # (n_epochs, n_channels)
    mag = np.abs(z)
    if np.any(mag == 0):
        raise DataQualityError("a trial has exactly zero Fourier amplitude at the frequency (flat signal?)")
    mean = (z / mag).mean(axis=0)
    itc = np.abs(mean)
    return ITCResult(
        itc=itc,
        phase=np.angle(mean),
        p_value=rayleigh_pvalue(itc, n_trials),
        chance=itc_chance_level(n_trials),
        freq=freq,
        n_trials=n_trials,
        method="dft",
        ch_names=None if names is None else tuple(names),
    )


def inter_trial_coherence_time(
    epochs: np.ndarray | mne.BaseEpochs,
    sfreq: float | None,
    freq: float,
    *,
    bandwidth: float = 2.0,
    tmin: float | None = None,
    tmax: float | None = None,
    picks: Any = None,
) -> ITCResult:
    """Time-resolved inter-trial phase coherence in a narrow band around ``freq``.

    .. math:: \\mathrm{ITC}_c(t) = \\left|\\frac{1}{N}\\sum_n e^{i\\phi_{n,c}(t)}\\right|

    with :math:`\\phi_{n,c}(t)` the phase of the analytic signal of trial
    ``n`` band-passed to ``[freq - bandwidth/2, freq + bandwidth/2]`` Hz
    (:func:`harmonix.spectral.filterbank.analytic_signal`: MNE's zero-phase
    FIR + Hilbert, edges reflected). The time resolution is about
    ``1 / bandwidth`` s; samples within one filter length of the trial edges
    are affected by the edge reflection.

    Parameters
    ----------
    epochs, sfreq, freq, tmin, tmax, picks
        As :func:`inter_trial_coherence`.
    bandwidth : float
        Full width of the pass band in Hz.

    Returns
    -------
    result : ITCResult
        ``itc``, ``phase``, ``p_value`` of shape (n_channels, n_times) and
        ``times`` (s, from the start of the window).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> t = np.arange(1000) / 250.0
    >>> trials = np.sin(2 * np.pi * 10 * t) + 0.5 * rng.normal(size=(20, 1000))
    >>> res = inter_trial_coherence_time(trials, 250.0, 10.0)
    >>> res.itc.shape, bool(np.median(res.itc) > 0.9)
    ((1, 1000), True)
    """
    data, sfreq, names = _epochs_array(epochs, sfreq, tmin, tmax, picks)
    freq = _check_freq(freq, sfreq, data.shape[-1])
    bandwidth = _check_positive(bandwidth, "bandwidth")
    n_trials, n_channels, n_times = data.shape
    if n_trials < 2:
        raise ParameterError(f"ITC needs at least 2 trials, got {n_trials}")
    band = Band(f"{freq:g}Hz", max(freq - bandwidth / 2.0, 0.0), freq + bandwidth / 2.0)
    z = analytic_signal(data.reshape(n_trials * n_channels, n_times), sfreq, band).reshape(data.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = z / np.abs(z)
    if not np.isfinite(unit).all():
        raise DataQualityError("the band-passed signal is exactly zero somewhere (flat trial?)")
    mean = unit.mean(axis=0)
    itc = np.abs(mean)
    return ITCResult(
        itc=itc,
        phase=np.angle(mean),
        p_value=rayleigh_pvalue(itc, n_trials),
        chance=itc_chance_level(n_trials),
        freq=freq,
        n_trials=n_trials,
        method="hilbert",
        ch_names=None if names is None else tuple(names),
        times=np.arange(n_times) / sfreq,
    )


def _check_freq(freq: Any, sfreq: float, n_times: int) -> float:
    freq = _check_positive(freq, "freq")
    if freq >= sfreq / 2.0:
        raise ParameterError(f"freq={freq:g} Hz is at or above the Nyquist frequency {sfreq / 2:g} Hz")
    if n_times / sfreq < 2.0 / freq:
        raise ParameterError(
            f"trials of {n_times / sfreq:.3f} s are too short for {freq:g} Hz (need at least 2 cycles, "
            f"{2.0 / freq:.3f} s); use longer trials"
        )
    return freq


# --------------------------------------------------------------------------- SNR


def steady_state_snr(
    spectrum: Spectrum | np.ndarray,
    freqs: np.ndarray | float | None = None,
    freq: float | None = None,
    *,
    n_neighbors: int = 10,
    skip: int = 1,
) -> np.ndarray:
    """Steady-state SNR: power at ``freq`` over the mean power of neighbouring bins.

    .. math::

        \\mathrm{SNR}(f_k) = \\frac{P(f_k)}{\\frac{1}{2M}\\sum_{j=s+1}^{s+M}
        \\left[P(f_{k-j}) + P(f_{k+j})\\right]}

    with :math:`k` the bin nearest ``freq``, :math:`M` = ``n_neighbors`` bins
    on each side and :math:`s` = ``skip`` bins next to :math:`k` left out
    (they hold the window's spectral leakage of the peak). Power ratio,
    unitless: about 1 without a response; ``1 + signal/noise`` with one (a
    sinusoid of amplitude ``A`` on a bin of a Hann-windowed Welch PSD with
    ``L``-sample segments over white noise of variance ``sigma^2`` gives
    ``1 + A^2 L / (6 sigma^2)``). Meigen & Bach (1999); Norcia et al. (2015).

    Parameters
    ----------
    spectrum : Spectrum | ndarray, shape (..., n_freqs)
        A harmonix or MNE spectrum (:func:`~harmonix.spectral.psd.as_spectrum`), or a PSD/power
        array whose last axis is frequency (e.g. (n_channels, n_freqs) or
        (n_epochs, n_channels, n_freqs)).
    freqs : ndarray | float
        Frequencies (Hz) of the array's last axis. With a Spectrum, pass the
        stimulation frequency here (``steady_state_snr(spec, 17.0)``) or as
        ``freq=``.
    freq : float
        Stimulation frequency in Hz; must lie on the grid (within half a bin).
    n_neighbors : int
        Neighbouring bins averaged on each side.
    skip : int
        Bins next to the target left out on each side (0 keeps them).

    Returns
    -------
    snr : ndarray, shape ``psd.shape[:-1]``
        One ratio per channel (and epoch).

    Raises
    ------
    ParameterError
        ``freq`` off the grid, or too few bins on one side for the neighbours.

    Examples
    --------
    >>> f = np.arange(0, 50.01, 0.5)
    >>> psd = np.ones((2, f.size)); psd[0, f == 10] = 5.0
    >>> steady_state_snr(psd, f, 10.0).tolist()
    [5.0, 1.0]
    """
    if not isinstance(spectrum, (np.ndarray, list, tuple)) and freq is None:
        freq, freqs = freqs, None  # a spectrum object carries its grid: the second argument is the frequency
    grid, psd = psd_arrays(spectrum, freqs, where="steady_state_snr")
    if freq is None:
        raise ParameterError("steady_state_snr needs the stimulation frequency freq (Hz)")
    freq = float(freq)
    if grid.ndim != 1 or psd.shape[-1] != grid.size or grid.size < 2:
        raise ParameterError(f"PSD last axis ({psd.shape}) must match freqs ({grid.shape}), with >= 2 bins")
    if np.any(psd < 0) or not np.isfinite(psd).all():
        raise DataQualityError("PSD values must be finite and non-negative")
    n_neighbors, skip = int(n_neighbors), int(skip)
    if n_neighbors < 1 or skip < 0:
        raise ParameterError(f"need n_neighbors >= 1 and skip >= 0, got {n_neighbors}, {skip}")
    df = float(np.median(np.diff(grid)))
    k = int(np.argmin(np.abs(grid - freq)))
    if abs(grid[k] - freq) > 0.5 * df + 1e-9:
        raise ParameterError(
            f"freq={freq:g} Hz lies outside the spectrum's range {grid[0]:g}-{grid[-1]:g} Hz"
        )
    lo, hi = k - skip - n_neighbors, k + skip + n_neighbors
    if lo < 0 or hi >= grid.size:
        raise ParameterError(
            f"SNR at {freq:g} Hz needs {n_neighbors} bins beyond {skip} skipped on each side "
            f"({grid[k] - (skip + n_neighbors) * df:g}-{grid[k] + (skip + n_neighbors) * df:g} Hz) but the "
            f"spectrum covers {grid[0]:g}-{grid[-1]:g} Hz; widen fmin/fmax or use fewer neighbours"
        )
    idx = np.r_[lo : k - skip, k + skip + 1 : hi + 1]
    noise = psd[..., idx].mean(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return psd[..., k] / noise


# --------------------------------------------------------------------------- stimulus locking


def stimulus_envelope(
    audio: Any,
    audio_sfreq: float | None,
    sfreq: float,
    *,
    n_times: int | None = None,
    lowpass: float | None = None,
) -> np.ndarray:
    """Amplitude envelope of an audio waveform, resampled to the EEG rate.

    ``e(t) = |x(t) + i H[x](t)|`` (Hilbert envelope of the channel mean), then
    polyphase resampling (:func:`scipy.signal.resample_poly`, whose
    anti-aliasing FIR low-passes below the EEG Nyquist) from ``audio_sfreq``
    to ``sfreq``; optionally low-passed further at ``lowpass`` Hz.

    Parameters
    ----------
    audio : ndarray, shape (n_samples,) or (n_channels, n_samples) | harmonix.io.Audio
        Waveform; channels are averaged.
    audio_sfreq : float | None
        Its sampling rate in Hz (``None`` with an :class:`~harmonix.io.Audio`).
    sfreq : float
        EEG sampling rate in Hz.
    n_times : int | None
        Trim or zero-pad the result to this many samples (the EEG length).
    lowpass : float | None
        Extra zero-phase Butterworth low-pass (Hz) of the envelope.

    Returns
    -------
    envelope : ndarray, shape (n_times,)
        In the audio's units (e.g. full scale).

    Examples
    --------
    >>> t = np.arange(44100) / 44100.0
    >>> x = (1 + 0.5 * np.sin(2 * np.pi * 4 * t)) * np.sin(2 * np.pi * 440 * t)
    >>> env = stimulus_envelope(x, 44100.0, 250.0)
    >>> env.shape, bool(abs(env[100:150].max() - 1.5) < 0.05)
    ((250,), True)
    """
    if hasattr(audio, "samples") and hasattr(audio, "sfreq"):
        audio_sfreq = float(audio.sfreq) if audio_sfreq is None else audio_sfreq
        audio = audio.samples
    audio_sfreq = _check_positive(audio_sfreq, "audio_sfreq")
    sfreq = _check_positive(sfreq, "sfreq")
    x = np.asarray(audio, dtype=float)
    if x.ndim == 2:
        x = x.mean(axis=0)
    if x.ndim != 1 or x.size < 2:
        raise ParameterError(f"audio must be (n_samples,) or (n_channels, n_samples), got shape {np.shape(audio)}")
    if not np.isfinite(x).all():
        raise DataQualityError("audio contains NaN or Inf samples")
    n_fft = scipy.fft.next_fast_len(x.size)
    env = np.abs(scipy.signal.hilbert(x, N=n_fft)[: x.size])
    ratio = Fraction(sfreq / audio_sfreq).limit_denominator(1000)
    env = scipy.signal.resample_poly(env, ratio.numerator, ratio.denominator)
    if lowpass is not None:
        lowpass = _check_positive(lowpass, "lowpass")
        if lowpass >= sfreq / 2:
            raise ParameterError(f"lowpass={lowpass:g} Hz must be below the EEG Nyquist {sfreq / 2:g} Hz")
        sos = scipy.signal.butter(4, lowpass, fs=sfreq, output="sos")
        env = scipy.signal.sosfiltfilt(sos, env)
    if n_times is not None:
        out = np.zeros(int(n_times))
        m = min(out.size, env.size)
        out[:m] = env[:m]
        env = out
    return env


@dataclass(frozen=True)
class StimulusLockingResult:
    """Stimulus-brain phase locking in one band.

    Attributes
    ----------
    plv : ndarray, shape (n_channels,)
        Phase-locking value between stimulus and each channel, in [0, 1].
    phase : ndarray, shape (n_channels,)
        Mean phase difference EEG minus stimulus (rad).
    chance : ndarray, shape (n_channels,)
        95th percentile of the circular-shift surrogate PLVs.
    surrogate_mean : ndarray, shape (n_channels,)
        Mean surrogate PLV (the estimator's bias without locking).
    p_value : ndarray, shape (n_channels,)
        ``(1 + #{surrogate >= plv}) / (1 + n_surrogates)``.
    band : Band
        Band analysed.
    n_surrogates : int
        Number of circular shifts.
    """

    plv: np.ndarray
    phase: np.ndarray
    chance: np.ndarray
    surrogate_mean: np.ndarray
    p_value: np.ndarray
    band: Band
    n_surrogates: int


def stimulus_locking(
    eeg: np.ndarray,
    stimulus: np.ndarray,
    sfreq: float,
    *,
    band: tuple[float, float] | Band | None = None,
    freq: float | None = None,
    bandwidth: float = 2.0,
    n_surrogates: int = 200,
    min_shift: float = 1.0,
    seed: int | np.random.Generator | None = None,
) -> StimulusLockingResult:
    """Phase-locking value between a stimulus (or its envelope) and each EEG channel.

    .. math::

        \\mathrm{PLV}_c = \\left|\\frac{1}{T}\\sum_t
        e^{i(\\phi_c(t) - \\phi_s(t))}\\right|

    with :math:`\\phi_c`, :math:`\\phi_s` the phases of the analytic signals
    of channel ``c`` and of the stimulus in the same band (same zero-phase
    filter, :func:`harmonix.spectral.filterbank.analytic_signal`). Unitless,
    in [0, 1]. A delay ``tau`` between stimulus and EEG shifts the phase by
    ``2 pi f tau``, which is nearly constant (and leaves the PLV high; it
    shows in ``phase``) only in a band much narrower than ``1 / tau``: use
    narrow bands for delayed responses. Lachaux et al. (1999).

    Chance level: the stimulus phase is circularly shifted by ``n_surrogates``
    random lags of at least ``min_shift`` s (and at most the length minus
    ``min_shift``), which keeps both signals' spectra and autocorrelation but
    breaks their alignment; all surrogate PLVs come from one FFT
    cross-correlation. Valid for a stimulus that is not strictly periodic
    (music, speech, noise-modulated sounds); for a strictly periodic
    stimulus every shift re-aligns it, so use :func:`inter_trial_coherence`.

    Parameters
    ----------
    eeg : ndarray, shape (n_channels, n_times) or (n_times,)
        EEG at ``sfreq``.
    stimulus : ndarray, shape (n_times,)
        Stimulus waveform or envelope at ``sfreq`` (see
        :func:`stimulus_envelope`), aligned with ``eeg``.
    sfreq : float
        Sampling rate in Hz.
    band : (fmin, fmax) | Band | None
        Band in Hz. Alternatively ``freq`` and ``bandwidth``.
    freq, bandwidth : float
        Band ``[freq - bandwidth/2, freq + bandwidth/2]``.
    n_surrogates : int
        Number of circular shifts (0 skips the surrogates; chance and p are NaN).
    min_shift : float
        Smallest shift in s.
    seed : int | Generator | None
        Randomness of the shifts.

    Returns
    -------
    result : StimulusLockingResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> sfreq = 100.0
    >>> stim = np.convolve(rng.normal(size=6000), np.ones(20) / 20, mode="same")
    >>> eeg = np.vstack([np.roll(stim, 5) + 0.02 * rng.normal(size=6000), rng.normal(size=6000)])
    >>> res = stimulus_locking(eeg, stim, sfreq, band=(2.0, 4.0), seed=0)
    >>> bool(res.plv[0] > 0.9), bool(res.plv[1] < res.chance[1] * 1.5)
    (True, True)
    """
    sfreq = _check_positive(sfreq, "sfreq")
    x = np.asarray(eeg, dtype=float)
    if x.ndim == 1:
        x = x[np.newaxis]
    s = np.asarray(stimulus, dtype=float)
    if x.ndim != 2 or s.ndim != 1:
        raise ParameterError(f"need eeg (n_channels, n_times) and stimulus (n_times,), got {x.shape} and {s.shape}")
    if s.size != x.shape[1]:
        raise ParameterError(
            f"stimulus has {s.size} samples but the EEG has {x.shape[1]}; resample/trim it to the EEG "
            f"(stimulus_envelope(..., n_times=...))"
        )
    if not (np.isfinite(x).all() and np.isfinite(s).all()):
        raise DataQualityError("EEG or stimulus contains NaN or Inf values")
    if band is None:
        if freq is None:
            raise ParameterError("stimulus_locking needs band=(fmin, fmax) or freq=... (Hz)")
        freq = _check_positive(freq, "freq")
        bandwidth = _check_positive(bandwidth, "bandwidth")
        band = Band(f"{freq:g}Hz", max(freq - bandwidth / 2.0, 0.0), freq + bandwidth / 2.0)
    elif not isinstance(band, Band):
        try:
            lo, hi = band
        except (TypeError, ValueError) as err:
            raise ParameterError(f"band must be (fmin, fmax) in Hz, got {band!r}") from err
        band = Band(f"{float(lo):g}-{float(hi):g}Hz", lo, hi)
    n = x.shape[1]
    zs = analytic_signal(s[np.newaxis], sfreq, band)[0]
    zx = analytic_signal(x, sfreq, band)
    with np.errstate(invalid="ignore", divide="ignore"):
        us, ux = zs / np.abs(zs), zx / np.abs(zx)
    if not np.isfinite(us).all():
        raise DataQualityError(f"the stimulus has no power in band {band.fmin:g}-{band.fmax:g} Hz somewhere")
    if not np.isfinite(ux).all():
        raise DataQualityError(f"an EEG channel has no power in band {band.fmin:g}-{band.fmax:g} Hz (flat?)")
    mean = (ux * np.conj(us)).mean(axis=-1)
    plv = np.abs(mean)
    n_sur = int(n_surrogates)
    nan = np.full(plv.shape, np.nan)
    if n_sur <= 0:
        return StimulusLockingResult(plv, np.angle(mean), nan, nan, nan, band, 0)
    lo_shift = int(np.ceil(min_shift * sfreq))
    if n - 2 * lo_shift < 1:
        raise ParameterError(
            f"recording of {n / sfreq:.1f} s is too short for circular shifts of at least {min_shift:g} s; "
            f"lower min_shift or use more data"
        )
    rng = np.random.default_rng(seed)
    shifts = rng.integers(lo_shift, n - lo_shift + 1, size=n_sur)
    # Circular cross-correlation c[k] = (1/n) sum_t ux[t] conj(us[t - k]) for every lag k at once.
    cc = scipy.fft.ifft(scipy.fft.fft(ux, axis=-1) * np.conj(scipy.fft.fft(us)), axis=-1) / n
    sur = np.abs(cc[:, shifts])
    return StimulusLockingResult(
        plv=plv,
        phase=np.angle(mean),
        chance=np.percentile(sur, 95, axis=-1),
        surrogate_mean=sur.mean(axis=-1),
        p_value=(1.0 + (sur >= plv[:, None]).sum(axis=-1)) / (1.0 + n_sur),
        band=band,
        n_surrogates=n_sur,
    )
