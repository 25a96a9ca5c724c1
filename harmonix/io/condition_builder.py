"""What the command line asks for as conditions, built on a recording once it is open.

A :class:`ConditionSpec` holds either a condition mapping
(``--conditions 'rest=T0,left=T1'``, :func:`~harmonix.io.condition_specs.parse_conditions`)
with its trial window, or a protocol sidecar with its onset marker
(``--protocol``, ``--protocol-onset``), plus an optional events file
replacing the recording's own events. The spec is checked when made, before
any file is read; :meth:`ConditionSpec.build` then applies it to the opened
recording through :func:`~harmonix.io.conditions.conditions_from_events` or
:func:`~harmonix.io.protocol_conditions.conditions_from_protocol`.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike

from harmonix.errors import ParameterError
from harmonix.io.condition_specs import parse_conditions
from harmonix.io.conditions import Condition, Instance, conditions_from_events
from harmonix.io.events import read_events_file
from harmonix.io.protocol_conditions import conditions_from_protocol

__all__ = ["ConditionSpec"]


@dataclass(frozen=True)
class ConditionSpec:
    """How to find a recording's conditions: what the command line says, applied once the file is open.

    Either a ``mapping`` (``"rest=T0,left=T1"``; :func:`~harmonix.io.condition_specs.parse_conditions`)
    with the trial window (``tmin``/``tmax`` or ``block_end``), or the
    ``protocol`` sidecar of a ``harmonix stimulate`` render with the
    ``onset_marker`` that marks its start in the recording; ``events_file``
    replaces the recording's own events (e.g. an MNE ``-eve.fif``).

    Examples
    --------
    >>> import mne
    >>> import numpy as np
    >>> info = mne.create_info(["Oz", "STI"], 100.0, ["eeg", "stim"])
    >>> data = np.zeros((2, 3000)); data[1, [100, 700]] = 1
    >>> raw = mne.io.RawArray(data, info, verbose=False)
    >>> [c.n_trials for c in ConditionSpec("a=1", tmax=2.0).build(raw, source="rec")]
    [2]
    """

    mapping: str | None = None
    tmin: float | None = None
    tmax: float | None = None
    block_end: str | None = None
    events_file: str | None = None
    protocol: str | None = None
    onset_marker: str | None = None

    def __post_init__(self) -> None:
        if (self.mapping is None) == (self.protocol is None):
            raise ParameterError("give conditions as a mapping (--conditions) or a protocol sidecar (--protocol), "
                                 "not both or neither")
        if self.protocol is not None and not self.onset_marker:
            raise ParameterError("--protocol needs --protocol-onset CODE: the event marking the protocol's start "
                                 "in the recording")
        if self.mapping is not None:
            parse_conditions(self.mapping)  # a malformed spec is a usage error, found before any work

    def build(self, inst: Instance, *, source: str | PathLike | None = None) -> tuple[Condition, ...]:
        """The conditions of ``inst``.

        See :func:`~harmonix.io.conditions.conditions_from_events` and
        :func:`~harmonix.io.protocol_conditions.conditions_from_protocol`.
        """
        events = event_id = None
        if self.events_file is not None:
            first = getattr(inst, "first_samp", 0)
            events, event_id = read_events_file(self.events_file, sfreq=float(inst.info["sfreq"]), first_samp=first)
        if self.protocol is not None:
            return conditions_from_protocol(inst, self.protocol, onset_marker=str(self.onset_marker), source=source,
                                            events=events, event_id=event_id, verbose=False)
        return conditions_from_events(inst, self.mapping, tmin=self.tmin, tmax=self.tmax, block_end=self.block_end,
                                      events=events, event_id=event_id, source=source, verbose=False)

    def describe(self) -> dict:
        """JSON-ready form, for provenance and ``params.json``."""
        return {k: v for k, v in self.__dict__.items() if v is not None}
