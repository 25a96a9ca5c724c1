"""Stimulation protocols: TOML schema, validation and built-in presets.

A protocol is a list of timed segments; each segment holds voices. A
parameter is a number (constant over the segment) or a two-element list
``[from, to]``: a slide over the segment, linear or smooth (raised-cosine)
according to the segment's ``shape``. A voice keeps its phase across
segments when it has the same ``name`` (default: its type and position, e.g.
``binaural0``), so slides and plateaus join without clicks. Example::

    description = "beat 10 -> 4 Hz in 5 min, then 10 min at 4 Hz"
    [safety]
    loudness_lufs = -23      # integrated loudness target (LUFS)
    peak_dbfs = -1           # true-peak ceiling (dBFS)
    fade_in = 10             # s, at least 5
    fade_out = 10
    [[segments]]
    duration = 300
    shape = "smooth"
    [[segments.voices]]
    type = "binaural"
    carrier = 200
    beat = [10, 4]
    level = -12              # dBFS, before loudness normalisation
    [[segments]]
    duration = 600
    gain = [1.0, 0.5]        # slow cool-down (linear amplitude)
    [[segments.voices]]
    type = "binaural"
    carrier = 200
    beat = 4

Errors name the field (``segments[1].voices[0].beat``), the TOML line when
it can be found, and the allowed range.
"""

from __future__ import annotations

import copy
import math
import re
import sys
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path
from typing import Any

from harmonix.errors import InputFileError, ParameterError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

# ---------------------------------------------------------------- limits

PEAK_CEILING_DBFS = -1.0
"""Default true-peak ceiling in dBFS; a protocol may lower it, raising it needs the override."""
LOUDNESS_TARGET_LUFS = -23.0
"""Default integrated loudness target (EBU R128 programme level)."""
LOUDNESS_CEILING_LUFS = -14.0
"""Highest loudness target accepted without the override (streaming-platform level)."""
MIN_FADE_S = 5.0
"""Shortest fade-in/out accepted without the override, in seconds."""
BEAT_RANGE_HZ = (0.5, 40.0)
"""Binaural beat frequencies accepted without the override (beats are not heard as such above ~40 Hz)."""
RATE_RANGE_HZ = (0.1, 50.0)
"""Rhythm rates (isochronic, AM, clicks, bursts, stack rhythms) accepted without the override."""
CARRIER_RANGE_HZ = (20.0, 16000.0)
"""Audible carrier range (hard limit; also kept below Nyquist at render time)."""
MAX_DURATION_S = 12 * 3600.0
"""Longest render accepted without the override (12 h)."""
HARD_MAX_DURATION_S = 7 * 24 * 3600.0
"""Longest render accepted at all, even with the override (7 days)."""
MIN_DURATION_S = 1.0
"""Shortest render: loudness is measured over 400 ms blocks and the fades need room."""
MAX_SEED = 2**63 - 1
"""Noise seeds are integers in ``[0, MAX_SEED]`` (NumPy's generators refuse negative seeds)."""
MAX_LIST = 10000
"""Most items in a list parameter (harmonics, burst times, rhythms)."""


@dataclass(frozen=True)
class Slide:
    """A parameter moving from ``start`` to ``end`` over its segment."""

    start: float
    end: float

    def at(self, u, shape: str):
        """Value at segment fraction ``u`` in [0, 1] (array or float)."""
        import numpy as np

        u = np.clip(u, 0.0, 1.0)
        if shape == "smooth":
            u = 0.5 - 0.5 * np.cos(np.pi * u)
        return self.start + (self.end - self.start) * u

    def mean(self) -> float:
        return 0.5 * (self.start + self.end)


def _mean(value: Any) -> float:
    return value.mean() if isinstance(value, Slide) else float(value)


@dataclass(frozen=True)
class _Spec:
    kind: str  # 'dyn' (number or slide), 'num', 'int', 'str', 'list', 'bool', 'rhythms'
    default: Any = None
    hard: tuple[float, float] | None = None
    soft: tuple[float, float] | None = None
    choices: tuple[str, ...] | None = None
    required: bool = False


_LEVEL = _Spec("dyn", -12.0, hard=(-120.0, 6.0))
VOICE_SPECS: dict[str, dict[str, _Spec]] = {
    "tone": {"freq": _Spec("dyn", 440.0, hard=CARRIER_RANGE_HZ),
             "harmonics": _Spec("list", [1.0], hard=(-1000.0, 1000.0))},
    "isochronic": {
        "carrier": _Spec("dyn", 200.0, hard=CARRIER_RANGE_HZ),
        "rate": _Spec("dyn", required=True, hard=(0.01, 200.0), soft=RATE_RANGE_HZ),
        "duty": _Spec("num", 0.5, hard=(0.05, 0.95)),
        "edge": _Spec("num", 0.2, hard=(0.0, 0.5)),
    },
    "binaural": {
        "carrier": _Spec("dyn", 200.0, hard=CARRIER_RANGE_HZ),
        "beat": _Spec("dyn", required=True, hard=(0.0, 200.0), soft=BEAT_RANGE_HZ),
    },
    "am": {
        "source": _Spec("str", "tone", choices=("tone", "music")),
        "music": _Spec("str", None),
        "carrier": _Spec("dyn", 440.0, hard=CARRIER_RANGE_HZ),
        "rate": _Spec("dyn", required=True, hard=(0.01, 200.0), soft=RATE_RANGE_HZ),
        "depth": _Spec("dyn", 1.0, hard=(0.0, 1.0)),
    },
    "clicks": {
        "rate": _Spec("dyn", 40.0, hard=(0.01, 200.0), soft=RATE_RANGE_HZ),
        "pip": _Spec("num", 0.001, hard=(0.0002, 0.02)),
        "carrier": _Spec("num", 1000.0, hard=CARRIER_RANGE_HZ),
    },
    "noise": {"color": _Spec("str", "pink", choices=("white", "pink", "brown")),
              "seed": _Spec("int", 0, hard=(0, MAX_SEED))},
    "bursts": {
        "rate": _Spec("dyn", 1.0, hard=(0.01, 200.0), soft=RATE_RANGE_HZ),
        "times": _Spec("list", None, hard=(0.0, HARD_MAX_DURATION_S)),
        "burst": _Spec("num", 0.2, hard=(0.005, 10.0)),
        "edge": _Spec("num", 0.02, hard=(0.0, 5.0)),
        "color": _Spec("str", "pink", choices=("white", "pink", "brown")),
        "seed": _Spec("int", 0, hard=(0, MAX_SEED)),
    },
    "stack": {
        "f0": _Spec("dyn", 110.0, hard=CARRIER_RANGE_HZ),
        "partials": _Spec("int", 6, hard=(1, 32)),
        "rhythms": _Spec("rhythms", required=True, hard=(0.01, 200.0), soft=RATE_RANGE_HZ),
        "depth": _Spec("dyn", 1.0, hard=(0.0, 1.0)),
    },
}
_COMMON = {"type", "name", "level"}
_SEGMENT_KEYS = {"start", "duration", "shape", "gain", "label", "voices"}
_SAFETY_SPECS = {
    "peak_dbfs": _Spec("num", PEAK_CEILING_DBFS, hard=(-60.0, 0.0), soft=(-60.0, PEAK_CEILING_DBFS)),
    "loudness_lufs": _Spec("num", LOUDNESS_TARGET_LUFS, hard=(-70.0, 0.0), soft=(-70.0, LOUDNESS_CEILING_LUFS)),
    "normalize": _Spec("bool", True),
    "fade_in": _Spec("num", 10.0, hard=(0.0, 3600.0), soft=(MIN_FADE_S, 3600.0)),
    "fade_out": _Spec("num", 10.0, hard=(0.0, 3600.0), soft=(MIN_FADE_S, 3600.0)),
}
_TOP_KEYS = {"name", "description", "channels", "safety", "segments"}


@dataclass(frozen=True)
class VoiceSpec:
    """One voice in one segment: its type, name, level (dBFS) and parameters."""

    type: str
    name: str
    level: Any  # float or Slide, dBFS
    params: dict[str, Any]
    path: str  # e.g. 'segments[1].voices[0]'


@dataclass(frozen=True)
class Segment:
    """A timed segment: start and duration in seconds, slide shape, master gain, voices."""

    start: float
    duration: float
    voices: tuple[VoiceSpec, ...]
    shape: str = "smooth"
    gain: Any = 1.0
    label: str = ""

    @property
    def end(self) -> float:
        return self.start + self.duration

    def modulation(self) -> tuple[VoiceSpec, str, Any] | None:
        """The rhythm the envelope should follow: (voice, field, value) of the loudest rhythmic voice."""
        best = None
        for v in self.voices:
            cls_param = _MOD_PARAM.get(v.type)
            if cls_param is None or (v.type == "bursts" and v.params.get("times") is not None):
                continue
            value = v.params[cls_param]
            if cls_param == "rhythms":
                value = value[0]  # partial 1 (largest amplitude) pulses at the first rhythm
            if best is None or _mean(v.level) > _mean(best[0].level):
                best = (v, cls_param, value)
        return best


_MOD_PARAM = {"isochronic": "rate", "binaural": "beat", "am": "rate", "clicks": "rate", "bursts": "rate",
              "stack": "rhythms"}


@dataclass(frozen=True)
class Protocol:
    """A validated stimulation protocol (see the module docstring for the TOML form)."""

    segments: tuple[Segment, ...]
    name: str = "protocol"
    description: str = ""
    channels: int = 2
    peak_dbfs: float = PEAK_CEILING_DBFS
    loudness_lufs: float = LOUDNESS_TARGET_LUFS
    normalize: bool = True
    fade_in: float = 10.0
    fade_out: float = 10.0
    source: str = "<protocol>"
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def duration(self) -> float:
        """Total duration in seconds (end of the last segment)."""
        return max(s.end for s in self.segments)

    def uses_music(self) -> bool:
        return any(v.type == "am" and v.params.get("source") == "music" for s in self.segments for v in s.voices)

    def scaled(self, seconds: float) -> Protocol:
        """A preview lasting ``seconds``: every segment start/duration scaled by ``seconds / duration``.

        Slides become proportionally faster; fades keep their length, capped at
        ``max(5 s, seconds / 8)`` and at a quarter of the preview.
        """
        seconds = float(seconds)
        if not (math.isfinite(seconds) and seconds > 0):
            raise ParameterError(f"seconds must be a positive number, got {seconds!r}")
        k = seconds / self.duration
        segs = tuple(replace(s, start=s.start * k, duration=s.duration * k,
                             voices=tuple(_scale_times(v, k) for v in s.voices)) for s in self.segments)
        fade_in = min(self.fade_in, max(MIN_FADE_S, seconds / 8), seconds / 4)
        fade_out = min(self.fade_out, max(MIN_FADE_S, seconds / 8), seconds / 4)
        return replace(self, segments=segs, fade_in=fade_in, fade_out=fade_out)

    def with_music(self, music: str | PathLike | None) -> Protocol:
        """Use ``music`` for every ``am`` voice whose source is 'music' (None keeps the protocol's files)."""
        if music is None:
            return self
        segs = tuple(replace(s, voices=tuple(
            replace(v, params={**v.params, "music": str(music)}) if v.type == "am" and v.params["source"] == "music"
            else v for v in s.voices)) for s in self.segments)
        return replace(self, segments=segs)


def _scale_times(v: VoiceSpec, k: float) -> VoiceSpec:
    if v.type == "bursts" and v.params.get("times") is not None:
        return replace(v, params={**v.params, "times": [t * k for t in v.params["times"]]})
    return v


# ---------------------------------------------------------------- parsing


def _locate(text: str | None, path: str) -> int | None:
    """Best-effort TOML line (1-based) of a field like ``segments[2].voices[0].beat``."""
    if not text:
        return None
    m = re.fullmatch(r"(?:segments\[(\d+)\](?:\.voices\[(\d+)\])?\.?)?(\w+)?", path)
    if not m:
        return None
    seg, voice, key = (int(m.group(1)) if m.group(1) else None, int(m.group(2)) if m.group(2) else None, m.group(3))
    cur_seg = cur_voice = -1
    table = ""
    fallback = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if s.startswith("[[segments.voices]]"):
            cur_voice, table = cur_voice + 1, "voice"
        elif s.startswith("[[segments]]"):
            cur_seg, cur_voice, table = cur_seg + 1, -1, "segment"
        elif s.startswith("["):
            table = s.strip("[]").strip()
        here = (seg is None and table in ("", "safety")) or (
            seg == cur_seg and ((voice is None and table == "segment") or (voice == cur_voice and table == "voice")))
        if here:
            if fallback is None and s.startswith("["):
                fallback = lineno
            if key and re.match(rf"{re.escape(key)}\s*=", s):
                return lineno
    return fallback


class _Ctx:
    def __init__(self, text: str | None, source: str) -> None:
        self.text, self.source = text, source

    def error(self, path: str, message: str) -> ParameterError:
        line = _locate(self.text, path)
        where = f"{self.source}" + (f", line {line}" if line else "")
        return ParameterError(f"{where}: {path}: {message}")


def _number(ctx: _Ctx, path: str, value: Any, spec: _Spec) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ctx.error(path, f"expected a number, got {value!r}")
    if spec.hard and not (spec.hard[0] <= value <= spec.hard[1]):
        raise ctx.error(path, f"{value:g} is outside the allowed range [{spec.hard[0]:g}, {spec.hard[1]:g}]")
    return float(value)


def _value(ctx: _Ctx, path: str, value: Any, spec: _Spec) -> Any:
    if spec.kind == "dyn":
        if isinstance(value, list):
            if len(value) != 2:
                raise ctx.error(path, f"a slide is [from, to] (two numbers), got {value!r}")
            return Slide(_number(ctx, path, value[0], spec), _number(ctx, path, value[1], spec))
        return _number(ctx, path, value, spec)
    if spec.kind == "num":
        return _number(ctx, path, value, spec)
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ctx.error(path, f"expected an integer, got {value!r}")
        if spec.hard and not (spec.hard[0] <= value <= spec.hard[1]):
            hi = "2**63 - 1" if spec.hard[1] == MAX_SEED else f"{spec.hard[1]:g}"
            raise ctx.error(path, f"{value} is outside the allowed range [{spec.hard[0]:g}, {hi}]")
        return int(value)
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ctx.error(path, f"expected true or false, got {value!r}")
        return value
    if spec.kind == "str":
        if not isinstance(value, str):
            raise ctx.error(path, f"expected a string, got {value!r}")
        if spec.choices and value not in spec.choices:
            raise ctx.error(path, f"{value!r} is not one of {', '.join(spec.choices)}")
        return value
    if spec.kind in ("list", "rhythms"):
        if not isinstance(value, list) or not value:
            raise ctx.error(path, f"expected a non-empty list of numbers, got {value!r}")
        if len(value) > MAX_LIST:
            raise ctx.error(path, f"{len(value)} items; at most {MAX_LIST} are allowed")
        item = replace(spec, kind="dyn" if spec.kind == "rhythms" else "num")
        return [_value(ctx, f"{path}[{i}]", v, item) for i, v in enumerate(value)]
    raise AssertionError(f"unhandled parameter kind {spec.kind!r}")


def _voice(ctx: _Ctx, path: str, raw: Any, index: int, types_by_name: dict[str, str]) -> VoiceSpec:
    if not isinstance(raw, dict):
        raise ctx.error(path, "a voice must be a table with a 'type'")
    vtype = raw.get("type")
    if not isinstance(vtype, str) or vtype not in VOICE_SPECS:  # a list or table is no type (and unhashable)
        raise ctx.error(f"{path}.type", f"unknown voice type {vtype!r}; choose one of {', '.join(VOICE_SPECS)}")
    specs = VOICE_SPECS[vtype]
    unknown = set(raw) - set(specs) - _COMMON
    if unknown:
        key = sorted(unknown)[0]
        raise ctx.error(f"{path}.{key}", f"unknown parameter for a {vtype} voice; allowed: "
                        f"{', '.join(sorted(set(specs) | {'name', 'level'}))}")
    name = raw.get("name", f"{vtype}{index}")
    if not isinstance(name, str):
        raise ctx.error(f"{path}.name", f"expected a string, got {name!r}")
    if types_by_name.setdefault(name, vtype) != vtype:
        raise ctx.error(f"{path}.name", f"voice {name!r} was a {types_by_name[name]} voice in an earlier segment; "
                        "give this one another name")
    params = {}
    for key, spec in specs.items():
        if key in raw:
            params[key] = _value(ctx, f"{path}.{key}", raw[key], spec)
        elif spec.required:
            raise ctx.error(f"{path}.{key}", f"missing (required for a {vtype} voice)")
        else:
            params[key] = copy.deepcopy(spec.default)
    level = _value(ctx, f"{path}.level", raw.get("level", _LEVEL.default), _LEVEL)
    if vtype == "tone" and not any(params["harmonics"]):
        raise ctx.error(f"{path}.harmonics", "every amplitude is 0: at least one harmonic must sound")
    return VoiceSpec(type=vtype, name=name, level=level, params=params, path=path)


def parse_protocol(data: dict, *, text: str | None = None, source: str = "<protocol>") -> Protocol:
    """Validate a parsed TOML document and build a :class:`Protocol`.

    Raises
    ------
    ParameterError
        Naming the offending field (``segments[2].voices[0].beat``), its TOML
        line when found, and the allowed values.
    """
    ctx = _Ctx(text, source)
    unknown = set(data) - _TOP_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise ctx.error(key, f"unknown top-level field; allowed: {', '.join(sorted(_TOP_KEYS))}")
    safety_raw = data.get("safety", {})
    if not isinstance(safety_raw, dict):
        raise ctx.error("safety", "expected a table [safety]")
    for key in set(safety_raw) - set(_SAFETY_SPECS):
        raise ctx.error(f"safety.{key}", f"unknown safety field; allowed: {', '.join(_SAFETY_SPECS)}")
    safety = {k: _value(ctx, f"safety.{k}", safety_raw.get(k, s.default), s) for k, s in _SAFETY_SPECS.items()}
    channels = data.get("channels", 2)
    if channels not in (1, 2) or isinstance(channels, bool):
        raise ctx.error("channels", f"must be 1 (mono) or 2 (stereo), got {channels!r}")
    raw_segments = data.get("segments")
    if not isinstance(raw_segments, list) or not raw_segments:
        raise ctx.error("segments", "a protocol needs at least one [[segments]] table")
    segments: list[Segment] = []
    types_by_name: dict[str, str] = {}
    cursor = 0.0
    for i, rs in enumerate(raw_segments):
        path = f"segments[{i}]"
        if not isinstance(rs, dict):
            raise ctx.error(path, "expected a table")
        for key in set(rs) - _SEGMENT_KEYS:
            raise ctx.error(f"{path}.{key}", f"unknown segment field; allowed: {', '.join(sorted(_SEGMENT_KEYS))}")
        if "duration" not in rs:
            raise ctx.error(f"{path}.duration", "missing (seconds, > 0)")
        duration = _number(ctx, f"{path}.duration", rs["duration"], _Spec("num"))
        if duration <= 0:
            raise ctx.error(f"{path}.duration", f"must be > 0 seconds, got {duration:g}")
        start = _number(ctx, f"{path}.start", rs.get("start", cursor), _Spec("num"))
        if start < cursor - 1e-9:
            raise ctx.error(f"{path}.start", f"{start:g} s overlaps the previous segment, which ends at {cursor:g} s "
                            "(allowed: >= the previous end)")
        shape = _value(ctx, f"{path}.shape", rs.get("shape", "smooth"), _Spec("str", choices=("linear", "smooth")))
        gain = _value(ctx, f"{path}.gain", rs.get("gain", 1.0), _Spec("dyn", hard=(0.0, 1.0)))
        label = str(rs.get("label", ""))
        raw_voices = rs.get("voices", [])
        if not isinstance(raw_voices, list) or not raw_voices:
            raise ctx.error(f"{path}.voices", "a segment needs at least one [[segments.voices]] table")
        voices = tuple(_voice(ctx, f"{path}.voices[{j}]", rv, j, types_by_name) for j, rv in enumerate(raw_voices))
        segments.append(Segment(start=start, duration=duration, voices=voices, shape=shape, gain=gain, label=label))
        cursor = start + duration
    return Protocol(segments=tuple(segments), name=str(data.get("name", Path(source).stem)),
                    description=str(data.get("description", "")), channels=int(channels), source=source, raw=data,
                    **safety)


def parse_protocol_text(text: str, *, source: str = "<protocol>") -> Protocol:
    """Parse TOML text; malformed TOML raises :class:`InputFileError` with its line and column."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputFileError(f"{source}: malformed TOML: {err}") from err
    return parse_protocol(data, text=text, source=source)


def load_protocol(path: str | PathLike) -> Protocol:
    """Read and validate a protocol TOML file."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: protocol file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputFileError(f"{path}: cannot read protocol ({err})") from err
    return parse_protocol_text(text, source=str(path))


# ---------------------------------------------------------------- presets


def _preset_dir() -> Path:
    from harmonix._data import data_folder

    return data_folder("presets")


def list_presets() -> dict[str, str]:
    """``{name: description}`` of the built-in presets, sorted by name."""
    out = {}
    for p in sorted(_preset_dir().glob("*.toml")):
        data = tomllib.loads(p.read_text(encoding="utf-8"))
        out[p.stem] = str(data.get("description", "")).strip().splitlines()[0] if data.get("description") else ""
    return out


def format_presets() -> str:
    """One line per preset: ``name  description`` (for ``--list-presets``)."""
    presets = list_presets()
    width = max(map(len, presets)) if presets else 0
    return "\n".join(f"{name:<{width}}  {desc}" for name, desc in presets.items())


def load_preset(name: str) -> Protocol:
    """Load a built-in preset by name (see :func:`list_presets`)."""
    path = _preset_dir() / f"{name}.toml"
    if not path.is_file():
        raise ParameterError(f"unknown preset {name!r}; available: {', '.join(list_presets())}")
    return load_protocol(path)
