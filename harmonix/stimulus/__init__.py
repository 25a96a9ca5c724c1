"""Rhythmic stimulation: primitives, protocols, safety, rendering, playback and verification.

See ``DESIGN.md`` (Stimulation). Entry points: :func:`render_protocol`,
:func:`play_protocol`, :func:`check_rendered`, :func:`list_presets`,
:func:`format_presets`, :func:`load_preset`, :func:`load_protocol`.
"""

from __future__ import annotations

from harmonix.stimulus.playback import play_protocol
from harmonix.stimulus.protocol import (
    Protocol,
    format_presets,
    list_presets,
    load_preset,
    load_protocol,
    parse_protocol_text,
)
from harmonix.stimulus.render import RenderResult, render_protocol, resolve_protocol, synthesize
from harmonix.stimulus.safety import StimulusWarning
from harmonix.stimulus.verify import CheckResult, check_rendered

__all__ = [
    "CheckResult",
    "Protocol",
    "RenderResult",
    "StimulusWarning",
    "check_rendered",
    "format_presets",
    "list_presets",
    "load_preset",
    "load_protocol",
    "parse_protocol_text",
    "play_protocol",
    "render_protocol",
    "resolve_protocol",
    "synthesize",
]
