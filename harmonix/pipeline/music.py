"""The music analysis: tempo, f0 and notes, key, CDNS over time, envelope modulation and connectome resonance."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from harmonix.harmonics.model import HarmonicModel
from harmonix.io.audio import Audio
from harmonix.errors import ParameterError
from harmonix.pipeline.result import Analysis
from harmonix.spectral.audio import ModulationSpectrum, modulation_band_energy, modulation_spectrum, spectral_partials
from harmonix.spectral.bands import Band, load_bands
from harmonix.tables import MetricRows

CDNS_PARTS = ("consonance", "dissonance", "noise", "valence")


def _finite_or_none(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None


def _nanmedian(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.nanmedian(values)) if np.any(np.isfinite(values)) else math.nan


def mel_spectrogram_db(audio: Audio, *, n_mels: int = 96, hop_length: int = 1024) -> tuple[np.ndarray, np.ndarray,
                                                                                             np.ndarray]:
    """Log-mel spectrogram at 22 050 Hz for the report: ``(times, mel centre freqs, dB re max)`` (float32)."""
    import librosa

    from harmonix.estimators.tempo import ANALYSIS_SFREQ, resample_to
    from harmonix.spectral.audio import _mono

    x = resample_to(_mono(audio), audio.sfreq, ANALYSIS_SFREQ)
    mel = librosa.feature.melspectrogram(y=x, sr=ANALYSIS_SFREQ, n_fft=2048, hop_length=hop_length, n_mels=n_mels)
    db = librosa.power_to_db(mel, ref=np.max(mel) if np.max(mel) > 0 else 1.0, top_db=80.0)
    times = librosa.times_like(db, sr=ANALYSIS_SFREQ, hop_length=hop_length)
    freqs = librosa.mel_frequencies(n_mels=n_mels, fmax=ANALYSIS_SFREQ / 2)
    return times, freqs, db.astype(np.float32)


def analyze_music(
    audio: Audio, *, session: str, bands: Sequence[Band] | None = None, resonance_model: HarmonicModel | None = None
) -> Analysis:
    """Tempo, f0 and notes, key, CDNS over time and envelope modulation of a music recording.

    Metrics (units in brackets):

    - ``tempo`` [bpm], ``tempo_confidence`` [1], ``tempo_p_value`` [1],
      ``tempo_candidate`` [bpm] (component ``c1``..; unconfirmed when there is
      no pulse) and ``beat_count`` [1]
      (:func:`harmonix.estimators.tempo.estimate_tempo`: a fixed 22 050 Hz
      analysis rate; ``tempo`` and ``beat_count`` are NaN where the onset
      envelope has no significant periodicity, e.g. a sustained note).
    - ``f0_median`` [Hz] (the pitch: RMS-weighted median of pYIN's voiced
      f0, not the strongest partial), ``f0_median_midi`` [MIDI],
      ``voiced_fraction`` [1], ``note_count`` [1] and
      ``interval_abs_median`` [semitones]
      (:mod:`harmonix.estimators.pitch`).
    - ``key_correlation`` [1] (component: the key, e.g. ``"A minor"``) and
      ``key_clarity`` [1] (Krumhansl-Schmuckler), ``chroma_mean`` [1] per
      pitch class.
    - ``cdns_consonance``, ``cdns_dissonance``, ``cdns_noise``,
      ``cdns_valence`` [1]: median over frames of the music's own CDNS
      signature (:func:`harmonix.estimators.consonance.cdns_of_audio`, with
      its defaults); per frame in ``arrays.npz`` (``cdns_times``,
      ``cdns_<part>``). Valence is a research proxy.
    - ``modulation_peak_frequency`` [Hz], per EEG band ``modulation_energy`` and
      ``modulation_energy_relative`` [1]: how strongly the amplitude
      envelope drives each brain band; ``partial_count_median`` [1].
    - With a ``resonance_model`` (connectome + Laplace-Beltrami basis): the
      resonance profile of the neural-field wave model driven by the
      envelope through the auditory cortex
      (:func:`harmonix.simulate.wave.stimulus_resonance`):
      ``resonance_energy_fraction`` per harmonic, the same for a flat
      (white) envelope spectrum (``resonance_energy_fraction_flat``: what the
      model alone favours, identical for every sound), their ratio
      ``resonance_energy_ratio`` (what is specific to this piece), the
      ``resonance_drive_frequency`` [Hz] of the most energised harmonic and
      ``resonance_specific_ratio`` for the harmonic most enriched relative to
      the flat envelope.
    """
    from harmonix.estimators.consonance import cdns_of_audio
    from harmonix.estimators.pitch import note_intervals, segment_notes, track_f0
    from harmonix.estimators.tempo import estimate_tempo

    if not isinstance(audio, Audio):
        raise ParameterError(f"analyze_music needs a harmonix.io.audio.Audio (harmonix.io.load_audio(path) reads "
                             f"one), got {type(audio).__name__}")
    bands = load_bands(bands)
    rows = MetricRows(session)
    tempo = estimate_tempo(audio)
    rows.add("tempo", tempo.bpm, "bpm")
    rows.add("tempo_confidence", tempo.confidence, "1")
    rows.add("tempo_p_value", tempo.p_value, "1")
    for i, bpm in enumerate(tempo.candidates_bpm, start=1):
        rows.add("tempo_candidate", bpm, "bpm", component=f"c{i}")
    rows.add("beat_count", len(tempo.beat_times) if tempo.has_pulse else math.nan, "1")

    track = track_f0(audio)
    notes = segment_notes(track)
    intervals = note_intervals(notes)
    f0 = track.median_f0
    rows.add("f0_median", f0, "Hz")
    rows.add("f0_median_midi", 69.0 + 12.0 * math.log2(f0 / 440.0) if math.isfinite(f0) else math.nan, "MIDI")
    rows.add("voiced_fraction", track.voiced_fraction, "1")
    rows.add("note_count", len(notes), "1")
    rows.add("interval_abs_median", float(np.median(np.abs(intervals))) if intervals.size else math.nan, "semitones")

    from harmonix.estimators.pitch import PITCH_CLASSES, chromagram, key_from_chroma

    chroma_times, chroma = chromagram(audio)
    mean_chroma = chroma.mean(axis=1)
    key = None
    if np.ptp(mean_chroma) > 0:
        key = key_from_chroma(mean_chroma)
        rows.add("key_correlation", key.correlation, "1", component=key.name)
        rows.add("key_clarity", key.clarity, "1", component=key.name)
    for pc, value in zip(PITCH_CLASSES, mean_chroma / mean_chroma.sum() if mean_chroma.sum() > 0 else mean_chroma):
        rows.add("chroma_mean", value, "1", component=pc)

    series = cdns_of_audio(audio)
    for part in CDNS_PARTS:
        rows.add(f"cdns_{part}", _nanmedian(getattr(series, part)), "1", component="median over frames")

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
    rows.add("partial_count_median", float(np.median(counts)), "1")
    params = {
        "kind": "music",
        "sfreq": audio.sfreq,
        "duration_s": audio.duration,
        "n_channels": audio.n_channels,
        "bands": [{"name": b.name, "fmin": b.fmin, "fmax": b.fmax} for b in bands],
        "tempo": {**tempo.params, "note": tempo.note or "tempo octave (x2, /2) is ambiguous; see tempo_candidate",
                  "p_value": _finite_or_none(tempo.p_value)},
        "f0": {**track.params, "pitch": "RMS-weighted median of voiced f0",
               "notes": "voiced runs split where the smoothed pitch changes semitone for >= 60 ms"},
        "key": {"method": "Krumhansl-Schmuckler: mean chroma_cqt correlated with Krumhansl-Kessler (1982) profiles",
                "key": key.name if key is not None else None},
        "cdns": {k: v for k, v in series.params.items() if isinstance(v, (str, int, float, bool))},
        "modulation_spectrum": dict(mod.params),
    }
    spec_times, spec_freqs, spec_db = mel_spectrogram_db(audio)
    arrays = {
        "modulation_freqs": mod.freqs, "modulation_power": mod.power,
        "beat_times": tempo.beat_times, "onset_times": tempo.onset_times, "onset_envelope": tempo.onset_envelope,
        "tempo_candidates_bpm": tempo.candidates_bpm,
        "partial_times": partials.times, "partial_freqs": partials.freqs, "partial_amplitudes": partials.amplitudes,
        "f0_times": track.times, "f0": track.f0, "f0_voiced": track.voiced, "f0_voiced_probability":
            track.voiced_probability,
        "note_onsets": notes.onsets, "note_offsets": notes.offsets, "note_f0": notes.f0, "note_midi": notes.midi,
        "note_intervals": intervals,
        "chroma_times": chroma_times, "chroma": chroma.astype(np.float32),
        "cdns_times": series.times if series.times is not None else np.empty(0),
        **{f"cdns_{part}": getattr(series, part) for part in CDNS_PARTS},
        "spectrogram_times": spec_times, "spectrogram_freqs": spec_freqs, "spectrogram_db": spec_db,
    }
    if resonance_model is not None:
        from harmonix.simulate.wave import stimulus_resonance

        profile = stimulus_resonance(mod, resonance_model)
        flat_spectrum = ModulationSpectrum(freqs=mod.freqs, power=np.ones_like(mod.power), resolution=mod.resolution,
                                           envelope_sfreq=mod.envelope_sfreq)
        flat = stimulus_resonance(flat_spectrum, resonance_model)
        components = [f"h{k:03d}" for k in range(profile.fraction.size)]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(flat.fraction > 0, profile.fraction / flat.fraction, np.nan)
        for name, values in (("resonance_energy_fraction", profile.fraction),
                             ("resonance_energy_fraction_flat", flat.fraction), ("resonance_energy_ratio", ratio)):
            rows.add_matrix(name, "1", values[:, np.newaxis], components=components, bands=["envelope"])
        top = int(np.argmax(profile.fraction))
        # where in modulation frequency the most energised harmonic gets its energy
        rows.add("resonance_drive_frequency", float(profile.freqs[np.argmax(profile.density[top])]), "Hz",
                 band="envelope", component=components[top])
        # the harmonic this piece energises most relative to a flat envelope (among those holding >= 1 % of it)
        held = np.where(profile.fraction >= 0.01, np.nan_to_num(ratio, nan=-np.inf), -np.inf)
        specific = int(np.argmax(held))
        rows.add("resonance_specific_ratio", float(ratio[specific]), "1", band="envelope",
                 component=components[specific])
        params["resonance"] = {**profile.params, "top_harmonic": top, "specific_harmonic": specific,
                               "model": "neural field damped wave (Robinson et al. 1997; Pang et al. 2023)",
                               "flat_reference": "the same model driven by a flat (white) envelope spectrum"}
        arrays.update({"resonance_fraction": profile.fraction, "resonance_fraction_flat": flat.fraction,
                       "resonance_peak_frequencies": profile.peak_frequencies})
    return Analysis(rows.to_frame(), params, arrays)
