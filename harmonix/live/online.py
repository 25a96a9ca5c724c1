"""Online estimators: the offline estimators applied to the window that ends at the newest sample.

Nothing here is a second implementation. Each value a live session reports
at a hop is the library's offline function applied to the ring buffer's
window ending at that hop's newest sample:

* band power: :func:`~harmonix.spectral.bandpower.band_power` of
  :func:`~harmonix.spectral.psd.compute_psd` (Welch, ``welch_seconds``
  segments, 50 % overlap) over the last ``window_seconds``; the trace keeps
  the mean over channels of the absolute (V²) and relative power per band;
* energy parameter: :func:`~harmonix.proxies.energy.harmonic_energy_trace`
  of the harmonic coefficients of the last ``energy_seconds`` (one window),
  the coefficients coming from the same sensor decomposition as offline
  (:func:`~harmonix.harmonics.decompose.sensor_decomposition`, its
  GCV-regularised inverse computed once, from the first full window);
* harmonic power: the mean of ``|a_k|²`` over that window for the lowest
  harmonics;
* CDNS per band: :func:`~harmonix.estimators.consonance.cdns_of_aperiodic_fit`
  of the specparam fit (:func:`~harmonix.spectral.aperiodic.fit_aperiodic`)
  of the channel-mean spectrum, refreshed every ``cdns_seconds`` (a fit
  costs tens of milliseconds, more than a hop allows on every channel);
* phase, amplitude and instantaneous frequency of one band at the newest
  sample: :func:`~harmonix.spectral.echt.endpoint_phase` of the mean of the
  chosen channels over the last ``phase_seconds``.

A test reads a session's FIF and recomputes the band powers and energies
with these offline functions; they agree to rounding.
"""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from harmonix.errors import ParameterError
from harmonix.estimators.consonance import cdns_of_aperiodic_fit
from harmonix.harmonics.decompose import SensorDecomposition, match_channels, sensor_decomposition
from harmonix.proxies.energy import harmonic_energy_trace
from harmonix.spectral.aperiodic import fit_aperiodic
from harmonix.spectral.bandpower import band_power
from harmonix.spectral.bands import Band, check_bands_resolvable
from harmonix.spectral.echt import EndpointPhase, endpoint_phase
from harmonix.spectral.psd import compute_psd

DEFAULT_PHASE_CHANNELS = ("O1", "Oz", "O2", "PO3", "POz", "PO4", "PO7", "PO8", "Pz")
"""Channels whose mean carries the phase when none are chosen: posterior sites, where alpha is largest."""

N_TRACE_HARMONICS = 10
"""Harmonics whose power the state trace keeps."""


@dataclass(frozen=True)
class OnlineSettings:
    """What the online estimators compute, and over which windows.

    Attributes
    ----------
    sfreq : float
        Sampling rate of the stream in Hz.
    ch_names : tuple of str
        The stream's EEG channels, in the order of the buffer's rows.
    bands : tuple of Band
        Bands of the band power and CDNS.
    hop_seconds : float
        Time between updates.
    window_seconds : float
        Window of the band power, CDNS and (at start) the inverse's regularisation.
    welch_seconds : float
        Welch segment length within the window.
    energy_seconds : float
        Window of the energy parameter and harmonic power (the offline trace's window).
    phase_band : Band | None
        Band whose phase is tracked; ``None`` tracks none.
    phase_channels : tuple of str
        Channels averaged before the phase is estimated.
    phase_seconds : float
        Window of the endpoint-corrected Hilbert transform.
    cdns_seconds : float | None
        Time between CDNS refreshes; ``None`` turns CDNS off.
    """

    sfreq: float
    ch_names: tuple[str, ...]
    bands: tuple[Band, ...]
    hop_seconds: float = 0.1
    window_seconds: float = 4.0
    welch_seconds: float = 2.0
    energy_seconds: float = 1.0
    phase_band: Band | None = None
    phase_channels: tuple[str, ...] = ()
    phase_seconds: float = 1.0
    cdns_seconds: float | None = 1.0

    def __post_init__(self) -> None:
        for name in ("hop_seconds", "window_seconds", "welch_seconds", "energy_seconds", "phase_seconds"):
            if not getattr(self, name) > 0:
                raise ParameterError(f"{name} must be positive, got {getattr(self, name)}")
        if self.welch_seconds > self.window_seconds or self.energy_seconds > self.window_seconds \
                or self.phase_seconds > self.window_seconds:
            raise ParameterError(f"the Welch, energy and phase windows must fit in the {self.window_seconds:g}-s window")
        check_bands_resolvable(self.bands, self.sfreq, self.window_seconds, source="the stream window")
        if self.phase_band is not None:
            if self.phase_band.fmax >= self.sfreq / 2:
                raise ParameterError(
                    f"the stream's sampling rate {self.sfreq:g} Hz is too low for the {self.phase_band.name} band "
                    f"({self.phase_band.fmin:g}-{self.phase_band.fmax:g} Hz): its Nyquist frequency is "
                    f"{self.sfreq / 2:g} Hz")
            missing = [c for c in self.phase_channels if c not in self.ch_names]
            if missing or not self.phase_channels:
                raise ParameterError(f"phase channels {', '.join(missing) or '(none)'} not in the stream "
                                     f"(it has {', '.join(self.ch_names[:8])}...)")

    def samples(self, seconds: float) -> int:
        """``seconds`` in samples (rounded)."""
        return int(round(seconds * self.sfreq))

    def params(self) -> dict:
        """JSON-ready description for ``params.json``."""
        out = dataclasses.asdict(self)
        out["bands"] = [[b.name, b.fmin, b.fmax] for b in self.bands]
        out["phase_band"] = None if self.phase_band is None else [self.phase_band.name, self.phase_band.fmin,
                                                                  self.phase_band.fmax]
        out["ch_names"] = list(self.ch_names)
        return out


def default_phase_channels(ch_names: Sequence[str]) -> tuple[str, ...]:
    """The posterior channels present (:data:`DEFAULT_PHASE_CHANNELS`), else every channel."""
    present = tuple(c for c in DEFAULT_PHASE_CHANNELS if c in ch_names)
    return present or tuple(ch_names)


def window_band_power(window: np.ndarray, settings: OnlineSettings) -> tuple[np.ndarray, np.ndarray]:
    """Channel-mean absolute (V²) and relative band power of ``window`` (n_channels, n_times)."""
    absolute, relative, _ = _band_power_and_spectrum(window, settings)
    return absolute, relative


def _band_power_and_spectrum(window: np.ndarray, settings: OnlineSettings):
    spectrum = compute_psd(window, settings.sfreq, window_seconds=settings.welch_seconds)
    power = band_power(spectrum, settings.bands)
    return power.absolute.mean(axis=0), np.nanmean(power.relative, axis=0), spectrum


def window_energy(window: np.ndarray, decomposition: SensorDecomposition,
                  settings: OnlineSettings) -> tuple[float, np.ndarray]:
    """Energy parameter and per-harmonic power ``mean |a_k|²`` of the last ``energy_seconds`` of ``window``."""
    n = settings.samples(settings.energy_seconds)
    rows = window[np.asarray(decomposition.match.recording_indices), -n:]
    coefficients = decomposition.inverse.apply(rows)
    _, energy = harmonic_energy_trace(coefficients, decomposition.eigenvalues, settings.sfreq,
                                      window_seconds=settings.energy_seconds)
    return float(energy[-1]), np.mean(coefficients**2, axis=1)


def window_cdns(window: np.ndarray, settings: OnlineSettings) -> dict[str, float]:
    """Valence (C - D), consonance, dissonance and noise of the channel-mean spectrum, per band."""
    return spectrum_cdns(_mean_spectrum(compute_psd(window, settings.sfreq, window_seconds=settings.welch_seconds)),
                         settings)


def _mean_spectrum(spectrum):
    return dataclasses.replace(spectrum, psd=spectrum.psd.mean(axis=0, keepdims=True), ch_names=("mean",), info=None)


def spectrum_cdns(mean, settings: OnlineSettings) -> dict[str, float]:
    """:func:`window_cdns` from the channel-mean spectrum (what a background process is sent)."""
    fmax = min(45.0, settings.sfreq / 2 - 1.0)
    fit = fit_aperiodic(mean, freq_range=(1.0, fmax))
    out: dict[str, float] = {}
    for band in settings.bands:
        if band.fmax > fmax:
            continue
        signature = cdns_of_aperiodic_fit(fit, band)
        for name in ("valence", "consonance", "dissonance", "noise"):
            out[f"cdns_{name}_{band.name}"] = float(getattr(signature, name)[0])
    return out


def window_phase(window: np.ndarray, settings: OnlineSettings, rows: np.ndarray) -> EndpointPhase:
    """ECHT phase of the mean of ``rows`` over the last ``phase_seconds`` of ``window``."""
    signal = phase_channel_mean(window[:, -settings.samples(settings.phase_seconds):], rows)
    return endpoint_phase(signal, settings.sfreq, settings.phase_band)


def phase_channel_mean(window: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The signal whose phase is tracked: the mean of the phase channels, shape (1, n_times)."""
    return window[rows].mean(axis=0, keepdims=True)


def build_decomposition(window: np.ndarray, settings: OnlineSettings, harmonic_model, *,
                        source: str) -> SensorDecomposition:
    """The sensor decomposition of the stream's channels, regularised on its first full window."""
    connectome, basis = harmonic_model.connectome, harmonic_model.basis
    return sensor_decomposition(connectome.leadfield, connectome.sensor_names, basis.eigenvectors, basis.eigenvalues,
                                settings.ch_names, window, source=source)


def check_harmonic_channels(settings: OnlineSettings, harmonic_model, *, source: str) -> None:
    """Fail early when too few stream channels are in the model's leadfield."""
    match_channels(settings.ch_names, harmonic_model.connectome.sensor_names, source=source)


@dataclass
class OnlineEstimators:
    """The estimators of one live session, updated hop by hop.

    Call :meth:`phase` first (the controller's decision needs only it), then
    :meth:`update` for everything else. The decomposition is built at the
    first full window and kept. With ``background=True`` the CDNS fit (tens
    of milliseconds) runs in a separate process so that it never holds up a
    decision; its values then carry ``cdns_time``, the session time of the
    window they were computed on, and arrive a little later.
    """

    settings: OnlineSettings
    harmonic_model: object | None = None
    source: str = "<stream>"
    decomposition: SensorDecomposition | None = None
    decomposition_time: float | None = None
    background: bool = False
    _phase_rows: np.ndarray = field(default=None, repr=False)
    _last_cdns: float = field(default=-np.inf, repr=False)
    _cdns: dict = field(default_factory=dict, repr=False)
    _pool: object = field(default=None, repr=False)
    cdns_errors: list = field(default_factory=list, repr=False)
    _pending: tuple | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.settings.phase_band is not None:
            self._phase_rows = np.array([self.settings.ch_names.index(c) for c in self.settings.phase_channels])

    @property
    def window_samples(self) -> int:
        """Samples the ring buffer must hold before the first update."""
        return self.settings.samples(self.settings.window_seconds)

    def value_names(self) -> list[str]:
        """Names of the values :meth:`update` returns (some arrive later: CDNS, energy after the first window)."""
        names = [f"{kind}_{b.name}" for b in self.settings.bands for kind in ("power", "relative")]
        if self.harmonic_model is not None:
            names += ["energy", *(f"harmonic_power_h{k:03d}" for k in range(N_TRACE_HARMONICS))]
        if self.settings.cdns_seconds is not None:
            fmax = min(45.0, self.settings.sfreq / 2 - 1.0)
            names += [f"cdns_{name}_{b.name}" for b in self.settings.bands if b.fmax <= fmax
                      for name in ("valence", "consonance", "dissonance", "noise")]
            names.append("cdns_time")
        return names

    def phase(self, window: np.ndarray) -> EndpointPhase | None:
        """Phase of the tracked band at the window's newest sample (``None`` when none is tracked)."""
        if self.settings.phase_band is None:
            return None
        return window_phase(window, self.settings, self._phase_rows)

    def phase_signal(self, window: np.ndarray) -> np.ndarray:
        """The mean of the phase channels over the whole window (for measuring a sound's true phase)."""
        return phase_channel_mean(window, self._phase_rows)

    def update(self, window: np.ndarray, time: float) -> dict[str, float]:
        """Every other estimator on ``window`` (n_channels, window_samples); ``time`` in s for the CDNS cadence."""
        settings = self.settings
        absolute, relative, spectrum = _band_power_and_spectrum(window, settings)
        values: dict[str, float] = {}
        for b, band in enumerate(settings.bands):
            values[f"power_{band.name}"] = float(absolute[b])
            values[f"relative_{band.name}"] = float(relative[b])
        if self.harmonic_model is not None:
            if self.decomposition is None:
                self.decomposition = build_decomposition(window, settings, self.harmonic_model, source=self.source)
                self.decomposition_time = time
            energy, harmonic_power = window_energy(window, self.decomposition, settings)
            values["energy"] = energy
            for k, p in enumerate(harmonic_power[:N_TRACE_HARMONICS]):
                values[f"harmonic_power_h{k:03d}"] = float(p)
        if settings.cdns_seconds is not None:
            self._update_cdns(spectrum, time)
        values.update(self._cdns)
        return values

    def _update_cdns(self, spectrum, time: float) -> None:
        if self._pending is not None and self._pending[1].done():
            at, future = self._pending
            self._pending = None
            try:
                self._cdns = {**future.result(), "cdns_time": at}
            except Exception as err:  # a fit that failed, or a lost worker: no CDNS for that window, the session goes on
                self._cdns = {"cdns_time": at}
                self.cdns_errors.append(f"{at:.2f} s: {' '.join(str(err).split()) or type(err).__name__}")
        if time - self._last_cdns < self.settings.cdns_seconds - 1e-9 or self._pending is not None:
            return
        self._last_cdns = time
        mean = _mean_spectrum(spectrum)
        if not self.background:
            self._cdns = {**spectrum_cdns(mean, self.settings), "cdns_time": time}
            return
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn, not fork: the parent holds liblsl's and the audio's threads
            # ...and deaf to Ctrl-C, which is the session's to handle
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN))
        self._pending = (time, self._pool.submit(spectrum_cdns, mean, self.settings))

    def close(self) -> None:
        """Stop the background process, if any."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
