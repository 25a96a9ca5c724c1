"""Locate the files the project ships in its top-level ``data/`` folder."""

from __future__ import annotations

import sys
from pathlib import Path

from harmonix.errors import InputFileError

_CANDIDATES = (
    Path(__file__).resolve().parent.parent / "data",  # source checkout / editable install
    Path(sys.prefix) / "share" / "harmonix" / "data",  # wheel install (pyproject data-files)
)


def data_path(name: str) -> Path:
    """Return the path of a shipped data file, e.g. ``data_path('bands.csv')``."""
    for folder in _CANDIDATES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise InputFileError(
        f"harmonix data file {name!r} not found in {', '.join(map(str, _CANDIDATES))}; "
        "reinstall harmonix (pip install -e .)"
    )


def data_folder(name: str) -> Path:
    """Return the path of a shipped data folder, e.g. ``data_folder('presets')``."""
    for folder in _CANDIDATES:
        candidate = folder / name
        if candidate.is_dir():
            return candidate
    raise InputFileError(
        f"harmonix data folder {name!r} not found in {', '.join(map(str, _CANDIDATES))}; "
        "reinstall harmonix (pip install -e .)"
    )
