"""The parts of a live session that need no stream: scheduling, sounds, sinks, the live protocol, settings."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile

from harmonix.errors import ParameterError
from harmonix.live.online import OnlineEstimators, OnlineSettings, window_band_power
from harmonix.live.phase_lock import PhaseLockController, PhaseLockSettings, next_crossing
from harmonix.live.session import SessionWriter
from harmonix.live.sound import EventSound, ExposureLimit, WavSink
from harmonix.spectral.bandpower import band_power
from harmonix.spectral.bands import Band, load_bands
from harmonix.spectral.echt import EndpointPhase, endpoint_phase
from harmonix.spectral.psd import compute_psd

ALPHA = Band("alpha", 8.0, 13.0)


@pytest.mark.parametrize("phase,freq,target,lead", [(0.0, 10.0, 0.0, 0.0), (0.5, 10.0, 0.0, 0.02),
                                                    (-3.0, 9.0, math.pi, 0.05), (2.0, 12.5, 1.0, 0.3)])
def test_next_crossing_reaches_the_target_no_earlier_than_the_lead(phase, freq, target, lead):
    wait = next_crossing(phase, freq, target, lead)
    assert lead <= wait < lead + 1 / freq
    assert np.angle(np.exp(1j * (phase + 2 * np.pi * freq * wait - target))) == pytest.approx(0.0, abs=1e-9)


def test_controller_lands_sounds_on_the_target_phase_of_a_steady_rhythm():
    """A 10-Hz sinusoid seen hop by hop: every sound's onset is at the target phase (here the trough)."""
    sfreq, freq, target = 250.0, 10.0, math.pi
    lock = PhaseLockSettings(target_phase=target, refractory_seconds=0.5, amplitude_quantile=0.0,
                             warmup_seconds=0.0, output_latency=0.02)
    controller = PhaseLockController(lock, 0.1)
    t = np.arange(int(20 * sfreq)) / sfreq
    x = np.cos(2 * np.pi * freq * t + 0.3)
    onsets = []
    for end in range(250, t.size, 5):  # a decision every 20 ms
        estimate = endpoint_phase(x[end - 250 : end], sfreq, ALPHA)
        onset = controller.decide(t[end - 1], estimate, delay=0.004, interval=0.02)
        if onset is not None:
            onsets.append(onset)
    assert len(onsets) >= 30
    assert np.all(np.diff(onsets) >= 0.5)
    true_phase = 2 * np.pi * freq * np.asarray(onsets) + 0.3
    assert np.degrees(np.max(np.abs(np.angle(np.exp(1j * (true_phase - target)))))) < 5.0


def test_controller_conditions_warmup_threshold_refractory():
    lock = PhaseLockSettings(refractory_seconds=1.0, amplitude_quantile=0.5, warmup_seconds=2.0)
    controller = PhaseLockController(lock, 0.1)

    def est(amplitude):
        return EndpointPhase(np.array([0.0]), np.array([amplitude]), np.array([10.0]))

    assert controller.decide(0.0, est(1.0), 0.0, 0.1) is None and controller.last_reason == "warm-up"
    for k in range(1, 21):
        controller.decide(0.1 * k, est(1.0 + (k % 2)), 0.0, 0.1)  # amplitudes 1 and 2: median 1.5
    assert controller.decide(2.2, est(0.5), 0.0, 0.1) is None
    assert controller.last_reason == "amplitude below threshold"
    first = controller.decide(2.3, est(5.0), 0.0, 0.1)
    assert first is not None and controller.last_reason == "stimulate"
    assert controller.decide(2.4, est(5.0), 0.0, 0.1) is None and controller.last_reason == "refractory"


def test_event_sound_levels_and_safety():
    burst = EventSound("burst", 0.05, -20.0, 44100.0).render(seed=1)
    assert burst.size == round(0.05 * 44100)
    assert np.max(np.abs(burst)) == pytest.approx(10 ** (-20 / 20))
    assert abs(burst[0]) < 0.01 * np.max(np.abs(burst))  # raised-cosine onset, no click
    pip = EventSound("pip", 0.02, -30.0).render()
    assert np.max(np.abs(pip)) == pytest.approx(10 ** (-30 / 20))
    assert EventSound("click").render().size == 44  # 1 ms
    with pytest.raises(ParameterError, match="ceiling"):
        EventSound("burst", 0.05, 0.0)
    with pytest.raises(ParameterError, match="one of"):
        EventSound("gong")


def test_exposure_limit_counts_sound_on_time_in_any_minute():
    limit = ExposureLimit(max_duty=0.01)  # 0.6 s of sound per 60 s
    assert all(limit.allow(t, 0.1) for t in range(6))
    assert not limit.allow(6.0, 0.1)
    assert limit.allow(61.0, 0.1)  # the first sound left the window


def test_wav_sink_places_sounds_on_the_session_clock(tmp_path):
    sink = WavSink(tmp_path / "a.wav", 1000.0)
    sound = np.full(10, 0.5)
    sink.schedule(0.1234, sound, "stim/x")
    sink.schedule(0.5, sound, "stim/y")
    started = sink.advance(0.3)
    assert [p.label for p in started] == ["stim/x"]
    assert [p.label for p in sink.cancel_from(0.4)] == ["stim/y"]  # a gap from 0.4 s: never played
    sink.advance(1.0)
    sink.schedule(0.0, np.full(5, 3.0), "too loud")  # in the past: ignored, nothing rewritten
    sink.close()
    audio, sr = soundfile.read(tmp_path / "a.wav")
    assert sr == 1000 and audio.size == 1000
    assert np.flatnonzero(audio).tolist() == list(range(123, 133))
    assert np.max(np.abs(audio)) <= 10 ** (-1 / 20)


def test_wav_sink_clamps_at_the_ceiling(tmp_path):
    sink = WavSink(tmp_path / "a.wav", 1000.0)
    sink.schedule(0.0, np.full(10, 2.0), "loud")
    sink.advance(0.1)
    sink.close()
    audio, _ = soundfile.read(tmp_path / "a.wav")
    assert np.max(np.abs(audio)) == pytest.approx(10 ** (-1 / 20), rel=1e-6)
    assert sink.clamped == 10


def test_online_settings_refuse_a_rate_too_low_for_a_band():
    with pytest.raises(ParameterError, match="Nyquist|too low|reaches"):
        OnlineSettings(sfreq=20.0, ch_names=("Oz",), bands=(Band("delta", 1.0, 4.0),), phase_band=ALPHA,
                       phase_channels=("Oz",))
    with pytest.raises(ParameterError, match="not in the stream"):
        OnlineSettings(sfreq=250.0, ch_names=("Oz",), bands=load_bands(), phase_band=ALPHA, phase_channels=("Cz",))


def test_online_band_power_is_the_offline_estimator(rng):
    settings = OnlineSettings(sfreq=250.0, ch_names=("a", "b", "c"), bands=load_bands(), cdns_seconds=None)
    window = rng.standard_normal((3, 1000)) * 1e-5
    absolute, relative = window_band_power(window, settings)
    offline = band_power(compute_psd(window, 250.0, window_seconds=2.0))
    np.testing.assert_array_equal(absolute, offline.absolute.mean(axis=0))
    values = OnlineEstimators(settings).update(window, 0.0)
    assert values["power_alpha"] == offline.absolute[:, 2].mean()


def test_session_writer_round_trips_samples_exactly_and_leaves_nothing_on_discard(tmp_path, rng):
    import mne

    info = mne.create_info(["Oz", "Cz"], 250.0, "eeg")
    for ch in info["chs"]:
        ch["cal"] = 1e-6  # an LSL stream in microvolts comes with this calibration
    writer = SessionWriter(tmp_path / "s", info)
    data = rng.standard_normal((300, 2)) * 1e-5
    writer.append(data[:100])
    writer.add_gap(50, 0.0)
    writer.append(data[100:])
    writer.event(0.5, 0.05, 1.0, "stimulus", "stim/burst", annotate=True)
    out = writer.close({"x": 1})
    raw = mne.io.read_raw_fif(out / "eeg_raw.fif", verbose="error")
    got = raw.get_data()
    np.testing.assert_array_equal(got[:, :100], data[:100].T)
    np.testing.assert_array_equal(got[:, 150:], data[100:].T)
    assert np.all(got[:, 100:150] == 0)
    assert list(raw.annotations.description) == ["BAD_ACQ_SKIP", "stim/burst"]
    assert raw.annotations.duration[0] == pytest.approx(0.2)
    assert not list(tmp_path.glob("*.partial-*"))
    other = SessionWriter(tmp_path / "t", info)
    other.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_live_protocol_pause_resume_volume_and_segments():
    from harmonix.live.protocol_live import LiveProtocol

    proto = LiveProtocol("theta-harmonic", sfreq=8000.0, seconds=30.0)
    first = proto(8000, 0.0)
    assert np.max(np.abs(first)) > 0
    proto.command(" ")
    assert np.all(proto(4000) == 0) and proto.time == pytest.approx(1.0)  # paused: the clock stands still
    proto.command(" ")
    proto.command("-")
    proto.command("+")
    proto.command("+")  # never above the safe rendered level
    assert proto.volume_db == 0.0
    while not proto.finished:
        proto(8000, None)
    events = proto.drain()
    segments = [(text, at) for kind, text, at in events if kind == "segment"]
    assert [text for text, _ in segments] == [proto.segment_label(i) for i in range(len(proto.protocol.segments))]
    assert segments[0][1] == 0.0  # the first block's start time was given: exact onset
    assert ("control", "paused", None) in events and ("control", "resumed", None) in events
    assert events[-1][:2] == ("protocol", "finished")
    assert proto.drain() == []


def test_live_view_summaries():
    from harmonix.live.view import locking_summary, sparkline

    assert sparkline([0.0, 1.0, 2.0, float("nan")]) == "▁▅█"
    assert sparkline([]) == ""
    assert locking_summary([]) == "no sound measured yet"
    assert locking_summary([0.5, -0.5]) == "2 sounds, R=0.88, mean error +0 deg"  # cos(0.5)


def test_wav_sink_fades_a_continuous_source_out_at_the_end(tmp_path):
    sink = WavSink(tmp_path / "a.wav", 1000.0)
    sink.source = lambda n, start: np.full(n, 0.5)
    sink.advance(1.0)
    sink.close(0.5)
    audio, _ = soundfile.read(tmp_path / "a.wav")
    assert audio.size == 1500
    np.testing.assert_allclose(audio[:1000], 0.5)
    assert np.all(np.diff(audio[1000:]) <= 1e-7) and audio[-1] < 0.001  # a falling half-cosine to silence


def test_split_gap_measures_gaps_and_marks_clock_discontinuities():
    from harmonix.live.lsl import Chunk, split_gap

    def chunk(t0):
        return Chunk(np.zeros((10, 1)), t0 + np.arange(10) / 100.0, 0.0)

    assert split_gap(None, chunk(5.0), 100.0) == 0
    assert split_gap(4.99, chunk(5.0), 100.0) == 0  # the next sample
    assert split_gap(4.99, chunk(5.02), 100.0) == 0  # jitter within the tolerance
    assert split_gap(1.99, chunk(5.0), 100.0) == 300  # 3 s missing
    assert split_gap(9.0, chunk(5.0), 100.0) == -1  # backwards: another clock
    assert split_gap(0.0, chunk(5000.0), 100.0) == -1  # hours ahead: another clock


def test_exposure_refund_and_device_index():
    from harmonix.cli_live import _device

    limit = ExposureLimit(max_duty=0.01)
    assert all(limit.allow(t, 0.1) for t in range(6))
    limit.refund(5)
    assert limit.allow(6.0, 0.1)
    assert _device("3") == 3 and _device("USB Audio") == "USB Audio" and _device(None) is None
