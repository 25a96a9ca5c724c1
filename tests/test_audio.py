"""Audio input (harmonix.io.audio) and audio spectral analysis (harmonix.spectral.audio)."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
import soundfile as sf

from harmonix.errors import DataQualityError, HarmonixError, InputFileError, ParameterError
from harmonix.io.audio import Audio, load_audio
from harmonix.spectral.audio import (
    ModulationSpectrum,
    modulation_band_energy,
    modulation_spectrum,
    onset_envelope,
    spectral_partials,
)

TRUMPET = "sorohanro_-_solo-trumpet-06.hq.ogg"
CONTRABASS = "tinysol_Cb-ord-A2-mf-2c-N.wav"
MUSIC_CLIPS = {
    TRUMPET: 2,
    "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).hq.ogg": 2,
    "Kevin_MacLeod_-_P_I_Tchaikovsky_Dance_of_the_Sugar_Plum_Fairy.hq.ogg": 2,
    "Kevin_MacLeod_-_Vibe_Ace.hq.ogg": 2,
    CONTRABASS: 1,
}


# --------------------------------------------------------------------------- synthetic signals


def harmonic_tone(
    f0: float, amps: list[float], *, sfreq: float = 44100.0, seconds: float = 1.0, seed: int = 0
) -> Audio:
    """Sum of partials k*f0 with the given amplitudes and random (seeded) phases."""
    t = np.arange(int(seconds * sfreq)) / sfreq
    phases = np.random.default_rng(seed).uniform(0, 2 * np.pi, len(amps))
    x = sum(a * np.sin(2 * np.pi * f0 * (k + 1) * t + ph) for k, (a, ph) in enumerate(zip(amps, phases)))
    return Audio(x, sfreq, "<harmonic tone>")


def am_tone(
    fm: float, depth: float, *, sfreq: float = 8000.0, seconds: float = 10.0, carrier: float = 1000.0
) -> Audio:
    """Carrier amplitude-modulated as 0.5 * (1 + depth * sin(2 pi fm t)) * sin(2 pi carrier t)."""
    t = np.arange(int(seconds * sfreq)) / sfreq
    x = 0.5 * (1 + depth * np.sin(2 * np.pi * fm * t)) * np.sin(2 * np.pi * carrier * t)
    return Audio(x, sfreq, f"<AM {fm} Hz>")


# --------------------------------------------------------------------------- Audio


def test_audio_from_1d_array_is_one_read_only_channel():
    x = np.zeros(22050)
    audio = Audio(x, 22050)
    assert audio.samples.shape == (1, 22050)
    assert (audio.n_channels, audio.n_samples, audio.duration, audio.sfreq) == (1, 22050, 1.0, 22050.0)
    assert not audio.samples.flags.writeable
    assert x.flags.writeable  # the caller's array is untouched
    with pytest.raises(AttributeError):
        audio.sfreq = 1.0  # type: ignore[misc]


def test_audio_owns_a_copy_of_the_samples():
    x = np.zeros((2, 100))
    audio = Audio(x, 100.0)
    x[0, 0] = 0.5  # the caller changes its array afterwards
    assert audio.samples[0, 0] == 0.0
    assert not np.shares_memory(audio.samples, x)
    assert audio.samples.dtype == x.dtype
    with pytest.raises(ValueError, match="read-only"):
        audio.samples[0, 0] = 1.0


def test_audio_to_mono_is_channel_mean():
    stereo = Audio(np.array([[0.2, 0.4, -1.0], [0.0, 0.2, 1.0]]), 3.0)
    mono = stereo.to_mono()
    assert mono.samples.shape == (1, 3)
    np.testing.assert_allclose(mono.samples[0], [0.1, 0.3, 0.0])
    assert mono.to_mono() is mono


@pytest.mark.parametrize(
    "samples, sfreq, match",
    [
        (np.zeros((2, 3, 4)), 100.0, "shape"),
        (np.zeros(10, dtype=np.int16), 100.0, "floating point"),
        (np.zeros(10), 0.0, "sampling rate"),
        (np.zeros(10), float("nan"), "sampling rate"),
    ],
)
def test_audio_rejects_bad_arrays(samples, sfreq, match):
    with pytest.raises(ParameterError, match=match):
        Audio(samples, sfreq)


# --------------------------------------------------------------------------- load_audio: real clips


@pytest.mark.real_data
@pytest.mark.parametrize("name, n_channels", MUSIC_CLIPS.items())
def test_load_every_music_clip(shared_data, name, n_channels):
    path = shared_data / name
    audio = load_audio(path, duration=1.5)
    assert audio.n_channels == n_channels
    assert audio.sfreq == 44100.0
    assert audio.samples.shape == (n_channels, round(1.5 * 44100))
    assert audio.samples.dtype == np.float32
    assert np.isfinite(audio.samples).all() and np.abs(audio.samples).max() <= 1.05
    assert audio.source == str(path)


@pytest.mark.real_data
@pytest.mark.parametrize("name, seconds", [(TRUMPET, 5.333), (CONTRABASS, 5.405)])
def test_whole_clip_duration(shared_data, name, seconds):
    assert load_audio(shared_data / name).duration == pytest.approx(seconds, abs=2e-3)


@pytest.mark.real_data
def test_mono_mixdown_of_stereo_ogg(shared_data):
    stereo = load_audio(shared_data / TRUMPET, duration=1.0)
    mono = load_audio(shared_data / TRUMPET, duration=1.0, mono=True)
    assert stereo.samples.shape == (2, 44100)
    assert mono.samples.shape == (1, 44100)
    np.testing.assert_allclose(mono.samples[0], stereo.samples.mean(axis=0), atol=1e-7)


@pytest.mark.real_data
def test_resampling_to_22050_halves_the_length(shared_data):
    native = load_audio(shared_data / CONTRABASS)
    resampled = load_audio(shared_data / CONTRABASS, sfreq=22050)
    assert resampled.sfreq == 22050.0
    assert resampled.n_samples == math.ceil(native.n_samples * 22050 / 44100)
    assert resampled.duration == pytest.approx(native.duration, abs=1 / 22050)
    # A 110 Hz note is far below the new Nyquist, so its level is kept.
    assert np.abs(resampled.samples).max() == pytest.approx(np.abs(native.samples).max(), rel=0.05)


@pytest.mark.real_data
def test_offset_and_duration_select_a_segment(shared_data):
    whole = load_audio(shared_data / CONTRABASS)
    part = load_audio(shared_data / CONTRABASS, offset=1.0, duration=0.5)
    np.testing.assert_array_equal(part.samples, whole.samples[:, 44100 : 44100 + 22050])
    with pytest.raises(ParameterError, match="beyond the end"):
        load_audio(shared_data / CONTRABASS, offset=60.0)


@pytest.mark.real_data
def test_reading_does_not_modify_the_file(shared_data):
    path = shared_data / CONTRABASS
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    load_audio(path, mono=True, sfreq=22050)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


# --------------------------------------------------------------------------- load_audio: formats and bad input


@pytest.mark.parametrize("suffix, fmt", [(".flac", "FLAC"), (".wav", "WAV"), (".mp3", "MP3")])
def test_roundtrip_formats(tmp_path, suffix, fmt):
    if fmt not in sf.available_formats():
        pytest.skip(f"this libsndfile cannot write {fmt}")
    sfreq = 16000
    x = 0.5 * np.sin(2 * np.pi * 440 * np.arange(sfreq) / sfreq)
    path = tmp_path / f"tone{suffix}"
    sf.write(path, np.stack([x, 0.5 * x], axis=1), sfreq, format=fmt)
    audio = load_audio(path)
    assert audio.n_channels == 2 and audio.sfreq == sfreq
    # Lossy MP3 adds encoder delay/padding; lossless formats keep the length.
    assert audio.n_samples == sfreq if fmt != "MP3" else abs(audio.n_samples - sfreq) < 4000
    assert np.abs(audio.samples[0]).max() == pytest.approx(0.5, rel=0.05)


def test_silent_wav_is_rejected_naming_the_file(tmp_path):
    path = tmp_path / "quiet.wav"
    sf.write(path, np.full(8000, 1e-6), 8000, subtype="FLOAT")  # -120 dBFS
    with pytest.raises(HarmonixError) as info:
        load_audio(path)
    assert isinstance(info.value, DataQualityError)
    assert str(path) in str(info.value) and "silent" in str(info.value)


def test_digital_silence_is_rejected(tmp_path):
    path = tmp_path / "zeros.wav"
    sf.write(path, np.zeros(8000), 8000)
    with pytest.raises(DataQualityError, match="silent"):
        load_audio(path)


def test_garbage_bytes_with_wav_extension(tmp_path):
    path = tmp_path / "garbage.wav"
    path.write_bytes(b"this is not a RIFF file" * 50)
    with pytest.raises(InputFileError, match="garbage.wav") as info:
        load_audio(path)
    assert info.value.__cause__ is not None  # the decoder's own error is chained


@pytest.mark.parametrize("suffix", [".mp3", ".wav", ".flac", ".ogg"])
def test_zero_byte_audio_file(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    with pytest.raises(InputFileError, match=rf"empty\{suffix}: the audio file is empty \(0 bytes\)"):
        load_audio(path)


def test_garbage_mp3_is_one_line_and_keeps_the_console_clean(tmp_path, capfd):
    # Random bytes make libmpg123 (inside libsndfile) print "Note: Illegal Audio-MPEG-Header ..." and
    # "[src/libmpg123/parse.c:...] warning: ..." straight to file descriptor 2.
    path = tmp_path / "noise.mp3"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    capfd.readouterr()
    with pytest.raises(InputFileError) as info:
        load_audio(path)
    message = str(info.value)
    assert message.startswith(f"{path}: cannot decode as MP3 audio") and "\n" not in message
    assert "does not exist" not in message  # libsndfile's words for an unparsable MP3 stream, not the truth
    assert capfd.readouterr().err == ""


def test_truncated_flac_header(tmp_path):
    path = tmp_path / "cut.flac"
    sf.write(path, 0.1 * np.ones(4000), 8000)  # written as FLAC by extension
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(InputFileError, match="cut.flac"):
        load_audio(path)


def test_unknown_extension(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("do re mi")
    with pytest.raises(InputFileError, match=r"unsupported audio file extension '\.txt'"):
        load_audio(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="no such audio file") as info:
        load_audio(tmp_path / "absent.wav")
    assert "absent.wav" in str(info.value)


def test_folder_is_not_a_file(tmp_path):
    folder = tmp_path / "clip.wav"
    folder.mkdir()
    with pytest.raises(InputFileError, match="folder"):
        load_audio(folder)


def test_empty_wav(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros((0, 1)), 8000)
    with pytest.raises(DataQualityError, match="no samples"):
        load_audio(path)


def test_nan_samples(tmp_path):
    path = tmp_path / "nan.wav"
    x = 0.1 * np.ones(800)
    x[400] = np.nan
    sf.write(path, x, 8000, subtype="FLOAT")
    with pytest.raises(DataQualityError, match="NaN") as info:
        load_audio(path)
    assert "sample 400" in str(info.value)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"sfreq": -1.0}, "sfreq"), ({"offset": -0.5}, "offset"), ({"duration": 0.0}, "duration")],
)
def test_bad_read_parameters(tmp_path, kwargs, match):
    path = tmp_path / "tone.wav"
    sf.write(path, 0.1 * np.ones(800), 8000)
    with pytest.raises(ParameterError, match=match):
        load_audio(path, **kwargs)


# --------------------------------------------------------------------------- spectral_partials


def test_partials_of_a_harmonic_tone():
    amps = [1.0, 0.5, 0.33, 0.25, 0.2, 0.1]
    partials = spectral_partials(harmonic_tone(220.0, [0.2 * a for a in amps]))
    assert partials.freqs.shape == partials.amplitudes.shape == (partials.n_frames, 20)
    np.testing.assert_allclose(np.diff(partials.times), 0.05)
    found = partials.freqs[:, :6]
    np.testing.assert_allclose(found, np.broadcast_to(220.0 * np.arange(1, 7), found.shape), atol=1.0)
    relative = partials.amplitudes[:, :6] / partials.amplitudes[:, :1]
    np.testing.assert_allclose(relative, np.broadcast_to(amps, relative.shape), rtol=0.05)
    # Amplitudes are in signal units: the 220 Hz component has amplitude 0.2.
    np.testing.assert_allclose(partials.amplitudes[:, 0], 0.2, rtol=0.01)
    assert np.isnan(partials.freqs[:, 6:]).all() and np.isnan(partials.amplitudes[:, 6:]).all()


def test_partials_keep_the_strongest_in_frequency_order():
    # The 2nd and 4th harmonics are the strongest, so those two are kept.
    partials = spectral_partials(harmonic_tone(220.0, [0.05, 0.3, 0.02, 0.2]), n_partials=2)
    np.testing.assert_allclose(np.median(partials.freqs, axis=0), [440.0, 880.0], atol=1.0)


def test_partials_respect_the_frequency_range():
    partials = spectral_partials(harmonic_tone(220.0, [0.2, 0.1, 0.1, 0.1]), fmin=300.0, fmax=700.0)
    found = partials.freqs[np.isfinite(partials.freqs)]
    assert found.size > 0 and found.min() >= 300.0 and found.max() <= 700.0


def test_partials_of_silence_are_empty_and_of_a_short_clip_an_error():
    assert np.isnan(spectral_partials(Audio(np.zeros(8000), 8000)).freqs).all()
    with pytest.raises(ParameterError, match="too short"):
        spectral_partials(Audio(np.ones(100), 8000))


def test_spectral_functions_want_audio():
    with pytest.raises(ParameterError, match="Audio"):
        spectral_partials(np.zeros(8000))  # type: ignore[arg-type]


@pytest.mark.real_data
def test_contrabass_a2_strongest_partial_is_110_hz(shared_data):
    partials = spectral_partials(load_audio(shared_data / CONTRABASS, offset=0.5, duration=3.0))
    loudest = np.nanargmax(np.nan_to_num(partials.amplitudes, nan=-1.0), axis=1)
    strongest = partials.freqs[np.arange(partials.n_frames), loudest]
    assert np.median(strongest) == pytest.approx(110.0, abs=2.0)


# --------------------------------------------------------------------------- onsets and tempo


def test_onset_envelope_peaks_at_a_note_onset():
    sfreq = 22050
    x = np.zeros(2 * sfreq)
    t = np.arange(sfreq // 2) / sfreq
    x[sfreq : sfreq + t.size] = 0.5 * np.sin(2 * np.pi * 440 * t)  # note starts at 1.0 s
    times, envelope = onset_envelope(Audio(x, sfreq), hop_length=256)
    assert times.shape == envelope.shape
    np.testing.assert_allclose(np.diff(times), 256 / sfreq)
    assert times[np.argmax(envelope)] == pytest.approx(1.0, abs=2 * 256 / sfreq)


# --------------------------------------------------------------------------- modulation spectrum


def test_6_hz_am_peaks_at_6_hz_in_theta():
    spectrum = modulation_spectrum(am_tone(6.0, 0.5))
    assert isinstance(spectrum, ModulationSpectrum)
    assert spectrum.freqs[0] >= 0.5 and spectrum.freqs[-1] <= 64.0
    assert spectrum.peak_frequency == pytest.approx(6.0, abs=spectrum.resolution)
    energy = modulation_band_energy(spectrum)
    theta = energy.names.index("theta")
    assert np.argmax(energy.relative) == theta and energy.relative[theta] > 0.9
    # Sinusoidal AM of depth m carries envelope power m^2 / 2.
    assert energy.absolute[theta] == pytest.approx(0.5**2 / 2, rel=0.05)
    assert energy.to_dict()["theta"] == {"absolute": energy.absolute[theta], "relative": energy.relative[theta]}


def test_40_hz_am_lands_in_gamma():
    energy = modulation_band_energy(modulation_spectrum(am_tone(40.0, 0.5)))
    gamma = energy.names.index("gamma")
    assert np.argmax(energy.relative) == gamma and energy.relative[gamma] > 0.9


def test_unmodulated_tone_has_almost_no_modulation_energy():
    modulated = modulation_band_energy(modulation_spectrum(am_tone(6.0, 0.5))).total
    steady = modulation_band_energy(modulation_spectrum(am_tone(6.0, 0.0))).total
    assert steady < 1e-3 * modulated


def test_modulation_spectrum_does_not_depend_on_level():
    loud = am_tone(6.0, 0.5)
    quiet = Audio(0.01 * loud.samples, loud.sfreq)
    np.testing.assert_allclose(modulation_spectrum(quiet).power, modulation_spectrum(loud).power, rtol=1e-6)


def test_too_short_for_the_resolution():
    with pytest.raises(ParameterError, match="too short"):
        modulation_spectrum(am_tone(6.0, 0.5, seconds=2.0), resolution=0.5)
    # A coarser resolution asked for explicitly is fine.
    assert modulation_spectrum(am_tone(6.0, 0.5, seconds=2.0), resolution=1.0).resolution == 1.0


def test_modulation_parameter_errors():
    with pytest.raises(ParameterError, match="fmax"):
        modulation_spectrum(am_tone(6.0, 0.5), fmax=120.0)
    with pytest.raises(DataQualityError, match="silent"):
        modulation_spectrum(Audio(np.zeros(8000 * 5), 8000))


def test_modulation_band_energy_with_custom_bands():
    spectrum = modulation_spectrum(am_tone(6.0, 0.5))
    energy = modulation_band_energy(spectrum, {"low": (0.5, 5.0), "six": (5.0, 7.5)})
    assert energy.names == ["low", "six"]
    assert energy.relative[1] > 0.9 and energy.relative[0] < 0.05
    with pytest.raises(ParameterError, match="outside the modulation spectrum"):
        modulation_band_energy(spectrum, {"high": (60.0, 100.0)})


@pytest.mark.real_data
def test_modulation_spectrum_of_real_music(shared_data):
    audio = load_audio(shared_data / TRUMPET)
    spectrum = modulation_spectrum(audio)
    energy = modulation_band_energy(spectrum)
    assert np.all(spectrum.power >= 0) and energy.total > 0
    assert 0 < energy.relative.sum() <= 1.0 + 1e-9
    assert spectrum.params["resolution"] == 0.5 and spectrum.params["envelope_sfreq"] == 256.0
