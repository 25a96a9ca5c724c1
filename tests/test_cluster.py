"""Cohorts on Dask (issue 18): --jobs, --scheduler, a worker killed mid-run, the same tables everywhere.

Real components, started the way users start them: a LocalCluster from ``--jobs 2``; a ``dask scheduler`` and
two ``dask worker`` processes on 127.0.0.1 with random free ports for ``--scheduler``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import mne
import numpy as np
import pytest

from harmonix.cli import main
from harmonix.study import cluster

CHANNELS = ["Fz", "Cz", "Pz", "Oz", "C3", "C4", "F3", "F4", "P3", "P4", "O1", "O2"]
SFREQ = 128.0
N_RECORDINGS = 8


def _recording(path: Path, index: int, seconds: float = 60.0) -> None:
    rng = np.random.default_rng(index)
    t = np.arange(int(seconds * SFREQ)) / SFREQ
    alpha = (8 + index) * 1e-6 * np.sin(2 * np.pi * (9.0 + 0.25 * index) * t + rng.uniform(0, 2 * np.pi))
    data = rng.normal(0, 6e-6, (len(CHANNELS), t.size)) + alpha * rng.uniform(0.5, 1.5, (len(CHANNELS), 1))
    raw = mne.io.RawArray(data, mne.create_info(CHANNELS, SFREQ, "eeg"), verbose=False)
    raw.save(path, verbose=False)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("cohort")
    paths = []
    for i in range(N_RECORDINGS):
        path = folder / f"sub-{i:02d}_raw.fif"
        _recording(path, i)
        paths.append(str(path))
    return paths


def _tables(out: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in sorted(out.glob("*/metrics.csv"))}


def _seeds(out: Path) -> dict[str, int]:
    return {p.parent.name: json.loads(p.read_text())["seed"] for p in sorted(out.glob("*/params.json"))}


@pytest.fixture(scope="module")
def sequential(cohort, tmp_path_factory) -> Path:
    """The reference: every recording analysed in this process, one after another (--jobs 1)."""
    out = tmp_path_factory.mktemp("sequential") / "out"
    assert main(["-q", "analyze", *cohort, "--out", str(out), "--jobs", "1"]) == 0
    assert len(_tables(out)) == N_RECORDINGS
    return out


@pytest.mark.slow
def test_jobs_2_gives_byte_identical_tables(cohort, sequential, tmp_path):
    """--jobs 2 (a LocalCluster of two single-threaded workers) writes the same tables as --jobs 1."""
    out = tmp_path / "out"
    assert main(["-q", "analyze", *cohort, "--out", str(out), "--jobs", "2"]) == 0
    assert _tables(out) == _tables(sequential)
    seeds = _seeds(out)
    assert seeds == _seeds(sequential)
    assert len(set(seeds.values())) == N_RECORDINGS  # one stream per recording, from its content
    index = (out / "index.tsv").read_text()
    assert (sequential / "index.tsv").read_text() == index  # listed in the recordings' order, not the finishing order
    # Resumed: a second run finds everything up to date and starts no work.
    assert main(["-q", "analyze", *cohort, "--out", str(out), "--jobs", "2"]) == 0
    assert _tables(out) == _tables(sequential)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dask(*args: str, log: Path, preexec=None) -> subprocess.Popen:
    executable = Path(sys.executable).with_name("dask")
    return subprocess.Popen([str(executable), *args], stdout=log.open("w"), stderr=subprocess.STDOUT,
                            preexec_fn=preexec, cwd=log.parent)


def _wait_for(condition, what: str, timeout: float = 120.0, poll: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(poll)


def _workers(scheduler_file: Path) -> int:
    from distributed import Client

    with Client(scheduler_file=str(scheduler_file), timeout=10) as client:
        return len(client.scheduler_info()["workers"])


@pytest.fixture
def remote_cluster(tmp_path):
    """A scheduler and two workers, each its own process, on 127.0.0.1 with random free ports."""
    scheduler_file = tmp_path / "scheduler.json"
    processes = {"scheduler": _dask("scheduler", "--host", "127.0.0.1", "--port", str(_free_port()),
                                    "--no-dashboard", "--scheduler-file", str(scheduler_file),
                                    log=tmp_path / "scheduler.log")}
    _wait_for(scheduler_file.is_file, "the scheduler file")
    for name in ("w1", "w2"):
        processes[name] = _dask("worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1", "--no-nanny",
                                "--name", name, "--no-dashboard", "--host", "127.0.0.1",
                                log=tmp_path / f"{name}.log")
    _wait_for(lambda: _workers(scheduler_file) == 2, "two workers", poll=0.5)
    address = json.loads(scheduler_file.read_text())["address"]
    try:
        yield address, processes
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.slow
def test_remote_cluster_loses_nothing_when_a_worker_dies(cohort, sequential, remote_cluster, tmp_path):
    """--scheduler: one worker SIGKILLed mid-run; its tasks run on the other; every output, identical, no leftovers."""
    address, processes = remote_cluster
    out = tmp_path / "out"
    env = {**os.environ, "HARMONIX_SCHEDULER": ""}
    run = subprocess.Popen([sys.executable, "-m", "harmonix.cli", "-q", "analyze", *cohort, "--out", str(out),
                            "--scheduler", address], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env)
    # Kill w1 as soon as the first recording is being written: both workers are busy by then.
    _wait_for(lambda: out.is_dir() and any(out.iterdir()) or run.poll() is not None, "the first output")
    assert run.poll() is None, run.communicate()
    processes["w1"].send_signal(signal.SIGKILL)
    stdout, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stderr
    assert processes["w1"].wait(timeout=10) == -signal.SIGKILL
    assert _tables(out) == _tables(sequential)
    assert sorted(p.name for p in out.iterdir()) == sorted([Path(c).stem for c in cohort] + ["index.tsv"])
    assert not list(out.rglob("*.partial")), "a staging folder was left behind"
    assert stdout.count(" -> ") == N_RECORDINGS  # one line per recording: nothing reported twice


@pytest.mark.slow
def test_a_vanished_scheduler_ends_with_one_line_and_keeps_what_finished(cohort, sequential, remote_cluster,
                                                                          tmp_path):
    """The scheduler SIGKILLed mid-run: exit 2, one line; what finished is kept; the same command finishes the rest."""
    address, processes = remote_cluster
    out = tmp_path / "out"
    command = [sys.executable, "-m", "harmonix.cli", "-q", "analyze", *cohort, "--out", str(out)]
    run = subprocess.Popen([*command, "--scheduler", address], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env={**os.environ, "HARMONIX_SCHEDULER": ""})
    _wait_for(lambda: len(_tables(out)) >= 1 or run.poll() is not None, "the first output")
    processes["scheduler"].send_signal(signal.SIGKILL)
    _, stderr = run.communicate(timeout=120)
    errors = [line for line in stderr.splitlines() if line.strip() and not line.startswith("harmonix: warning:")]
    assert run.returncode == 2
    assert len(errors) == 1 and f"lost the Dask scheduler at {address}" in errors[0], stderr
    kept = _tables(out)
    assert kept and all(kept[name] == table for name, table in _tables(sequential).items() if name in kept)
    for name in ("w1", "w2"):  # the workers finish or drop their task; then the same command, here, does the rest
        processes[name].send_signal(signal.SIGKILL)
        processes[name].wait(timeout=10)
    finish = subprocess.run([*command, "--jobs", "1"], capture_output=True, text=True, timeout=600)
    assert finish.returncode == 0, finish.stderr
    assert _tables(out) == _tables(sequential)
    assert not list(out.rglob("*.partial"))


def test_jobs_0_is_a_usage_error(cohort, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["analyze", cohort[0], "--out", str(out), "--jobs", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--jobs" in err[0] and ">= 1" in err[0]
    assert not out.exists()


def test_unreachable_scheduler_is_one_line_and_leaves_nothing(cohort, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 2.0)
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    out = tmp_path / "out"
    assert main(["-q", "analyze", cohort[0], "--out", str(out), "--scheduler", address]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("harmonix: warning:")]
    assert len(err) == 1 and f"cannot reach the Dask scheduler at {address}" in err[0]
    assert not out.exists()


def _can_unshare() -> bool:
    try:
        return subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.slow
@pytest.mark.skipif(not _can_unshare(), reason="needs a private mount namespace (unshare -m) for the blind worker")
def test_a_worker_that_cannot_read_the_inputs(cohort, tmp_path):
    """A worker whose file system lacks the input folder: each recording fails with one line naming its path."""
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = _dask("scheduler", "--host", "127.0.0.1", "--port", str(_free_port()), "--no-dashboard",
                      "--scheduler-file", str(scheduler_file), log=tmp_path / "scheduler.log")
    worker = None
    try:
        _wait_for(scheduler_file.is_file, "the scheduler file")
        inputs = Path(cohort[0]).parent
        dask = Path(sys.executable).with_name("dask")
        # The worker's view hides the inputs under an empty tmpfs; the outputs' folder stays shared.
        worker = subprocess.Popen(
            ["unshare", "-m", "sh", "-c", f"mount -t tmpfs none '{inputs}' && exec '{dask}' worker "
             f"--scheduler-file '{scheduler_file}' --nthreads 1 --no-nanny --no-dashboard --host 127.0.0.1"],
            stdout=(tmp_path / "worker.log").open("w"), stderr=subprocess.STDOUT)
        _wait_for(lambda: _workers(scheduler_file) == 1, "the worker", poll=0.5)
        address = json.loads(scheduler_file.read_text())["address"]
        out = tmp_path / "out"
        run = subprocess.run([sys.executable, "-m", "harmonix.cli", "-q", "analyze", *cohort[:2], "--out", str(out),
                              "--scheduler", address], capture_output=True, text=True, timeout=300)
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=20)
    errors = [line for line in run.stderr.splitlines() if line.startswith("harmonix: error:")]
    assert run.returncode == 2  # every recording failed: nothing was written
    assert len(errors) == 2
    for line, path in zip(sorted(errors), sorted(cohort[:2])):
        assert path in line and "no such file on the Dask worker" in line and "file system every worker shares" in line
    assert not (out.exists() and any(p for p in out.iterdir() if p.name != "index.tsv"))


@pytest.mark.slow
def test_compare_with_jobs_2_writes_the_same_comparison(cohort, tmp_path):
    """compare --jobs 2 analyses its recordings on the LocalCluster; every table equals the one-process run's."""
    table = tmp_path / "sessions.csv"
    rows = [f"{path},s{i % 4},{'pre' if i < 4 else 'post'}" for i, path in enumerate(cohort)]
    table.write_text("path,subject,session\n" + "\n".join(rows) + "\n")
    outputs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        assert main(["-q", "compare", str(table), "--labels", "pre,post", "--out", str(out), "--permutations",
                     "200", "--no-report", "--jobs", jobs]) == 0
        outputs[jobs] = out
    for name in ("comparison.csv", "session_table.csv"):
        assert (outputs["1"] / name).read_bytes() == (outputs["2"] / name).read_bytes(), name
    assert _tables(outputs["1"] / "analysis") == _tables(outputs["2"] / "analysis")
