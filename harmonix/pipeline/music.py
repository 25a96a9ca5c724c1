"""The music analysis: tempo, partials, envelope modulation spectrum and connectome resonance."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harmonix.harmonics.model import HarmonicModel
from harmonix.io.audio import Audio
from harmonix.pipeline.result import Analysis
from harmonix.simulate.wave import stimulus_resonance
from harmonix.spectral.audio import modulation_band_energy, modulation_spectrum, spectral_partials, tempo_and_beats
from harmonix.spectral.bands import Band, load_bands
from harmonix.tables import MetricRows


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
