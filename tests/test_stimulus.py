"""harmonix.stimulus: primitives, protocols, safety, rendering, playback, verification (issue 5)."""

from __future__ import annotations

import json
import sys
import textwrap
import tracemalloc
import types

import numpy as np
import pyloudnorm
import pytest
import scipy.signal
import soundfile as sf

from harmonix.errors import HarmonixError, InputFileError, ParameterError
from harmonix.stimulus import (
    check_rendered,
    format_presets,
    list_presets,
    load_preset,
    parse_protocol_text,
    play_protocol,
    render_protocol,
)
from harmonix.stimulus import primitives as prim
from harmonix.stimulus import render as R
from harmonix.stimulus.safety import LoudnessMeter, StimulusWarning, TruePeakMeter
from harmonix.stimulus.verify import carrier_frequencies

PRESETS = ["alpha-am-music", "binaural-descent", "gamma-40hz", "pink-bursts", "theta-harmonic"]
PREVIEW_S = 120.0


def _proto(body: str, safety: str = "") -> str:
    return textwrap.dedent(safety) + textwrap.dedent(body)


AM_TONE = """
[[segments]]
duration = {dur}
[[segments.voices]]
type = "am"
carrier = 1000
rate = 40
depth = 1.0
"""

# ------------------------------------------------------------------ primitives


@pytest.mark.parametrize("make", [
    lambda sr: (prim.Tone(sr, harmonics=[1, 0.5, 0.25]), {"freq": prim.Schedule([(0, 300), (1, 500)])}),
    lambda sr: (prim.Isochronic(sr), {"carrier": 400.0, "rate": prim.Schedule([(0, 10), (1, 4)], "smooth")}),
    lambda sr: (prim.Binaural(sr), {"carrier": 200.0, "beat": prim.Schedule([(0, 10), (1, 4)])}),
    lambda sr: (prim.AmplitudeModulation(sr), {"carrier": 500.0, "rate": 40.0, "depth": 0.8}),
    lambda sr: (prim.Clicks(sr), {"rate": 40.0}),
    lambda sr: (prim.Noise(sr, color="pink", seed=3), {}),
    lambda sr: (prim.Bursts(sr, color="brown", seed=3), {"rate": 2.0}),
    lambda sr: (prim.Stack(sr, partials=5, n_rhythms=2), {"f0": 110.0, "depth": 1.0, "rhythms": [5.0, 3.5]}),
])
def test_blocks_are_continuous_whatever_the_block_size(make):
    """Any block size gives the same samples: phases and filter states carry across blocks."""
    sr = 8000
    v1, params = make(sr)
    v2, _ = make(sr)
    a = np.concatenate(list(prim.voice_blocks(v1, 1.0, block=8000, **params)), axis=1)
    b = np.concatenate(list(prim.voice_blocks(v2, 1.0, block=777, **params)), axis=1)
    assert a.dtype == np.float32 and a.shape == b.shape and a.shape[1] == sr
    np.testing.assert_allclose(a, b, atol=2e-5)


def test_binaural_generator_and_schedule_slide():
    blocks = list(prim.binaural(200.0, 6.0, 4.0, sfreq=8000))
    x = np.concatenate(blocks, axis=1)
    assert x.shape == (2, 32000)
    f = np.fft.rfftfreq(x.shape[1], 1 / 8000)
    assert f[np.argmax(np.abs(np.fft.rfft(x[0])))] == pytest.approx(197.0, abs=0.25)
    assert f[np.argmax(np.abs(np.fft.rfft(x[1])))] == pytest.approx(203.0, abs=0.25)
    assert prim.Schedule([(0, 10.0), (300, 4.0)])(np.array([150.0]))[0] == pytest.approx(7.0)


def test_isochronic_gate_is_smooth():
    """Raised-cosine gate edges: no sample-to-sample jump of the gate larger than a cosine step."""
    g = prim._smooth_gate(np.linspace(0, 1, 10001), 0.5, 0.1)
    assert g.max() == pytest.approx(1.0) and g.min() == 0.0
    assert np.max(np.abs(np.diff(g))) < 0.002


def test_pink_noise_slope():
    x = np.concatenate(list(prim.noise("pink", 20.0, sfreq=44100, seed=1)), axis=1)[0]
    f, p = scipy.signal.welch(x, fs=44100, nperseg=8192)
    band = (f > 50) & (f < 10000)
    slope = np.polyfit(np.log10(f[band]), 10 * np.log10(p[band]), 1)[0]
    assert slope == pytest.approx(-10 * np.log10(2) / np.log10(2), abs=0.7)  # -3 dB/octave = -10 dB/decade
    assert np.sqrt(np.mean(x ** 2)) == pytest.approx(prim.NOISE_RMS, rel=0.1)


def test_music_is_streamed_looped_and_resampled(tmp_path):
    sr_file = 22050
    t = np.arange(sr_file) / sr_file
    sf.write(tmp_path / "m.wav", 0.5 * np.sin(2 * np.pi * 300 * t), sr_file)
    x = np.concatenate(list(prim.amplitude_modulation(8.0, 3.0, music=tmp_path / "m.wav", depth=0.0, sfreq=44100)),
                       axis=1)
    assert x.shape == (1, 3 * 44100)  # 1 s file looped three times, resampled
    f = np.fft.rfftfreq(x.shape[1], 1 / 44100)
    assert f[np.argmax(np.abs(np.fft.rfft(x[0])))] == pytest.approx(300.0, abs=0.5)
    with pytest.raises(InputFileError, match="does not exist"):
        prim.MusicStream(tmp_path / "missing.wav", 44100)


# ------------------------------------------------------------------ meters


def test_loudness_meter_matches_pyloudnorm(rng):
    x = 0.1 * rng.standard_normal((2, 44100 * 6))
    x[:, 44100 * 2: 44100 * 3] *= 0.01  # a quiet second exercises the gating
    meter = LoudnessMeter(44100, 2)
    for i in range(0, x.shape[1], 7001):
        meter.update(x[:, i: i + 7001])
    assert meter.integrated == pytest.approx(pyloudnorm.Meter(44100).integrated_loudness(x.T), abs=0.02)


def test_true_peak_sees_intersample_peaks():
    """A sine at fs/4 sampled 45 degrees off its crest: sample peak 0.707, true peak 1 (+3 dB)."""
    n = np.arange(44100)
    x = np.sin(2 * np.pi * n / 4 + np.pi / 4)[np.newaxis]
    meter = TruePeakMeter(1)
    for i in range(0, x.shape[1], 1000):
        meter.update(x[:, i: i + 1000].astype(np.float32))
    assert meter.sample_peak_dbfs == pytest.approx(-3.01, abs=0.01)
    assert meter.true_peak_dbfs == pytest.approx(0.0, abs=0.1)


# ------------------------------------------------------------------ presets


def test_list_presets_one_per_line():
    presets = list_presets()
    assert sorted(presets) == PRESETS
    lines = format_presets().splitlines()
    assert len(lines) == len(PRESETS)
    for line, name in zip(lines, PRESETS):
        assert line.startswith(name) and len(line.split(None, 1)[1]) > 10
    assert load_preset("gamma-40hz").duration == 3600
    with pytest.raises(ParameterError, match="unknown preset"):
        load_preset("nope")


@pytest.mark.parametrize("name", PRESETS)
def test_preset_renders_and_matches_its_schedule(name, tmp_path):
    out = tmp_path / f"{name}.wav"
    with pytest.warns(StimulusWarning) if name == "alpha-am-music" else _no_warning():
        res = render_protocol(name, out, seconds=PREVIEW_S, progress=False)
    info = sf.info(str(out))
    assert info.frames == int(PREVIEW_S * 44100) == res.n_samples and info.channels == 2
    meta = json.loads(res.sidecar.read_text())
    assert meta["measured"]["loudness_lufs"] == pytest.approx(res.loudness_lufs)
    assert meta["protocol"]["name"] == name and "harmonix" in meta["versions"]
    if name == "alpha-am-music":
        assert any("built-in carrier" in w for w in meta["warnings"])

    check = check_rendered(out)  # the protocol comes from the sidecar
    proto = load_preset(name)
    assert check.true_peak_dbfs <= proto.peak_dbfs + 0.05
    assert abs(check.loudness_lufs - proto.loudness_lufs) <= 1.0
    assert check.fade_in_ok and check.fade_out_ok
    rhythmic = [s for s in check.segments if not np.isnan(s.planned_hz)]
    assert rhythmic and all(s.n_windows > 0 for s in rhythmic), check.report()
    for s in rhythmic:
        assert s.median_abs_error_hz <= 0.1, check.report()
    assert check.ok, check.report()
    # fades: first and last 5 s quieter than the plateau
    x, sr = sf.read(str(out))
    def rms(a):
        return np.sqrt(np.mean(a**2))

    mid = rms(x[len(x) // 2 - 5 * sr: len(x) // 2 + 5 * sr])
    assert rms(x[: 5 * sr]) < mid and rms(x[-5 * sr:]) < mid


class _no_warning:
    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error", StimulusWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def test_binaural_carriers_differ_by_the_beat(tmp_path):
    text = _proto("""
    [[segments]]
    duration = 30
    [[segments.voices]]
    type = "binaural"
    carrier = 250
    beat = 6.5
    """)
    res = render_protocol(parse_protocol_text(text), tmp_path / "b.flac", progress=False)
    left, right = carrier_frequencies(res.path, 10.0, 10.0)
    assert right - left == pytest.approx(6.5, abs=0.005)
    assert (left + right) / 2 == pytest.approx(250.0, abs=0.005)
    check = check_rendered(res.path)
    assert check.segments[0].measured_hz == pytest.approx(6.5, abs=0.05)


def test_binaural_to_mono_warns(tmp_path):
    text = _proto("""
    channels = 1
    [[segments]]
    duration = 30
    [[segments.voices]]
    type = "binaural"
    beat = 5
    """)
    with pytest.warns(StimulusWarning, match="binaural voice rendered to mono"):
        res = render_protocol(parse_protocol_text(text), tmp_path / "m.wav", progress=False)
    assert sf.info(str(res.path)).channels == 1


def test_music_file_is_modulated(tmp_path, rng):
    sf.write(tmp_path / "music.wav", 0.3 * rng.standard_normal((44100 * 3, 2)), 44100)
    res = render_protocol("alpha-am-music", tmp_path / "am.wav", seconds=60, music=tmp_path / "music.wav",
                          progress=False)
    assert not any("built-in carrier" in w for w in res.warnings)
    check = check_rendered(res.path)
    assert check.ok, check.report()


# ------------------------------------------------------------------ streaming and memory


def _render_peak_bytes(tmp_path, seconds: int) -> int:
    proto = parse_protocol_text(AM_TONE.format(dur=seconds))
    tracemalloc.start()
    try:
        res = render_protocol(proto, tmp_path / f"t{seconds}.wav", progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sf.info(str(res.path)).frames == seconds * 44100
    return peak


def test_render_memory_does_not_grow_with_duration(tmp_path):
    short = _render_peak_bytes(tmp_path, 120)
    long = _render_peak_bytes(tmp_path, 600)
    # the meters hold a fixed histogram; blocks dominate
    assert long < short * 1.05 + 20_000, (short, long)
    assert long < 20_000_000


# ------------------------------------------------------------------ bad input


BASE = """
[[segments]]
duration = 30
[[segments.voices]]
type = "binaural"
beat = 6
"""


@pytest.mark.parametrize("text, error, pattern", [
    ("[[segments]\nduration = 3", InputFileError, r"malformed TOML.*line 1"),
    (BASE.replace('"binaural"', '"theremin"'), ParameterError, r"line 5.*segments\[0\]\.voices\[0\]\.type.*unknown voice"),
    (BASE.replace("duration = 30", "duration = -5"), ParameterError, r"segments\[0\]\.duration.*> 0"),
    (BASE.replace("beat = 6", "beat = 45"), ParameterError,
     r"segments\[0\]\.voices\[0\]\.beat \(line 6\): 45 Hz is outside the allowed range \[0\.5, 40\]"),
    (BASE.replace("beat = 6", "beat = [10, 250]"), ParameterError, r"voices\[0\]\.beat.*\[0, 200\]"),
    (BASE + "level = -0.5\n", ParameterError, r"voices\[0\]\.level.*above the peak ceiling -1 dBFS"),
    (BASE + "carrier = 30000\n", ParameterError, r"voices\[0\]\.carrier.*\[20, 16000\]"),
    (BASE.replace("beat = 6", "beat = 6\nwobble = 2"), ParameterError, r"voices\[0\]\.wobble.*unknown parameter"),
    ("[safety]\nloudness_lufs = -8\n" + BASE, ParameterError, r"safety\.loudness_lufs.*-14 LUFS"),
    ("[safety]\nfade_in = 1\n" + BASE, ParameterError, r"safety\.fade_in.*5 s minimum"),
])
def test_bad_protocols_name_the_field_and_leave_no_file(tmp_path, text, error, pattern):
    src = tmp_path / "bad.toml"
    src.write_text(text)
    out = tmp_path / "out" / "x.wav"
    out.parent.mkdir()
    with pytest.raises(error, match=pattern) as info:
        render_protocol(src, out, progress=False)
    assert "\n" not in str(info.value)
    assert list(out.parent.iterdir()) == []


def test_override_renders_outside_the_limits(tmp_path):
    src = tmp_path / "over.toml"
    src.write_text(BASE.replace("beat = 6", "beat = 45"))
    with pytest.warns(StimulusWarning, match="override"):
        res = render_protocol(src, tmp_path / "o.wav", override=True, progress=False)
    assert res.path.is_file()


def test_missing_music_file_names_the_field(tmp_path):
    out = tmp_path / "x.wav"
    with pytest.raises(InputFileError, match=r"segments\[0\]\.voices\[0\]\.music.*does not exist"):
        render_protocol("alpha-am-music", out, seconds=30, music=tmp_path / "nope.flac", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_render_leaves_no_partial_file(tmp_path, monkeypatch):
    real = R._mix  # the voice mix feeds every synthesis pass (measure, then write)
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        for i, b in enumerate(real(*args, **kwargs)):
            if calls["n"] == 2 and i == 5:  # during the writing pass
                raise KeyboardInterrupt
            yield b

    monkeypatch.setattr(R, "_mix", flaky)
    out = tmp_path / "new" / "x.wav"
    with pytest.raises(KeyboardInterrupt):
        render_protocol(parse_protocol_text(BASE), out, progress=False)
    assert calls["n"] == 2
    assert list(tmp_path.iterdir()) == []  # neither the partial file nor the folder made for it


def test_bad_output_extension(tmp_path):
    with pytest.raises(ParameterError, match=r"\.wav or \.flac"):
        render_protocol(parse_protocol_text(BASE), tmp_path / "x.mp3", progress=False)


# ------------------------------------------------------------------ playback


def test_play_without_output_device_is_a_one_line_error():
    """On this machine (as on CI) there is no sound card: a clear one-line HarmonixError."""
    proto = parse_protocol_text(BASE)
    try:
        import sounddevice as sd

        devices = [d for d in sd.query_devices() if d["max_output_channels"] > 0]
    except (OSError, ImportError):
        devices = []
    if devices:
        pytest.skip("an audio output device is present")
    with pytest.raises(HarmonixError, match="cannot play") as info:
        play_protocol(proto, seconds=10)
    assert "\n" not in str(info.value)


def test_play_without_portaudio(monkeypatch):
    """sounddevice raises OSError at import when libportaudio is missing."""

    class Finder:
        def find_module(self, name, path=None):  # pragma: no cover - legacy hook
            return None

        def find_spec(self, name, path=None, target=None):
            if name == "sounddevice":
                raise OSError("PortAudio library not found")
            return None

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Finder(), *sys.meta_path])
    with pytest.raises(HarmonixError, match="PortAudio library not found.*libportaudio2"):
        play_protocol(parse_protocol_text(BASE))


def test_ctrl_c_fades_out(monkeypatch):
    """KeyboardInterrupt during playback: a short falling fade is written, then the stream closes."""
    written = []

    class Stream:
        def __init__(self, **kw):
            self.closed = False

        def start(self):
            pass

        def write(self, data):
            if len(written) == 3:
                written.append(None)
                raise KeyboardInterrupt
            written.append(data.copy())

        def abort(self):
            pass

        def close(self):
            self.closed = True

    fake = types.SimpleNamespace(OutputStream=Stream)
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    with pytest.raises(KeyboardInterrupt):
        play_protocol(parse_protocol_text(BASE), stop_fade=0.2)
    fade = np.concatenate([w for w in written[4:]], axis=0)
    assert fade.shape[0] == int(0.2 * 44100)
    assert np.abs(fade[-200:]).max() < 0.01 * np.abs(fade[:2000]).max() + 1e-6
