"""Shared fixtures.

Real recordings live in ``../shared/data`` beside the project (or wherever
``HARMONIX_DATA`` points). Tests that need them use the ``shared_data``
fixture: on a user's machine without the folder they skip with a reason; in CI
(``HARMONIX_REQUIRE_DATA=1``, set by ``.ci/run``) a missing folder fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

_DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _data_dir() -> Path:
    return Path(os.environ.get("HARMONIX_DATA", _DEFAULT_DATA))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder holding the real EEG recordings and music clips."""
    folder = _data_dir()
    if not (folder / "README.md").is_file():
        message = f"real-data folder not found at {folder} (set HARMONIX_DATA to its location)"
        if os.environ.get("HARMONIX_REQUIRE_DATA") == "1":
            pytest.fail(message + "; HARMONIX_REQUIRE_DATA=1 makes this an error", pytrace=False)
        pytest.skip(message)
    return folder


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator so every synthetic test signal is reproducible."""
    return np.random.default_rng(20261123)


@pytest.fixture(scope="session")
def default_connectome():
    """The tvb-data default model (16k cortex, 76 regions, EEG leadfield)."""
    from harmonix.harmonics.connectome import load_default_connectome

    return load_default_connectome()


@pytest.fixture(scope="session")
def default_harmonics(default_connectome):
    """200 connectome harmonics of the default model (from the disk cache after the first run)."""
    from harmonix.harmonics.model import connectome_harmonics

    return connectome_harmonics(default_connectome, n_modes=200)
