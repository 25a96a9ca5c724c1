"""Music analysis (issue 14, part 2): tempo at a fixed rate with a pulse test, f0/notes by pYIN, key, CDNS, report."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harmonix.estimators.pitch import (
    KK_MAJOR,
    KK_MINOR,
    hz_to_midi,
    key_from_chroma,
    note_intervals,
    segment_notes,
    track_f0,
    weighted_median,
)
from harmonix.estimators.tempo import estimate_tempo
from harmonix.io.audio import Audio

CONTRABASS = "tinysol_Cb-ord-A2-mf-2c-N.wav"


def click_track(bpm: float, sfreq: float, seconds: float = 8.0) -> Audio:
    """Decaying 1-kHz clicks (10 ms) at ``bpm``, rendered at ``sfreq``; first click at 0.25 s."""
    x = np.zeros(int(seconds * sfreq))
    n = int(0.01 * sfreq)
    t = np.arange(n) / sfreq
    burst = np.sin(2 * np.pi * 1000 * t) * np.exp(-t / 0.003)
    for beat in np.arange(0.25, seconds - 0.05, 60.0 / bpm):
        i = int(round(beat * sfreq))
        seg = x[i : i + n]
        seg += burst[: seg.size]
    return Audio(0.5 * x, sfreq)


# --------------------------------------------------------------------------- tempo


@pytest.mark.parametrize("bpm", [60, 90, 120, 150, 180])
def test_click_tracks_give_the_same_tempo_at_every_rate(bpm):
    tempi = [estimate_tempo(click_track(bpm, sfreq)).bpm for sfreq in (22050.0, 44100.0, 48000.0)]
    assert all(np.isfinite(tempi))
    assert max(tempi) / min(tempi) - 1 < 0.02  # the same tempo whatever the file's rate
    assert all(abs(t / bpm - 1) < 0.02 for t in tempi)  # and the right one, at the notated metrical level


def test_click_track_has_confident_pulse_and_beats_on_the_clicks():
    est = estimate_tempo(click_track(120, 44100.0))
    assert est.has_pulse and est.p_value <= 0.01 and est.confidence > 0.5
    assert est.candidates_bpm[0] == est.bpm
    clicks = np.arange(0.25, 7.95, 0.5)
    # every tracked beat lies within one onset frame (23 ms) + click length of a click
    assert len(est.beat_times) >= 10
    assert np.all(np.min(np.abs(est.beat_times[:, None] - clicks[None, :]), axis=1) < 0.04)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_noise_and_a_sustained_tone_have_no_pulse(seed):
    rng = np.random.default_rng(seed)
    sfreq = 22050.0
    noise = estimate_tempo(Audio(0.1 * rng.standard_normal(int(8 * sfreq)), sfreq))
    assert not noise.has_pulse and math.isnan(noise.confidence) and noise.beat_times.size == 0
    assert noise.p_value > 0.01 and "no pulse" in noise.note
    t = np.arange(int(6 * sfreq)) / sfreq
    tone = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 6)) * np.minimum(1, t / 0.05)
    tone = tone * (1 + 0.01 * rng.standard_normal(t.size))
    assert not estimate_tempo(Audio(0.2 * tone, sfreq)).has_pulse


def test_tempo_rejects_bad_parameters():
    from harmonix.errors import ParameterError

    audio = click_track(120, 22050.0, 4.0)
    with pytest.raises(ParameterError):
        estimate_tempo(audio, bpm_range=(200, 100))
    with pytest.raises(ParameterError):
        estimate_tempo(audio, alpha=1.5)


@pytest.mark.real_data
def test_sustained_double_bass_a2_has_no_tempo_and_f0_110_hz(shared_data):
    from harmonix.io.audio import load_audio

    audio = load_audio(shared_data / CONTRABASS, mono=True)
    est = estimate_tempo(audio)
    assert math.isnan(est.bpm) and est.beat_times.size == 0 and est.p_value > 0.01
    f0 = track_f0(audio).median_f0
    assert abs(1200 * math.log2(f0 / 110.0)) < 10.0


# --------------------------------------------------------------------------- f0, notes, intervals

MELODY = [(57, 0.5), (None, 0.2), (60, 0.4), (64, 0.4), (None, 0.25), (67, 0.5), (62, 0.4), (None, 0.2),
          (69, 0.6), (45, 0.5)]
"""(MIDI note or None for a rest, seconds); 64 is rendered without its fundamental."""


def melody(sfreq: float = 44100.0, vibrato_cents: float = 30.0, rate: float = 5.5):
    """Harmonic tones (8 partials, 1/k) with vibrato, one with a missing fundamental, and rests."""
    pieces, truth = [], []
    for midi, seconds in MELODY:
        n = int(seconds * sfreq)
        t = np.arange(n) / sfreq
        if midi is None:
            pieces.append(np.zeros(n))
            truth.append(np.full(n, np.nan))
            continue
        f0 = 440 * 2 ** ((midi - 69) / 12) * 2 ** (vibrato_cents / 1200 * np.sin(2 * np.pi * rate * t))
        phase = 2 * np.pi * np.cumsum(f0) / sfreq
        harmonics = range(2, 9) if midi == 64 else range(1, 9)
        ramp = np.minimum(1, np.minimum(t / 0.01, (seconds - t) / 0.01))
        pieces.append(0.2 * ramp * sum(np.sin(k * phase) / k for k in harmonics))
        truth.append(f0)
    return Audio(np.concatenate(pieces), sfreq), np.concatenate(truth)


def test_synthetic_melody_is_tracked_within_10_cents_with_voicing_f1_above_0_9():
    audio, truth = melody()
    track = track_f0(audio)
    t_audio = np.arange(truth.size) / audio.sfreq
    ref = np.interp(track.times, t_audio, np.nan_to_num(truth, nan=0.0))
    ref_voiced = np.interp(track.times, t_audio, np.isfinite(truth).astype(float)) > 0.5
    both = ref_voiced & track.voiced
    error = np.abs(1200 * np.log2(track.f0[both] / ref[both]))
    assert np.median(error) < 10.0
    tp = both.sum()
    fp = (track.voiced & ~ref_voiced).sum()
    fn = (ref_voiced & ~track.voiced).sum()
    assert 2 * tp / (2 * tp + fp + fn) > 0.9
    # the missing-fundamental E4 is tracked at E4, not an octave up
    e4 = (track.times > 1.2) & (track.times < 1.45) & track.voiced
    assert abs(np.median(hz_to_midi(track.f0[e4])) - 64) < 0.2  # not E5 (an octave error would be 12)


def test_notes_and_intervals_of_the_melody():
    audio, _ = melody()
    notes = segment_notes(track_f0(audio))
    expected = [m for m, _ in MELODY if m is not None]
    assert list(notes.nearest) == expected
    assert np.all(np.abs(notes.cents) < 10)
    np.testing.assert_allclose(note_intervals(notes), np.diff(expected), atol=0.1)
    onsets = np.cumsum([0] + [s for _, s in MELODY])[:-1]
    expected_onsets = [o for o, (m, _) in zip(onsets, MELODY) if m is not None]
    np.testing.assert_allclose(notes.onsets, expected_onsets, atol=0.08)  # within one pYIN frame (93 ms)


def test_weighted_median():
    assert weighted_median([1, 2, 3], [1, 1, 1]) == 2
    assert weighted_median([1, 2, 3], [0, 0, 5]) == 3
    assert math.isnan(weighted_median([], []))


# --------------------------------------------------------------------------- key


@pytest.mark.parametrize("tonic", [0, 6, 9])
def test_krumhansl_profiles_give_their_own_key(tonic):
    major = key_from_chroma(np.roll(KK_MAJOR, tonic))
    assert (major.tonic, major.mode, round(major.correlation, 6)) == (tonic, "major", 1.0)
    minor = key_from_chroma(np.roll(KK_MINOR, tonic))
    assert (minor.tonic, minor.mode) == (tonic, "minor")
    assert minor.clarity > 0


def test_c_major_scale_audio_is_in_c_major():
    from harmonix.estimators.pitch import estimate_key

    sfreq = 22050.0
    t = np.arange(int(0.4 * sfreq)) / sfreq
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60]
    x = np.concatenate([sum(np.sin(2 * np.pi * 440 * 2 ** ((m - 69) / 12) * k * t) / k for k in (1, 2, 3))
                        * np.minimum(1, t / 0.01) for m in scale])
    assert estimate_key(Audio(0.2 * x, sfreq)).name == "C major"


# --------------------------------------------------------------------------- pipeline and report


def test_analyze_music_reports_f0_as_pitch_cdns_key_and_no_tempo_for_a_sustained_tone():
    from harmonix.pipeline.music import analyze_music

    sfreq = 22050.0
    t = np.arange(int(6 * sfreq)) / sfreq
    # a C4 whose second harmonic is the strongest partial: pitch must be 261.6 Hz, not 523 Hz
    tone = 0.3 * np.sin(2 * np.pi * 261.63 * t) + 0.6 * np.sin(2 * np.pi * 523.25 * t) \
        + 0.2 * np.sin(2 * np.pi * 784.9 * t)
    analysis = analyze_music(Audio(0.3 * tone * np.minimum(1, t / 0.05), sfreq), session="c4")
    m = analysis.metrics.set_index(["metric", "component"])["value"]
    assert abs(1200 * math.log2(m[("f0_median", "")] / 261.63)) < 10
    assert math.isnan(m[("tempo", "")]) and math.isnan(m[("beat_count", "")])
    for part in ("consonance", "dissonance", "noise", "valence"):
        assert np.isfinite(m[(f"cdns_{part}", "median over frames")])
    assert analysis.arrays["cdns_valence"].size == analysis.arrays["cdns_times"].size > 10
    assert "strongest_partial_median" not in set(analysis.metrics["metric"])
    chroma = analysis.metrics[analysis.metrics.metric == "chroma_mean"].set_index("component")["value"]
    assert chroma.idxmax() == "C" and chroma.sum() == pytest.approx(1.0)


def test_music_report_has_every_figure(tmp_path):
    import soundfile

    from harmonix.report.music import write_music_report
    from harmonix.workflows import run_music_file

    audio = click_track(100, 44100.0, 8.0)
    path = tmp_path / "clicks.wav"
    soundfile.write(path, audio.samples[0], 44100)
    folder, analysis = run_music_file(path, tmp_path / "out", session="clicks", report=True)
    page = (folder / "report.html").read_text()
    assert page.count("data:image/png") == 3  # spectrogram+f0+beats, CDNS, modulation (resonance not computed)
    assert "could not be drawn" not in page and "research proxy, not a diagnosis" in page
    assert "100" in page  # the tempo
    tempo = analysis.metrics.query("metric == 'tempo'")["value"].iloc[0]
    assert tempo == pytest.approx(100, rel=0.02)
    assert write_music_report(folder) == folder / "report.html"


def test_music_report_rejects_an_eeg_folder(tmp_path):
    import json

    from harmonix.errors import InputFileError
    from harmonix.report.music import write_music_report

    (tmp_path / "metrics.csv").write_text("session,metric,band,component,value,unit\n")
    (tmp_path / "params.json").write_text(json.dumps({"kind": "eeg"}))
    with pytest.raises(InputFileError, match="harmonix music"):
        write_music_report(tmp_path)
