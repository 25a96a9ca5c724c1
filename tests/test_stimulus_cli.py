"""`harmonix stimulate` composes the stimulus library: list, render, check, play, refuse."""

from __future__ import annotations

import json

import pytest
import soundfile

from harmonix.cli import main


def test_list_presets_one_per_line(capsys):
    assert main(["stimulate", "--list-presets"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    names = [line.split()[0] for line in lines]
    assert {"theta-harmonic", "gamma-40hz", "alpha-am-music", "binaural-descent", "pink-bursts"} <= set(names)
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


def test_render_then_check_a_preset(tmp_path, capsys):
    out = tmp_path / "renders" / "theta.flac"
    assert main(["-q", "stimulate", "--preset", "theta-harmonic", "--seconds", "60", "-o", str(out)]) == 0
    assert "LUFS" in capsys.readouterr().out
    info = soundfile.info(out)
    assert info.channels == 2 and abs(info.duration - 60.0) < 0.01
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert "harmonix" in json.dumps(sidecar)
    assert main(["stimulate", "--check", str(out)]) == 0
    assert capsys.readouterr().out.strip().endswith("PASS")


def test_malformed_protocol_exits_2_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[protocol]\nname = "x"\n[[segments]\nduration = 5\n')
    out = tmp_path / "bad.wav"
    assert main(["stimulate", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.toml" in err and "line 3" in err
    assert not out.exists() and not list(tmp_path.glob("*.wav*"))


def _has_output_device() -> bool:
    try:
        import sounddevice

        return any(d["max_output_channels"] > 0 for d in sounddevice.query_devices())
    except Exception:  # no PortAudio, or PortAudio without devices: both mean "cannot play"
        return False


def test_play_without_audio_device_exits_2(capsys):
    if _has_output_device():
        pytest.skip("this machine has an audio output device; the no-device path is checked on CI")
    assert main(["stimulate", "--preset", "gamma-40hz", "--seconds", "10", "--play"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("harmonix: error:") and err.count("\n") == 1


def test_protocol_and_preset_together_is_refused(tmp_path, capsys):
    assert main(["stimulate", "x.toml", "--preset", "gamma-40hz", "-o", str(tmp_path / "o.wav")]) == 2
    assert "exactly one" in capsys.readouterr().err


@pytest.mark.parametrize("subtype", ["PCM_24", "FLOAT"])
def test_subtype_sets_the_sample_format_and_the_check_still_passes(tmp_path, capsys, subtype):
    out = tmp_path / "theta.wav"
    assert main(["-q", "stimulate", "--preset", "theta-harmonic", "--seconds", "20", "--subtype", subtype,
                 "-o", str(out)]) == 0
    assert soundfile.info(out).subtype == subtype
    assert main(["stimulate", "--check", str(out)]) == 0
    assert capsys.readouterr().out.strip().endswith("PASS")


def test_float_flac_is_a_one_line_error(tmp_path, capsys):
    out = tmp_path / "theta.flac"
    assert main(["-q", "stimulate", "--preset", "theta-harmonic", "--seconds", "20", "--subtype", "FLOAT",
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "subtype" in err and not out.exists()


QUIET_END = """
[safety]
loudness_lufs = -23
fade_in = 5
fade_out = 5
[[segments]]
duration = 20
[[segments.voices]]
type = "isochronic"
carrier = 300
rate = 10
level = -12
[[segments]]
duration = 20
gain = 0.25
[[segments.voices]]
type = "isochronic"
carrier = 300
rate = 10
level = -12
"""


def test_check_judges_fades_against_their_own_segment(tmp_path, capsys):
    """Issue 16: a quiet last segment passes, a cut fade fails, a WAV without sidecar is measured only."""
    protocol = tmp_path / "quiet-end.toml"
    protocol.write_text(QUIET_END)
    out = tmp_path / "quiet.wav"
    assert main(["-q", "stimulate", str(protocol), "-o", str(out)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["stimulate", "--check", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.strip().endswith("PASS") and "fade-out 0.6" in text, text
    assert "modulation planned 10.00 Hz, measured" in text and "(medians over" in text

    x, sr = soundfile.read(str(out))
    fade = int(5 * sr)
    x[-fade:] = x[-2 * fade:-fade]  # the last segment's plateau where its fade-out was
    soundfile.write(str(out), x, sr, subtype=soundfile.info(str(out)).subtype)
    assert main(["stimulate", "--check", str(out)]) == 1
    text = capsys.readouterr().out
    assert text.strip().endswith("FAIL") and "fade-out 1.0" in text, text

    bare = tmp_path / "bare" / "quiet.wav"
    bare.parent.mkdir()
    bare.write_bytes((tmp_path / "quiet.wav").read_bytes())
    assert main(["stimulate", "--check", str(bare)]) == 0
    text = capsys.readouterr().out
    assert "no protocol to compare" in text and "PASS" not in text and "FAIL" not in text
