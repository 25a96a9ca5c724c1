"""``harmonix live`` and ``harmonix stream`` over a real loopback LSL stream.

One session serves the acceptance checks: the EEGLAB sample recording (clear
alpha) is played by mne-lsl's player exactly as ``harmonix stream`` plays it,
``harmonix live --dry-run`` runs as a user starts it (a subprocess) with
phase-locked bursts at the alpha peak, and the player is stopped for 3 s in
the middle and started again. A marker inlet in this process records what
the session publishes.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
import time
import uuid
from types import SimpleNamespace

import mne
import numpy as np
import pytest
import soundfile

from harmonix.harmonics.decompose import sensor_decomposition
from harmonix.harmonics.model import default_harmonic_model
from harmonix.live.online import default_phase_channels
from harmonix.live.player import open_player, recording_for_stream
from harmonix.proxies.energy import harmonic_energy_trace
from harmonix.spectral.bandpower import band_power
from harmonix.spectral.bands import Band, load_bands
from harmonix.spectral.filterbank import analytic_signal
from harmonix.spectral.psd import compute_psd

pytestmark = [pytest.mark.slow]

ALPHA = Band("alpha", 8.0, 13.0)
SESSION_SECONDS = 60.0
STOP_AFTER = 20.0  # s after `harmonix live` starts
STOP_FOR = 3.0


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "harmonix.cli", *args]


def _name() -> str:
    return f"hx-test-{uuid.uuid4().hex[:8]}"


def _read_tsv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="module")
def session(shared_data, tmp_path_factory):
    from mne_lsl.lsl import StreamInlet, resolve_streams

    raw = recording_for_stream(shared_data / "eeglab_data.set")
    name = _name()
    out = tmp_path_factory.mktemp("live") / "session"
    player = open_player(raw, name=name)
    live = subprocess.Popen(_cli("-q", "live", "--name", name, "--dry-run", "--out", str(out), "--duration",
                                 str(SESSION_SECONDS), "--phase-band", "alpha", "--target-phase", "0", "--event",
                                 "burst", "--refractory", "0.6", "--timeout", "20"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    markers, inlet = [], None
    try:
        found = resolve_streams(timeout=30, name=f"{name}-harmonix")
        if found:
            inlet = StreamInlet(found[0])
            inlet.open_stream(timeout=10)

        def pull(until: float) -> None:
            while time.monotonic() < until and live.poll() is None:
                if inlet is not None:
                    samples, _ = inlet.pull_chunk(timeout=0.05)
                    markers.extend(s[0] for s in samples)
                else:
                    time.sleep(0.05)

        pull(started + STOP_AFTER)
        player.stop()
        pull(time.monotonic() + STOP_FOR)
        player = open_player(raw, name=name)
        pull(time.monotonic() + 120)
        stdout, stderr = live.communicate(timeout=60)
    finally:
        player.stop()
        if live.poll() is None:
            live.kill()
    return SimpleNamespace(out=out, code=live.returncode, stdout=stdout, stderr=stderr, markers=markers)


@pytest.fixture(scope="module")
def recorded(session):
    raw = mne.io.read_raw_fif(session.out / "eeg_raw.fif", preload=True, verbose="error")
    params = json.loads((session.out / "params.json").read_text())
    state = _read_tsv(session.out / "state.tsv")
    eeg = raw.copy().pick("eeg")
    return SimpleNamespace(raw=raw, eeg=eeg, data=eeg.get_data(), sfreq=raw.info["sfreq"], params=params,
                           state=state, annotations=raw.annotations)


def test_session_ends_cleanly_with_a_complete_folder(session, recorded):
    assert session.code == 0, session.stderr
    assert session.stderr == "", session.stderr
    assert "sounds" in session.stdout and "1 gaps" in session.stdout
    names = {p.name for p in session.out.iterdir()}
    assert names == {"eeg_raw.fif", "events.tsv", "state.tsv", "stimulus.wav", "params.json"}
    assert not list(session.out.parent.glob("*.partial-*"))
    assert recorded.raw.n_times == round(SESSION_SECONDS * recorded.sfreq)
    assert recorded.params["stream"]["sfreq"] == 128.0
    assert recorded.params["command"].startswith("harmonix -q live --name")


def test_online_band_power_and_energy_equal_the_offline_estimators(recorded):
    """Acceptance 1: every state row's band power and energy, recomputed by the offline functions on the
    same window of the recorded FIF, agree to 1e-9 relative."""
    sfreq, data = recorded.sfreq, recorded.data
    n_window = int(round(recorded.params["online"]["window_seconds"] * sfreq))
    n_energy = int(round(recorded.params["online"]["energy_seconds"] * sfreq))
    bands = load_bands()
    model = default_harmonic_model()
    first = int(round(recorded.params["harmonics"]["regularised_on_window_ending_at"] * sfreq))
    basis = model.basis
    decomposition = sensor_decomposition(model.connectome.leadfield, model.connectome.sensor_names,
                                         basis.eigenvectors, basis.eigenvalues, recorded.eeg.ch_names,
                                         data[:, first - n_window + 1 : first + 1])
    rows = np.asarray(decomposition.match.recording_indices)
    worst_power = worst_energy = 0.0
    for row in recorded.state:
        end = int(row["sample"]) + 1
        window = data[:, end - n_window : end]
        offline = band_power(compute_psd(window, sfreq, window_seconds=2.0), bands).absolute.mean(axis=0)
        for b, band in enumerate(bands):
            worst_power = max(worst_power, abs(float(row[f"power_{band.name}"]) / offline[b] - 1))
        coefficients = decomposition.inverse.apply(window[rows, -n_energy:])
        _, energy = harmonic_energy_trace(coefficients, decomposition.eigenvalues, sfreq, window_seconds=1.0)
        worst_energy = max(worst_energy, abs(float(row["energy"]) / energy[0] - 1))
    print(f"{len(recorded.state)} hops: worst relative difference band power {worst_power:.1e}, "
          f"energy {worst_energy:.1e}")
    assert len(recorded.state) > 200
    assert worst_power <= 1e-9 and worst_energy <= 1e-9


def _gap(recorded):
    gaps = [(o, d) for o, d, desc in zip(recorded.annotations.onset, recorded.annotations.duration,
                                         recorded.annotations.description) if desc == "BAD_ACQ_SKIP"]
    assert len(gaps) == 1
    return gaps[0]


def _reference_phase(recorded):
    picks = list(default_phase_channels(recorded.eeg.ch_names))
    x = recorded.eeg.get_data(picks=picks).mean(axis=0, keepdims=True)
    return np.asarray(analytic_signal(x, recorded.sfreq, ALPHA)).reshape(-1)


def _clear_of_gap(times, recorded, margin=2.0):
    onset, duration = _gap(recorded)
    return (times < onset - margin) | (times > onset + duration + margin)


def test_online_phase_against_offline_zero_phase(recorded):
    """Acceptance 2, first half, on the session itself: the phase at each hop's newest sample."""
    z = _reference_phase(recorded)
    samples = np.array([int(r["sample"]) for r in recorded.state])
    phases = np.array([float(r["phase"]) for r in recorded.state])
    times = samples / recorded.sfreq
    keep = _clear_of_gap(times, recorded) & (times < recorded.raw.times[-1] - 2.0)
    strong = np.abs(z[samples]) > np.median(np.abs(z))
    error = np.exp(1j * (phases - np.angle(z[samples])))[keep & strong]
    mean, length = math.degrees(np.angle(error.mean())), abs(error.mean())
    print(f"online alpha phase: circular mean error {mean:+.1f} deg, circular SD "
          f"{math.degrees(math.sqrt(-2 * math.log(length))):.1f} deg over {error.size} hops")
    assert abs(mean) <= 10.0


def test_bursts_land_on_the_target_phase(recorded):
    """Acceptance 2, second half: the delivered bursts' true phase, measured offline at their onsets."""
    z = _reference_phase(recorded)
    ann = recorded.annotations
    onsets = np.array([o for o, d in zip(ann.onset, ann.description) if d == "stim/burst"])
    keep = _clear_of_gap(onsets, recorded) & (onsets < recorded.raw.times[-1] - 2.0)
    index = np.round(onsets[keep] * recorded.sfreq).astype(int)
    strong = np.abs(z[index]) > np.median(np.abs(z))
    phases = np.exp(1j * np.angle(z[index]))[strong]
    mean, length = math.degrees(np.angle(phases.mean())), abs(phases.mean())
    print(f"{onsets.size} bursts, {phases.size} at above-median alpha: circular mean {mean:+.1f} deg "
          f"(target 0), resultant length {length:.2f}")
    assert phases.size >= 25
    assert abs(mean) <= 20.0
    assert length >= 0.6


def test_dropout_is_a_gap_without_stimulation(session, recorded):
    """Acceptance 4: the player stopped for 3 s: one gap annotation, no sound inside it, the session goes on."""
    onset, duration = _gap(recorded)
    print(f"gap at {onset:.2f} s lasting {duration:.2f} s (player stopped for {STOP_FOR:g} s)")
    assert STOP_FOR - 0.1 <= duration <= STOP_FOR + 2.0
    ann = recorded.annotations
    stims = [o for o, d in zip(ann.onset, ann.description) if d.startswith("stim/")]
    assert not [o for o in stims if onset <= o < onset + duration]
    assert np.all(recorded.raw.get_data()[:, round(onset * recorded.sfreq) : round((onset + duration) * recorded.sfreq)] == 0)
    assert any(o > onset + duration for o in stims)  # stimulation resumed after the gap
    events = _read_tsv(session.out / "events.tsv")
    texts = [e["description"] for e in events]
    assert "stream stalled" in texts and "stream resumed" in texts
    # no decision was taken on a window that reached into the gap
    n_window = int(round(recorded.params["online"]["window_seconds"] * recorded.sfreq))
    for row in recorded.state:
        end = int(row["sample"]) + 1
        assert end <= round(onset * recorded.sfreq) or end - n_window >= round((onset + duration) * recorded.sfreq)


def test_dry_run_audio_is_sample_aligned_and_markers_were_published(session, recorded):
    audio, sr = soundfile.read(session.out / "stimulus.wav")
    assert audio.size == pytest.approx(recorded.raw.times[-1] * sr, abs=sr * 0.05)
    assert np.max(np.abs(audio)) <= 10 ** (-1 / 20)
    ann = recorded.annotations
    onsets = [o for o, d in zip(ann.onset, ann.description) if d == "stim/burst"]
    assert onsets
    from harmonix.live.sound import EventSound

    burst = EventSound("burst", 0.05, -20.0, sr).render(seed=0).astype(np.float32)
    for onset in onsets:
        # the rendered burst where the annotation says (to the audio sample: the FIF keeps onsets in
        # float32-rounded seconds), silence just before
        first = round(onset * sr)
        shift = [k for k in (0, -1, 1) if np.array_equal(audio[first + k : first + k + burst.size], burst)]
        assert shift, f"no burst at {onset:.6f} s"
        assert np.all(audio[max(0, first + shift[0] - 20) : first + shift[0]] == 0)
    assert session.markers.count("stim/burst") >= len(onsets)
    assert any(m.startswith("gap:") for m in session.markers)


@pytest.mark.real_data
def test_analyze_reads_the_session_with_its_events_as_conditions(session, tmp_path):
    out = tmp_path / "analysis"
    run = subprocess.run(_cli("-q", "analyze", str(session.out / "eeg_raw.fif"), "--out", str(out),
                              "--conditions", "burst=stim", "--tmin", "-0.2", "--tmax", "0.8"),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    import pandas as pd

    metrics = pd.read_csv(next(out.rglob("metrics.csv")))
    assert "burst" in set(metrics["condition"].dropna())


def test_harmonix_stream_publishes_the_file_sample_for_sample(shared_data):
    """``harmonix stream FILE`` as a user starts it: what arrives is the file, in volts, in order."""
    from harmonix.live.lsl import EEGInlet

    name = _name()
    stream = subprocess.Popen(_cli("-q", "stream", str(shared_data / "eegmmidb_S001R01.edf"), "--name", name,
                                   "--seconds", "12"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        inlet = EEGInlet(name=name, timeout=20).open()
        received = []
        until = time.monotonic() + 3.0
        while time.monotonic() < until:
            received.extend(c.data for c in inlet.pull())
            time.sleep(0.01)
        inlet.close()
    finally:
        stdout, stderr = stream.communicate(timeout=60)
    assert stream.returncode == 0, stderr
    data = np.concatenate(received)
    assert data.shape[0] > 160 and data.shape[1] == 64
    file = recording_for_stream(shared_data / "eegmmidb_S001R01.edf").get_data()
    start = int(np.flatnonzero(np.all(file.T == data[0], axis=1))[0])
    np.testing.assert_array_equal(data, file[:, start : start + data.shape[0]].T)


# ---- bad input: one line, exit 2, no session folder
@pytest.fixture
def play_array():
    players = []

    def play(data, sfreq, ch_types):
        info = mne.create_info([f"C{i}" if t != "eeg" else n for i, (n, t) in
                                enumerate(zip(("Oz", "O1", "O2", "Pz", "Cz", "Fz"), ch_types))], sfreq, ch_types)
        raw = mne.io.RawArray(data, info, verbose="error")
        name = _name()
        players.append(open_player(raw, name=name))
        return name

    yield play
    for p in players:
        p.stop()


def _bad_live(tmp_path, *args):
    out = tmp_path / "session"
    run = subprocess.run(_cli("live", "--out", str(out), *args), capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("harmonix: error: "), run.stderr
    assert not out.exists() and not list(tmp_path.glob("*.partial-*"))
    return lines[0]


def test_no_stream_found(tmp_path):
    line = _bad_live(tmp_path, "--name", _name(), "--timeout", "1", "--dry-run")
    assert "no LSL stream with name" in line and "within 1 s" in line


def test_stream_without_eeg_channels(tmp_path, play_array, rng):
    name = play_array(rng.standard_normal((3, 2500)), 250.0, ["misc"] * 3)
    assert "has no EEG channel" in _bad_live(tmp_path, "--name", name, "--dry-run")


def test_sampling_rate_too_low_for_the_band(tmp_path, play_array, rng):
    name = play_array(rng.standard_normal((4, 400)) * 1e-5, 20.0, ["eeg"] * 4)
    line = _bad_live(tmp_path, "--name", name, "--dry-run", "--bands", "delta", "--phase-band", "alpha",
                     "--target-phase", "0", "--no-harmonics")
    assert "20 Hz is too low for the alpha band" in line


def test_audio_device_that_does_not_exist(tmp_path, play_array, rng):
    name = play_array(rng.standard_normal((4, 2500)) * 1e-5, 250.0, ["eeg"] * 4)
    line = _bad_live(tmp_path, "--name", name, "--device", "no-such-device-42", "--no-harmonics")
    assert "cannot play" in line


def test_protocol_outside_the_safety_limits(tmp_path, play_array, rng):
    protocol = tmp_path / "loud.toml"
    protocol.write_text('name = "loud"\n[safety]\npeak_dbfs = 0.0\n[[segments]]\nduration = 60\n'
                        '[[segments.voices]]\ntype = "tone"\nfreq = 440\nlevel = -12\n')
    name = play_array(rng.standard_normal((4, 2500)) * 1e-5, 250.0, ["eeg"] * 4)
    line = _bad_live(tmp_path, "--name", name, "--dry-run", "--protocol", str(protocol), "--no-harmonics")
    assert "safety limits" in line


def test_event_level_above_the_ceiling(tmp_path):
    line = _bad_live(tmp_path, "--name", _name(), "--dry-run", "--phase-band", "alpha", "--target-phase", "0",
                     "--event-level", "0")
    assert "ceiling" in line


def test_protocol_played_live_is_recorded_with_its_segments(tmp_path, play_array, rng):
    """A protocol through ``live --dry-run``: its audio in stimulus.wav, its segment changes as events,
    annotations and markers."""
    protocol = tmp_path / "short.toml"
    protocol.write_text('name = "short"\nchannels = 1\n[safety]\nfade_in = 2.5\nfade_out = 2.5\n'
                        '[[segments]]\nlabel = "warm"\nduration = 4\n[[segments.voices]]\ntype = "tone"\nfreq = 220\n'
                        'level = -12\n[[segments]]\nlabel = "hold"\nduration = 6\n[[segments.voices]]\n'
                        'type = "isochronic"\ncarrier = 330\nrate = 6\nlevel = -12\n')
    name = play_array(rng.standard_normal((6, 250 * 60)) * 1e-5, 250.0, ["eeg"] * 6)
    out = tmp_path / "session"
    run = subprocess.run(_cli("-q", "live", "--name", name, "--out", str(out), "--dry-run", "--duration", "8",
                              "--protocol", str(protocol), "--no-harmonics"),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    audio, sr = soundfile.read(out / "stimulus.wav")
    assert audio.size >= 8 * sr
    assert np.max(np.abs(audio[: int(7 * sr)])) > 0.01
    assert np.max(np.abs(audio)) <= 10 ** (-1 / 20)
    events = _read_tsv(out / "events.tsv")
    segments = [(float(e["onset"]), e["description"]) for e in events if e["kind"] == "segment"]
    assert [d for _, d in segments] == ["warm", "hold"]
    assert segments[1][0] == pytest.approx(4.0, abs=0.2)
    raw = mne.io.read_raw_fif(out / "eeg_raw.fif", verbose="error")
    assert {"segment/warm", "segment/hold"} <= set(raw.annotations.description)


def test_ctrl_c_ends_the_session_complete(tmp_path, play_array, rng):
    """Ctrl-C (SIGINT) mid-session: exit 0, the folder complete (FIF readable, params written), nothing partial."""
    import signal

    name = play_array(rng.standard_normal((6, 250 * 60)) * 1e-5, 250.0, ["eeg"] * 6)
    out = tmp_path / "session"
    live = subprocess.Popen(_cli("-q", "live", "--name", name, "--out", str(out), "--dry-run", "--no-harmonics",
                                 "--phase-band", "alpha", "--target-phase", "180"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("session.partial-*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(6.0)
    live.send_signal(signal.SIGINT)
    stdout, stderr = live.communicate(timeout=60)
    assert live.returncode == 0, stderr
    assert not list(tmp_path.glob("*.partial-*"))
    params = json.loads((out / "params.json").read_text())
    raw = mne.io.read_raw_fif(out / "eeg_raw.fif", verbose="error")
    assert raw.n_times == params["n_samples"] and params["duration_seconds"] > 4.0
    assert len(_read_tsv(out / "state.tsv")) > 5


def test_online_cdns_is_the_offline_fit_on_its_window(recorded):
    """CDNS is fitted in a background process; each value names the window it came from, and the offline
    function on that window of the FIF gives the same numbers."""
    from harmonix.live.online import OnlineSettings, window_cdns

    settings = OnlineSettings(sfreq=recorded.sfreq, ch_names=tuple(recorded.eeg.ch_names), bands=load_bands())
    n_window = int(round(recorded.params["online"]["window_seconds"] * recorded.sfreq))
    rows = {r["cdns_time"]: r for r in recorded.state if r["cdns_time"]}
    assert len(rows) >= 20  # about one a second
    for at, row in list(rows.items())[:: max(1, len(rows) // 5)]:
        end = int(round(float(at) * recorded.sfreq)) + 1
        offline = window_cdns(recorded.data[:, end - n_window : end], settings)
        for key, value in offline.items():
            # a band without a peak has no consonance or dissonance (NaN), online as offline
            assert float(row[key]) == pytest.approx(value, rel=1e-9, abs=1e-12, nan_ok=True), key


def test_live_anneal_on_a_stream_that_does_not_respond(tmp_path):
    """``harmonix live --anneal`` over LSL: a played recording cannot respond to the sound, so the controller
    measures its baseline, heats at full depth, says the target is out of reach, cools and ends the session."""
    raw = recording_for_stream(None)
    name = _name()
    player = open_player(raw, name=name)
    out = tmp_path / "session"
    try:
        run = subprocess.run(_cli("-q", "live", "--name", name, "--out", str(out), "--dry-run", "--anneal",
                                  "--baseline", "4", "--heat-limit", "6", "--hold", "5", "--cool-tau", "5",
                                  "--heat-factor", "3", "--stimulus-rate", "10", "--duration", "120", "--no-cdns"),
                             capture_output=True, text=True, timeout=180)
    finally:
        player.stop()
    assert run.returncode == 0, run.stderr
    events = _read_tsv(out / "events.tsv")
    stages = [e["description"] for e in events if e["kind"] == "stage"]
    assert stages == ["baseline", "heat", "cool", "done"]
    assert any("not reached in 6 s" in e["description"] for e in events if e["kind"] == "decision")
    params = json.loads((out / "params.json").read_text())
    assert params["annealing"]["target_reached"] is False
    assert params["duration_seconds"] < 60  # ended by the controller, not by --duration
    audio, sr = soundfile.read(out / "stimulus.wav")
    assert np.max(np.abs(audio)) > 0.01 and np.max(np.abs(audio)) <= 10 ** (-1 / 20)
