"""The bad-input corpus (issue 13): every case handled, nothing partial, nothing given modified.

Each case of :mod:`bad_inputs` is run through ``harmonix.cli.main`` in a
fresh folder, with the harmonics cache in that folder too. The case passes
when

* the exit status is one the case allows (2 for input that cannot be used,
  1 when some inputs of a batch failed or a ``--check`` failed, 0 when
  harmonix can legitimately go on, e.g. with a band skipped);
* every line on stderr, captured at the file-descriptor level so that
  decoder or C-library chatter counts too, is harmonix's own
  (``harmonix: error: ...``, ``harmonix: warning: ...`` or a progress line);
  a failure says why in ``harmonix: error:`` lines, one per failed input;
  no traceback reaches the user;
* nothing partial is left: no hidden staging file or folder anywhere, and
  with exit status 2 no new file or folder at all;
* every file the case wrote before the command is byte-for-byte unchanged
  (harmonix's own cache excepted: replacing a damaged entry is its job);
* the case's own check holds (a rendered file measured independently at 16x
  at or below its ceiling, a warning given, no result lost to a name
  collision, a damaged cache entry recomputed and said so).

``HARMONIX_CORPUS_LOG=path`` appends one JSON line per case (category, name,
exit status, first stderr line) for a summary of outcomes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from bad_inputs import all_cases
from harmonix.cli import main

pytestmark = pytest.mark.slow  # 278 bad inputs through the CLI, some rendering audio

CASES = all_cases()


def _snapshot(folder: Path) -> dict[Path, str | None]:
    """Every path under ``folder`` (the cache excepted): a file's digest, None for a folder."""
    return {p: (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None)
            for p in folder.rglob("*") if "cache" not in p.relative_to(folder).parts}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.category}: {c.name}" for c in CASES])
def test_bad_input_is_handled(case, tmp_path, capfd, monkeypatch, request):
    folder = tmp_path / "case"
    folder.mkdir()
    monkeypatch.setenv("HARMONIX_CACHE", str(folder / "cache"))
    argv = case.make(folder, request.getfixturevalue("shared_data")) if case.needs_data else case.make(folder)
    capfd.readouterr()
    given = _snapshot(folder)
    code = main(argv)
    out, err = capfd.readouterr()
    if os.environ.get("HARMONIX_CORPUS_LOG"):
        with open(os.environ["HARMONIX_CORPUS_LOG"], "a", encoding="utf-8") as log:
            first = next((line for line in err.splitlines() if line.strip()), "")
            log.write(json.dumps({"category": case.category, "name": case.name, "code": code, "stderr": first}) + "\n")
    assert code in case.ok, f"exit {code}; stderr: {err}"
    assert "Traceback" not in err and "Traceback" not in out
    lines = [line for line in err.splitlines() if line.strip()]
    assert all(line.startswith("harmonix: ") for line in lines), f"stderr lines not from harmonix: {err}"
    if code != 0 and "--check" not in argv:
        assert any(line.startswith("harmonix: error: ") for line in lines), "a failure must say why"
    leftovers = [p for p in folder.rglob("*") if p.name.startswith(".") and ("partial" in p.name or ".old-" in p.name)]
    assert not leftovers, leftovers
    after = _snapshot(folder)
    if code == 2:
        assert set(after) == set(given), f"a refused command left {sorted(set(after) - set(given))}"
    for path, digest in given.items():
        assert path in after and after[path] == digest, f"{path} was modified"
    if case.check is not None:
        case.check(folder, out, err, code)


def test_corpus_covers_every_category():
    """The categories of issue 13, each with a corpus large enough to mean something."""
    counts = Counter(case.category for case in CASES)
    minimum = {"eeg-file": 100, "eeg-content": 20, "headset-csv": 15, "protocol": 40, "audio": 20,
               "analysis-folder": 15, "collision": 10, "cache": 4}
    short = {category: counts.get(category, 0) for category, n in minimum.items() if counts.get(category, 0) < n}
    assert not short, f"categories below their minimum: {short} (have {dict(counts)})"
