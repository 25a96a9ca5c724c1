"""Provenance records: is an existing output the result of this very run?

An output is *up to date* when it was made from the same input bytes (SHA-256
of the recording and every file its analysis reads), with the same
parameters (everything the user chose) and the same harmonix version. The
record is small JSON kept in the output (``params.json`` key
``provenance``, or the ``Provenance`` of a BIDS-derivative sidecar), so
that a re-run can decide by hashing files, without analysing anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from harmonix import __version__

RECORD_KEY = "provenance"
"""Key of the record inside ``params.json``."""

_COMMAND: str | None = None


def command_line() -> str:
    """The command this run was started with, as outputs record it.

    The one :func:`set_command_line` gave (``harmonix.cli.main`` gives the
    command as typed, also when called from Python; a cluster worker gets
    its client's), else this process' ``sys.argv``.
    """
    import sys

    return _COMMAND if _COMMAND is not None else " ".join(sys.argv)


def set_command_line(command: str | None) -> str | None:
    """Record ``command`` as this run's command line (``None``: back to ``sys.argv``); return the previous one."""
    global _COMMAND
    previous, _COMMAND = _COMMAND, command
    return previous


def _canonical(value: Any) -> Any:
    """JSON round trip, so that tuples/lists and numpy scalars compare like what is read back."""
    from harmonix.tables import _jsonable

    return json.loads(json.dumps(_jsonable(value), sort_keys=True))


def make_record(files: Sequence[str | PathLike], parameters: Mapping[str, Any]) -> dict:
    """The provenance record of analysing ``files`` with ``parameters``.

    Parameters
    ----------
    files : sequence of path-like
        The recording and every file its analysis reads (see
        :func:`harmonix.study.inputs.recording_files`); each is hashed.
    parameters : mapping
        Everything the user chose that changes the result (JSON-able).

    Returns
    -------
    dict
        ``{'harmonix_version', 'inputs': {path: sha256}, 'parameters'}``.

    Raises
    ------
    InputFileError
        A file cannot be read.
    """
    from harmonix.tables import file_sha256

    return {
        "harmonix_version": __version__,
        "inputs": {str(f): file_sha256(f) for f in files},
        "parameters": _canonical(dict(parameters)),
    }


def _by_name(inputs: Mapping[str, str]) -> dict[str, str]:
    # Paths may differ between runs (a moved dataset, another working folder): files are matched by name.
    return {Path(path).name: sha for path, sha in inputs.items()}


def differences(old: Mapping | None, new: Mapping) -> list[str]:
    """What differs between an output's record and this run's (empty: up to date).

    Examples
    --------
    >>> new = {"harmonix_version": "1", "inputs": {"/a/x.edf": "aa"}, "parameters": {"psd": "welch"}}
    >>> differences(dict(new, inputs={"/b/x.edf": "aa"}), new)  # moved, same bytes
    []
    >>> differences(dict(new, parameters={"psd": "multitaper"}), new)
    ["parameter psd: 'multitaper' -> 'welch'"]
    >>> differences(None, new)
    ['no provenance record (made by an older harmonix)']
    """
    if not old:
        return ["no provenance record (made by an older harmonix)"]
    found = []
    old_inputs, new_inputs = _by_name(old.get("inputs", {})), _by_name(new["inputs"])
    for name in sorted(set(old_inputs) | set(new_inputs)):
        if name not in old_inputs:
            found.append(f"input {name} is new")
        elif name not in new_inputs:
            found.append(f"input {name} is no longer read")
        elif old_inputs[name] != new_inputs[name]:
            found.append(f"input {name} changed (SHA-256 differs)")
    old_params, new_params = old.get("parameters", {}), new["parameters"]
    for key in sorted(set(old_params) | set(new_params)):
        if old_params.get(key) != new_params.get(key):
            found.append(f"parameter {key}: {old_params.get(key)!r} -> {new_params.get(key)!r}")
    if old.get("harmonix_version") != new["harmonix_version"]:
        found.append(f"harmonix {old.get('harmonix_version')} -> {new['harmonix_version']}")
    return found
