"""Compose the library into the per-recording analyses the CLI runs.

Each function takes an already loaded recording (``mne.io.Raw``/``Epochs`` or
:class:`~harmonix.io.audio.Audio`), runs the spectral estimators in pipeline
order and returns an :class:`Analysis`: a tidy metrics table, the parameters
that produced it, and the arrays worth keeping. Nothing here reads or writes
files; :mod:`harmonix.cli` does that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import mne
import numpy as np
import pandas as pd

from harmonix.errors import ChannelError, ParameterError
from harmonix.harmonics.connectome import homotopic_pairs
from harmonix.harmonics.decompose import DEFAULT_SENSOR_MODES, band_harmonic_spectra, sensor_decomposition
from harmonix.harmonics.model import HarmonicModel
from harmonix.estimators.complexity import band_lempel_ziv, spectral_entropy
from harmonix.estimators.consonance import cdns_of_aperiodic_fit
from harmonix.estimators.locking import plv_matrix, plv_over_trials
from harmonix.proxies.energy import PROXY_NOTE as ENERGY_NOTE
from harmonix.proxies.energy import detect_episodes, harmonic_energy_trace
from harmonix.proxies.trauma import PROXY_NOTE as TRAUMA_NOTE
from harmonix.proxies.trauma import trauma_proxy
from harmonix.proxies.valence import PROXY_NOTE as VALENCE_NOTE
from harmonix.proxies.valence import valence_proxy
from harmonix.simulate.wave import stimulus_resonance
from harmonix.io.audio import Audio
from harmonix.spectral.aperiodic import fit_aperiodic, peak_in_band
from harmonix.spectral.audio import modulation_band_energy, modulation_spectrum, spectral_partials, tempo_and_beats
from harmonix.spectral.bandpower import band_power, peak_frequency, windowed_band_power
from harmonix.spectral.bands import MIN_CYCLES, Band, check_bands_resolvable, load_bands
from harmonix.spectral.filterbank import analytic_signal, band_amplitude_stats, design_band_filter
from harmonix.spectral.psd import compute_psd
from harmonix.tables import MetricRows

APERIODIC_RANGE = (1.0, 45.0)
"""Default frequency range (Hz) of the specparam fit; matches the default bands."""

MIN_PROXY_SECONDS = 20.0
"""Shortest continuous recording for which the research proxies are computed."""

COMPARE_WINDOW_SECONDS = 4.0
"""Shortest window (s) whose band power is kept for within-recording comparisons."""

APERIODIC_SETTINGS = {"max_n_peaks": 6, "peak_width_limits": (1.0, 8.0), "min_peak_height": 0.1, "aperiodic_mode": "fixed"}
"""specparam settings used by :func:`analyze_eeg` (recorded in ``params.json``)."""


@dataclass(frozen=True)
class Analysis:
    """Result of analysing one recording.

    Attributes
    ----------
    metrics : pandas.DataFrame
        Tidy rows with columns ``session, metric, band, component, value, unit``.
    params : dict
        Parameters, skipped bands, channel bookkeeping; written to ``params.json``.
    arrays : dict of ndarray
        Spectra and other arrays, written to ``arrays.npz``.
    """

    metrics: pd.DataFrame
    params: dict
    arrays: dict = field(default_factory=dict)


def resolvable_bands(
    bands: Sequence[Band], sfreq: float, duration: float, *, source: str, strict: bool
) -> tuple[tuple[Band, ...], dict[str, str]]:
    """Split ``bands`` into those this recording can measure and the rest.

    With ``strict=True`` (bands the user asked for) an unmeasurable band raises
    :class:`~harmonix.errors.ParameterError`; otherwise (default bands) it is
    skipped and the reason returned, so that a short or slowly sampled
    recording is still analysed in the bands it supports.
    """
    kept: list[Band] = []
    skipped: dict[str, str] = {}
    for band in bands:
        try:
            check_bands_resolvable([band], sfreq, duration, source=source)
        except ParameterError as err:
            if strict:
                raise
            skipped[band.name] = str(err)
        else:
            kept.append(band)
    if not kept:
        raise ParameterError(f"{source}: none of the bands can be measured: " + "; ".join(skipped.values()))
    return tuple(kept), skipped


def _eeg_data(inst: mne.io.BaseRaw | mne.BaseEpochs, source: str) -> tuple[np.ndarray, list[str], float]:
    """Good EEG channels; for Raw, spans annotated ``BAD_*``/``EDGE`` are left out.

    Returns the data, channel names and the number of seconds left out.
    """
    picks = mne.pick_types(inst.info, eeg=True, exclude="bads")
    if len(picks) == 0:
        raise ChannelError(f"{source}: no EEG channels left to analyse (all missing or marked bad)")
    names = [inst.ch_names[i] for i in picks]
    if isinstance(inst, mne.BaseEpochs):
        return inst.get_data(picks=picks), names, 0.0
    data = inst.get_data(picks=picks, reject_by_annotation="omit")
    return data, names, (inst.n_times - data.shape[-1]) / inst.info["sfreq"]


def analyze_eeg(
    inst: mne.io.BaseRaw | mne.BaseEpochs,
    *,
    session: str,
    bands: Sequence[Band] | None = None,
    strict_bands: bool = False,
    psd_method: str = "welch",
    aperiodic_range: tuple[float, float] = APERIODIC_RANGE,
    harmonic_model: HarmonicModel | None = None,
    harmonics_required: bool = False,
    n_harmonics: int = DEFAULT_SENSOR_MODES,
    source: str | None = None,
) -> Analysis:
    """Band powers, peak frequencies, aperiodic fit and envelope statistics.

    Parameters
    ----------
    inst : mne.io.Raw | mne.Epochs
        EEG in V; channels marked bad are left out. Not modified.
    session : str
        Label written in the ``session`` column.
    bands : sequence of Band | None
        Bands to measure (default table when ``None``).
    strict_bands : bool
        Raise instead of skipping bands the recording cannot resolve
        (too short, or sampled too slowly). Set when the user chose the bands.
    psd_method : {'welch', 'multitaper'}
        PSD estimator (see :func:`harmonix.spectral.psd.compute_psd`).
    aperiodic_range : (float, float)
        Frequency range in Hz of the specparam fit; clipped to the bands the
        recording can resolve.
    harmonic_model : HarmonicModel | None
        Connectome and harmonic basis to decompose the sensors onto (with its
        leadfield); ``None`` skips the harmonic metrics.
    harmonics_required : bool
        Raise :class:`~harmonix.errors.ChannelError` when the channels do not
        match the leadfield well enough; otherwise the harmonic metrics are
        skipped and the reason recorded.
    n_harmonics : int
        Lowest harmonics estimated from the sensors.
    source : str | None
        Name of the input for messages (defaults to ``session``).

    Returns
    -------
    analysis : Analysis
        Metrics (one row per metric x band x channel):

        ``band_power`` (V^2), ``band_power_relative`` (1), ``peak_frequency``
        (Hz, PSD maximum inside the band, empty when the maximum sits on an
        edge), ``periodic_peak_frequency`` (Hz, strongest specparam peak above
        the 1/f fit inside the band), ``envelope_mean_amplitude`` (V) and
        ``envelope_cv`` (1) of the filter-bank analytic signal, and per channel
        ``aperiodic_exponent`` (1), ``aperiodic_offset`` (log10 V^2/Hz),
        ``aperiodic_r_squared`` (1) in band ``aperiodic``. With a harmonic
        model, per band (Atasoy et al. 2017, Sci Rep 7:17661; see
        :mod:`harmonix.harmonics.decompose`): ``harmonic_power`` and
        ``harmonic_energy`` per harmonic (component ``h000``...; a.u.), and
        ``harmonic_total_energy``, ``harmonic_entropy`` (bits),
        ``harmonic_low_energy_fraction`` and ``harmonic_low_power_fraction``.
        For continuous recordings of at least ``MIN_PROXY_SECONDS``, also the
        research proxies (valence, trauma and its components, energy
        parameter and episodes) and ``region_plv_homotopic`` (1): the PLV
        between each left region and its right homologue (component: the
        region name without hemisphere), from the regional time series the
        trauma proxy's decoupling component uses.
    """
    source = source or session
    bands = load_bands(bands)
    data, ch_names, rejected_seconds = _eeg_data(inst, source)
    if data.ndim == 3 and data.shape[0] == 1:
        data = data[0]  # a single epoch is one continuous segment (nothing to average across trials)
    sfreq = float(inst.info["sfreq"])
    duration = data.shape[-1] / sfreq
    bands, skipped = resolvable_bands(bands, sfreq, duration, source=source, strict=strict_bands)
    fmin = min(b.fmin for b in bands)
    window = min(max(2.0, 2.0 / max(fmin, 1e-3)), duration)

    spectrum = compute_psd(
        data, sfreq, method=psd_method, fmin=fmin, fmax=min(sfreq / 2, max(b.fmax for b in bands) + 5),
        window_seconds=window, ch_names=ch_names, source=source,
    )
    power = band_power(spectrum, bands)
    names = [b.name for b in bands]
    rows = MetricRows(session)
    rows.add_matrix("band_power", "V^2", power.absolute, components=ch_names, bands=names)
    rows.add_matrix("band_power_relative", "1", power.relative, components=ch_names, bands=names)
    peaks = np.column_stack([peak_frequency(spectrum, band) for band in bands])
    rows.add_matrix("peak_frequency", "Hz", peaks, components=ch_names, bands=names)

    fit_range = (max(aperiodic_range[0], fmin, 2 * spectrum.resolution), min(aperiodic_range[1], max(b.fmax for b in bands)))
    fit = fit_aperiodic(spectrum, freq_range=fit_range, **APERIODIC_SETTINGS)
    periodic = np.column_stack([peak_in_band(fit, band) for band in bands])
    rows.add_matrix("periodic_peak_frequency", "Hz", periodic, components=ch_names, bands=names)
    for metric, unit, values in (
        ("aperiodic_exponent", "1", fit.exponent),
        ("aperiodic_offset", "log10(V^2/Hz)", fit.offset),
        ("aperiodic_r_squared", "1", fit.r_squared),
    ):
        rows.add_matrix(metric, unit, np.asarray(values)[:, np.newaxis], components=ch_names, bands=["aperiodic"])

    epochs = data if data.ndim == 3 else data[np.newaxis]
    fir_samples = {b.name: len(design_band_filter(b, sfreq)) for b in bands}
    # A FIR longer than the data would measure mostly its own edge padding.
    envelope_skipped = {
        name: f"FIR band-pass of {taps / sfreq:.2f} s is longer than the {epochs.shape[-1] / sfreq:.2f} s of data"
        for name, taps in fir_samples.items() if taps > epochs.shape[-1]
    }
    envelope_bands = [b for b in bands if b.name not in envelope_skipped]
    if envelope_bands:
        envelope = [band_amplitude_stats(epoch, sfreq, envelope_bands) for epoch in epochs]
        envelope_names = [b.name for b in envelope_bands]
        rows.add_matrix(
            "envelope_mean_amplitude", "V", np.mean([e["mean_amplitude"] for e in envelope], axis=0),
            components=ch_names, bands=envelope_names,
        )
        rows.add_matrix(
            "envelope_cv", "1", np.mean([e["amplitude_cv"] for e in envelope], axis=0),
            components=ch_names, bands=envelope_names,
        )

    arrays = {"psd_freqs": spectrum.freqs, "psd": spectrum.psd, "ch_names": np.array(ch_names)}
    # Per-window band power lets one recording pair be compared over windows (harmonix compare);
    # epochs are the windows of epoched data.
    compare_window = max(COMPARE_WINDOW_SECONDS, 2 * window) if data.ndim == 2 else data.shape[-1] / sfreq
    n_windows = int(duration // compare_window) if data.ndim == 2 else data.shape[0]
    if n_windows >= 4:
        continuous = data if data.ndim == 2 else np.concatenate(list(data), axis=-1)
        arrays["window_starts"], arrays["window_band_power"] = windowed_band_power(
            continuous, sfreq, bands, window_seconds=compare_window, segment_seconds=window)
    estimator_params = _add_channel_estimators(rows, arrays, data, ch_names, sfreq, bands, envelope_bands, spectrum, fit)
    harmonics_params = _add_harmonic_metrics(
        rows, arrays, data, ch_names, sfreq, envelope_bands, harmonic_model,
        required=harmonics_required, n_harmonics=n_harmonics, source=source,
    )

    params = {
        "kind": "eeg",
        "bands": [{"name": b.name, "fmin": b.fmin, "fmax": b.fmax} for b in bands],
        "skipped_bands": skipped,
        "min_cycles_per_band": MIN_CYCLES,
        "sfreq": sfreq,
        "duration_s": duration,
        "rejected_by_annotation_s": rejected_seconds,
        "n_epochs": int(epochs.shape[0]) if data.ndim == 3 else None,
        "channels_analysed": ch_names,
        "channels_bad": list(inst.info["bads"]),
        "psd": {"method": spectrum.method, **spectrum.params},
        "peak_frequency": {"method": "max", "interpolation": "parabolic on log10 power"},
        "aperiodic": {
            "freq_range": fit_range, **APERIODIC_SETTINGS,
            "reference": "Donoghue et al. 2020, Nat Neurosci 23:1655 (specparam)",
        },
        "filter_bank": {
            "design": "mne.filter.create_filter defaults (zero-phase FIR, Hamming window)",
            "hilbert": "frequency domain, chunked (harmonix.spectral.filterbank)",
            "fir_lengths_s": {name: taps / sfreq for name, taps in fir_samples.items()},
            "envelope_skipped_bands": envelope_skipped,
        },
        "estimators": estimator_params,
        "harmonics": harmonics_params,
    }
    return Analysis(rows.to_frame(), params, arrays)


def _add_channel_estimators(
    rows: MetricRows, arrays: dict, data: np.ndarray, ch_names: Sequence[str], sfreq: float,
    bands: Sequence[Band], filter_bands: Sequence[Band], spectrum, fit,
) -> dict:
    """Complexity, CDNS per channel and band, and channel phase locking (see README for the metrics)."""
    names = [b.name for b in bands]
    fmin, fmax = min(b.fmin for b in bands), max(b.fmax for b in bands)
    entropy = spectral_entropy(spectrum, fmin=fmin, fmax=fmax)
    rows.add_matrix("spectral_entropy", "1", entropy[:, np.newaxis], components=ch_names, bands=["broadband"])
    signatures = [cdns_of_aperiodic_fit(fit, band) for band in bands]
    for metric in ("consonance", "dissonance", "noise", "valence"):
        values = np.column_stack([getattr(signature, metric) for signature in signatures])
        rows.add_matrix(f"cdns_{metric}", "1", values, components=ch_names, bands=names)
    epochs = data if data.ndim == 3 else data[np.newaxis]
    if filter_bands:
        filter_names = [b.name for b in filter_bands]
        lz = np.mean([band_lempel_ziv(epoch, sfreq, filter_bands) for epoch in epochs], axis=0)
        rows.add_matrix("lempel_ziv", "1", lz, components=ch_names, bands=filter_names)
        if data.ndim == 2:
            plv = np.stack([plv_matrix(analytic_signal(data, sfreq, band)) for band in filter_bands])
        else:
            analytic = [np.stack([analytic_signal(epoch, sfreq, band) for epoch in epochs]) for band in filter_bands]
            plv = np.stack([plv_over_trials(trials, average_time=True) for trials in analytic])
        off_diagonal = (plv.sum(axis=-1) - 1.0) / max(len(ch_names) - 1, 1)
        rows.add_matrix("plv_mean", "1", off_diagonal.T, components=ch_names, bands=filter_names)
        arrays["plv"] = plv.astype(np.float32)
        arrays["plv_bands"] = np.array(filter_names)
    return {
        "spectral_entropy": "Inouye et al. 1991, normalised (harmonix.estimators.complexity)",
        "lempel_ziv": "LZ76 of the median-binarised band amplitude, normalised (Kaspar & Schuster 1987)",
        "cdns": "harmonix CDNS of specparam peaks per band, octave-shifted to middle C (research proxy)",
        "plv": "over time within the recording (continuous) or across epochs (epoched), per band",
    }


def _add_proxies(rows: MetricRows, arrays: dict, matched: np.ndarray, sfreq: float, bands: Sequence[Band],
                 decomposition, basis, connectome) -> dict:
    """Valence, trauma and energy-parameter proxies (continuous recordings only)."""
    if matched.ndim != 2:
        return {"computed": False, "reason": "the proxies need a continuous recording, not epochs"}
    if matched.shape[-1] / sfreq < MIN_PROXY_SECONDS:
        return {"computed": False,
                "reason": f"the proxies need at least {MIN_PROXY_SECONDS:g} s of continuous data "
                          f"(surrogate spectra, energy windows); this recording has {matched.shape[-1] / sfreq:.1f} s"}
    operator = decomposition.inverse.operator
    coefficients = operator @ matched
    for proxy in valence_proxy(coefficients, sfreq, bands):
        rows.add("valence_proxy", proxy.valence, "1", band=proxy.band, component="harmonic_signature")
        rows.add("valence_proxy_octave_spread", proxy.valence_spread, "1", band=proxy.band, component="harmonic_signature")
        for name in ("consonance", "dissonance", "noise"):
            rows.add(f"valence_proxy_{name}", getattr(proxy, name), "1", band=proxy.band, component="harmonic_signature")
    for trauma in trauma_proxy(matched, sfreq, bands, operator, basis.eigenvectors, connectome.region_map):
        rows.add("trauma_proxy", trauma.combined, "z", band=trauma.band, component="combined")
        for name, value in trauma.components.items():
            rows.add("trauma_proxy_component", value, "z", band=trauma.band, component=name)
        arrays[f"region_plv_{trauma.band}"] = trauma.region_plv.astype(np.float32)
        for name, left, right in homotopic_pairs(connectome.region_labels):
            rows.add("region_plv_homotopic", trauma.region_plv[left, right], "1", band=trauma.band, component=name)
    times, energy = harmonic_energy_trace(coefficients, decomposition.eigenvalues, sfreq)
    episodes = detect_episodes(times, energy) if times.size >= 5 else None
    rows.add("energy_parameter_mean", float(energy.mean()), "a.u.", band="broadband", component="all")
    arrays["energy_times"], arrays["energy"] = times, energy
    if episodes is not None:
        rows.add("energy_episode_count", len(episodes.episodes), "1", band="broadband", component="all")
        for i, episode in enumerate(episodes.episodes, start=1):
            for name in ("onset", "peak_time", "duration", "cooling_tau"):
                rows.add(f"energy_episode_{name}", getattr(episode, name), "s", band="broadband", component=f"episode{i}")
    return {
        "computed": True,
        "valence": VALENCE_NOTE, "trauma": TRAUMA_NOTE, "energy_parameter": ENERGY_NOTE,
        "energy_episodes": None if episodes is None else {"baseline": episodes.baseline, "threshold": episodes.threshold,
                                                           **episodes.params},
    }


def _add_harmonic_metrics(
    rows: MetricRows, arrays: dict, data: np.ndarray, ch_names: Sequence[str], sfreq: float,
    bands: Sequence[Band], model: HarmonicModel | None, *, required: bool, n_harmonics: int, source: str,
) -> dict:
    """Decompose the sensors onto the model's harmonics; add rows and arrays, return the sidecar part."""
    if model is None:
        return {"computed": False, "reason": "no harmonic model requested"}
    connectome, basis = model.connectome, model.basis
    try:
        decomposition = sensor_decomposition(
            connectome.leadfield, connectome.sensor_names, basis.eigenvectors, basis.eigenvalues,
            ch_names, data, n_modes=n_harmonics, source=source,
        )
    except ChannelError as err:
        if required:
            raise
        return {"computed": False, "reason": str(err)}
    if not bands:
        return {"computed": False, "reason": "no band long enough for the filter bank"}
    matched = data[..., decomposition.match.recording_indices, :]
    spectra, coefficients = band_harmonic_spectra(
        matched, sfreq, bands, decomposition.inverse.operator, decomposition.eigenvalues, keep_coefficients=True,
    )
    components = [f"h{k:03d}" for k in range(decomposition.eigenvalues.size)]
    names = [b.name for b in bands]
    rows.add_matrix("harmonic_power", "a.u.", np.array([s.mean_power for s in spectra]).T, components=components, bands=names)
    rows.add_matrix("harmonic_energy", "a.u.", np.array([s.mean_energy for s in spectra]).T, components=components, bands=names)
    for s in spectra:
        rows.add("harmonic_total_energy", s.total_energy, "a.u.", band=s.band, component="all")
        rows.add("harmonic_entropy", s.entropy, "bits", band=s.band, component="all")
        rows.add("harmonic_low_energy_fraction", s.low_energy_fraction, "1", band=s.band, component=f"h<{s.n_low}")
        rows.add("harmonic_low_power_fraction", s.low_power_fraction, "1", band=s.band, component=f"h<{s.n_low}")
    arrays["harmonic_eigenvalues"] = decomposition.eigenvalues
    arrays["harmonic_bands"] = np.array(names)
    if coefficients is not None:
        arrays["harmonic_coefficients"] = coefficients
    proxies = _add_proxies(rows, arrays, matched, sfreq, bands, decomposition, basis, connectome)
    return {"computed": True, "proxies": proxies, "model": model.params(), "decomposition": decomposition.params(),
            "channel_matching": decomposition.match.summary(),
            "reference": "Atasoy et al. 2016 Nat Commun 7:10340; 2017 Sci Rep 7:17661"}


def analyze_music(
    audio: Audio, *, session: str, bands: Sequence[Band] | None = None, resonance_model: HarmonicModel | None = None
) -> Analysis:
    """Tempo, partials and envelope modulation spectrum of a music recording.

    Metrics: ``tempo`` (bpm), ``beat_count`` (1), ``modulation_peak_frequency``
    (Hz) and per EEG band ``modulation_energy`` (envelope power, 1) and
    ``modulation_energy_relative`` (1) - how strongly the music's amplitude
    envelope drives each brain band - and ``partial_count_median`` (1) with
    ``strongest_partial_median`` (Hz) over frames. With a ``resonance_model``
    (connectome + Laplace-Beltrami basis), the resonance profile of the
    neural-field wave model driven by the music's envelope through the
    auditory cortex (:func:`harmonix.simulate.wave.stimulus_resonance`):
    ``resonance_energy_fraction`` per harmonic and, for the most energised
    harmonic, the ``resonance_drive_frequency`` (Hz): the modulation frequency
    that delivers most of its energy.
    """
    bands = load_bands(bands)
    rows = MetricRows(session)
    tempo = tempo_and_beats(audio)
    rows.add("tempo", tempo.bpm, "bpm")
    rows.add("beat_count", len(tempo.beat_times), "1")
    mod = modulation_spectrum(audio)
    energy = modulation_band_energy(mod, bands)
    names = [b.name for b in bands]
    rows.add_matrix("modulation_energy", "1", np.atleast_2d(energy.absolute), components=["envelope"], bands=names)
    rows.add_matrix(
        "modulation_energy_relative", "1", np.atleast_2d(energy.relative), components=["envelope"], bands=names
    )
    rows.add("modulation_peak_frequency", mod.peak_frequency, "Hz", component="envelope")
    partials = spectral_partials(audio)
    counts = np.sum(np.isfinite(partials.freqs), axis=1)
    strongest = np.array(
        [row_f[np.nanargmax(row_a)] if np.any(np.isfinite(row_a)) else np.nan
         for row_f, row_a in zip(partials.freqs, partials.amplitudes)]
    )
    rows.add("partial_count_median", float(np.median(counts)), "1")
    rows.add("strongest_partial_median", float(np.nanmedian(strongest)) if np.any(np.isfinite(strongest)) else np.nan, "Hz")
    params = {
        "kind": "music",
        "sfreq": audio.sfreq,
        "duration_s": audio.duration,
        "n_channels": audio.n_channels,
        "bands": [{"name": b.name, "fmin": b.fmin, "fmax": b.fmax} for b in bands],
        "tempo": {"method": "librosa.beat.beat_track", "note": "tempo octave (x2, /2) is ambiguous"},
        "modulation_spectrum": dict(mod.params),
    }
    if resonance_model is not None:
        profile = stimulus_resonance(mod, resonance_model)
        components = [f"h{k:03d}" for k in range(profile.fraction.size)]
        rows.add_matrix("resonance_energy_fraction", "1", profile.fraction[:, np.newaxis], components=components,
                        bands=["envelope"])
        top = int(np.argmax(profile.fraction))
        # where in modulation frequency the most energised harmonic gets its energy
        rows.add("resonance_drive_frequency", float(profile.freqs[np.argmax(profile.density[top])]), "Hz",
                 band="envelope", component=components[top])
        params["resonance"] = {**profile.params, "top_harmonic": top,
                               "model": "neural field damped wave (Robinson et al. 1997; Pang et al. 2023)"}
    arrays = {
        "modulation_freqs": mod.freqs, "modulation_power": mod.power,
        "beat_times": tempo.beat_times, "partial_times": partials.times,
        "partial_freqs": partials.freqs, "partial_amplitudes": partials.amplitudes,
    }
    return Analysis(rows.to_frame(), params, arrays)
