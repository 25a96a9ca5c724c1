"""Where a study's recordings run: in this process, on a local Dask cluster, or on a lab's existing one.

A study's recordings are independent tasks (analyse one file, write its
folder atomically). :func:`compute_cluster` gives a
:class:`distributed.Client` for them:

- ``jobs=1`` and no scheduler: no client; the batch runs in this process,
  one recording after another (no Dask at all).
- ``jobs=N``: a :class:`distributed.LocalCluster` of ``N`` worker processes
  with one thread each and an equal share of the memory
  (``memory_limit='auto'``). Dask's nannies start every worker with
  ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS`` at 1,
  and :func:`map_tasks` also runs each task under
  ``threadpool_limits(1)``, one FFT thread
  (:func:`harmonix.spectral.filterbank.fft_thread_budget`) and one numba
  thread, so ``N`` workers use ``N`` cores, never ``N`` times the machine's
  thread pools. (Dask's ``MALLOC_TRIM_THRESHOLD_`` is not passed on: harmonix
  frees large blocks every few seconds, and early trimming turns them into
  page faults; see :func:`local_cluster`.)
- ``scheduler='tcp://host:8786'`` (or ``$HARMONIX_SCHEDULER``): the tasks go
  to that cluster (``dask scheduler`` and ``dask worker`` started by hand,
  or a ``dask-jobqueue`` cluster on Slurm, PBS or SGE). Inputs and outputs
  must be paths every worker can reach (a shared file system).

:func:`map_tasks` submits the tasks and yields their outcomes as they finish.
A worker that dies in the middle of a task (killed, out of memory) has the
task re-run on another worker, up to :data:`ALLOWED_FAILURES` times (Dask's
``distributed.scheduler.allowed-failures``, set here for a local cluster; a
remote scheduler uses its own setting); after that the recording fails with
a message saying so. A task that fails on its own merits (a bad file) is never
re-run: it would fail again. A scheduler that goes away ends the run with a
:class:`ClusterError`; what finished is kept.

Nothing a task computes depends on which worker runs it or in which order
tasks finish: every random stream is seeded from the recording itself
(:func:`recording_seed`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from harmonix.errors import HarmonixError

__all__ = ["ALLOWED_FAILURES", "SCHEDULER_ENV", "ClusterError", "WorkerLost", "compute_cluster", "local_cluster",
           "map_tasks", "recording_seed"]

logger = logging.getLogger("harmonix")

SCHEDULER_ENV = "HARMONIX_SCHEDULER"
"""Environment variable naming a Dask scheduler to use when ``--scheduler`` is not given."""

ALLOWED_FAILURES = 2
"""Times a task may lose its worker and be re-run elsewhere before its recording is reported as failed."""

CONNECT_TIMEOUT_S = 10.0
"""Seconds to wait for a remote scheduler to answer."""


class ClusterError(HarmonixError):
    """The Dask scheduler cannot be reached, or went away during the run."""


class WorkerLost(HarmonixError):
    """A recording's task lost its worker more often than :data:`ALLOWED_FAILURES` allows."""


def recording_seed(record: Mapping[str, Any] | None, seed: int = 0) -> int:
    """The seed of one recording's random streams: from its input files' hashes and the user's ``seed``.

    ``sha256("<sha256 of each input, sorted>|<seed>")``, first 8 bytes, as an
    integer: the same recording and seed give the same surrogates and
    bootstraps whichever worker analyses it and in whatever order, and two
    recordings never share a stream by accident.

    Parameters
    ----------
    record : mapping | None
        The recording's provenance record (:func:`harmonix.study.provenance.make_record`);
        ``None`` gives ``seed`` itself.
    seed : int
        The user's seed (``--seed``).

    Examples
    --------
    >>> a = recording_seed({"inputs": {"/data/a.fif": "ab" * 32}}, 0)
    >>> a == recording_seed({"inputs": {"/elsewhere/a.fif": "ab" * 32}}, 0)  # the content counts, not the path
    True
    >>> a == recording_seed({"inputs": {"/data/a.fif": "ab" * 32}}, 1)
    False
    """
    if not record or not record.get("inputs"):
        return int(seed)
    hashes = sorted(str(h) for h in record["inputs"].values())
    digest = hashlib.sha256(("|".join(hashes) + f"|{int(seed)}").encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _check_jobs(jobs: Any) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise HarmonixError(f"jobs must be a whole number of worker processes >= 1, got {jobs!r}")
    return jobs


@contextlib.contextmanager
def compute_cluster(jobs: int = 1, scheduler: str | None = None, *,
                    memory_limit: str | int = "auto") -> Iterator[Any]:
    """A Dask client for a study's tasks, or ``None`` to run them in this process.

    Parameters
    ----------
    jobs : int
        Worker processes of a local cluster (one thread each); ``1`` runs in
        this process. Ignored when a scheduler is given.
    scheduler : str | None
        Address of an existing Dask scheduler (``tcp://host:port``); default
        ``$HARMONIX_SCHEDULER`` when set.
    memory_limit : str | int
        Per-worker memory limit of a local cluster (Dask's syntax: ``'auto'``
        shares the machine's memory equally, ``'4GB'``, bytes).

    Yields
    ------
    client : distributed.Client | None

    Raises
    ------
    ClusterError
        The scheduler cannot be reached (one line naming the address).
    HarmonixError
        ``jobs`` is not a whole number >= 1.
    """
    jobs = _check_jobs(jobs)
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if scheduler is None and jobs == 1:
        yield None
        return
    from distributed import Client

    if scheduler is not None:
        with _quiet_dask_client():
            try:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as err:
                raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {_reason(err)}") from None
        with _quiet_dask_client(), contextlib.closing(client):
            n_workers = len(client.scheduler_info().get("workers", {}))
            waiting = "; the tasks wait until workers join" if n_workers == 0 else ""
            _announce(client, f"Dask cluster at {scheduler} with {n_workers} worker(s){waiting}")
            warming = _warm(client)  # noqa: F841 - held, so that the preload tasks run
            yield client
        return
    with local_cluster(jobs, memory_limit=memory_limit) as cluster, Client(cluster, set_as_default=False) as client:
        _announce(client, f"local Dask cluster: {jobs} workers x 1 thread")
        warming = _warm(client)  # noqa: F841 - held, so that the preload tasks run
        yield client


@contextlib.contextmanager
def _quiet_dask_client() -> Iterator[None]:
    """Dask's own client log (reconnection tracebacks when a scheduler goes away) only with ``--verbose``.

    What happened reaches the user as one :class:`ClusterError` line instead.
    """
    loggers = [logging.getLogger(name) for name in ("distributed", "distributed.client")]
    previous = [each.level for each in loggers]
    if logger.getEffectiveLevel() > logging.INFO:
        for each in loggers:
            each.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for each, level in zip(loggers, previous):
            each.setLevel(level)


def local_cluster(n_workers: int, *, memory_limit: str | int = "auto"):
    """The :class:`distributed.LocalCluster` ``--jobs`` starts: ``n_workers`` processes, one thread each.

    Tasks that lose their worker are re-run up to :data:`ALLOWED_FAILURES`
    times. Dask's nannies start workers with ``MALLOC_TRIM_THRESHOLD_=65536``
    (memory back to the system early, good for long-lived dataframes);
    harmonix allocates and frees large blocks every few seconds, which that
    turns into page faults, so the workers keep glibc's default. One thread
    each for OpenMP, MKL and OpenBLAS stays.

    Raises
    ------
    ClusterError
        The workers cannot be started.
    """
    import dask
    from distributed import LocalCluster

    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                          "distributed.nanny.pre-spawn-environ": environ}):
        try:
            return LocalCluster(n_workers=_check_jobs(n_workers), threads_per_worker=1, processes=True,
                                memory_limit=memory_limit, dashboard_address=_dashboard_address(),
                                silence_logs=logging.ERROR)
        except (OSError, RuntimeError, TimeoutError) as err:
            raise ClusterError(f"cannot start a local Dask cluster of {n_workers} workers: {_reason(err)}") from None


def _preload() -> None:
    """Import the analysis stack on a worker (seconds of imports), while the client is still planning."""
    import harmonix.harmonics.model  # noqa: F401
    import harmonix.workflows  # noqa: F401


def _warm(client: Any) -> list:
    """One preload task per worker, not waited for: the first recordings then start on a warm worker.

    The futures are returned for the caller to hold while the cluster is in
    use: a future nobody holds is forgotten by the scheduler, task and all.
    """
    try:
        return [client.submit(_preload, workers=[address], allow_other_workers=False, pure=False,
                              key=f"harmonix-preload-{uuid.uuid4().hex[:8]}")
                for address in client.scheduler_info().get("workers", {})]
    except (OSError, TimeoutError):
        return []  # the batch's own tasks will say what is wrong with the cluster


def _dashboard_address() -> str | None:
    """A free port for the dashboard when its dependency (bokeh) is installed; otherwise none."""
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return None
    return "127.0.0.1:0"


def _announce(client: Any, what: str) -> None:
    from harmonix.progress import write_line

    link = getattr(client, "dashboard_link", None) if _dashboard_address() else None
    write_line(f"{what}" + (f"; dashboard {link}" if link else ""))


def _reason(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) < 200 else text[:197] + "..."


# Callables shipped once per batch and kept on each worker, so that what a batch's callable caches (a
# harmonic model, loaded bands) is built once per worker, not once per task.
_CALLABLES: dict[str, Callable] = {}


def _call(token: str, payload: bytes, item: Any, log_levels: tuple[int, int], command: str) -> tuple[Any, list]:
    """Run one task on a worker: the batch's callable under one BLAS thread, with the client's log levels.

    Outputs record the client's command line, not the worker's.

    Returns the value and the warnings it raised (re-issued on the client, so
    that they reach the user's console as they would from a local run).
    """
    import warnings

    from threadpoolctl import threadpool_limits

    fn = _CALLABLES.get(token)
    if fn is None:
        import cloudpickle

        _CALLABLES.clear()  # one batch at a time per worker: drop the previous one's callable and caches
        fn = _CALLABLES[token] = cloudpickle.loads(payload)
    import mne  # noqa: F401 - imported before the levels are set: its import resets its logger's level

    from harmonix.study.provenance import set_command_line

    logging.getLogger("mne").setLevel(log_levels[0])
    logging.getLogger("harmonix").setLevel(log_levels[1])
    set_command_line(command)
    from harmonix.spectral.filterbank import fft_thread_budget

    _one_numba_thread()
    with threadpool_limits(1), fft_thread_budget(1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        value = fn(item)
    return value, [(w.category, str(w.message)) for w in caught]


def _one_numba_thread() -> None:
    """The compiled loops' parallel ranges run on one thread in this (the task's) thread, as BLAS and FFT do."""
    try:
        import numba
    except ImportError:
        return
    numba.set_num_threads(1)


def _reissue(caught: list) -> None:
    import warnings

    for category, message in caught:
        warnings.warn(message, category if isinstance(category, type) and issubclass(category, Warning)
                      else UserWarning, stacklevel=2)


def map_tasks(client: Any, fn: Callable[[Any], Any], items: Sequence[Any], *,
              names: Sequence[str]) -> Iterator[tuple[int, Any, BaseException | None]]:
    """Run ``fn(item)`` for every item on the cluster; yield ``(index, value, error)`` as each finishes.

    Parameters
    ----------
    client : distributed.Client
    fn : callable
        Pickled once (cloudpickle) and kept on each worker for the batch, so
        state it caches is shared by the worker's tasks.
    items : sequence
    names : sequence of str
        One per item, shown in Dask's task names (``harmonix-<name>``).

    Yields
    ------
    index, value, error
        ``error`` is the task's exception (``value`` then ``None``), or a
        :class:`WorkerLost` when the task killed or lost its workers more than
        :data:`ALLOWED_FAILURES` times.

    Raises
    ------
    ClusterError
        The scheduler went away; the tasks not yet finished are abandoned.
    """
    import cloudpickle
    from distributed import as_completed

    from harmonix.study.provenance import command_line

    token = uuid.uuid4().hex
    address = getattr(client.scheduler, "address", None) or "?"
    try:
        # Sent once to every worker (not once per task): the callable may hold a harmonic model.
        payload = client.scatter(cloudpickle.dumps(fn, protocol=pickle.HIGHEST_PROTOCOL), broadcast=True, hash=False)
        levels = (logging.getLogger("mne").getEffectiveLevel(), logging.getLogger("harmonix").getEffectiveLevel())
        futures = {client.submit(_call, token, payload, item, levels, command_line(), pure=False,
                                 key=f"harmonix-{name}-{token[:8]}-{i}"): i
                   for i, (name, item) in enumerate(zip(names, items))}
    except (OSError, TimeoutError) as err:
        raise ClusterError(f"lost the Dask scheduler at {address} while submitting: {_reason(err)}") from None
    finished, index = 0, 0
    try:
        for future in as_completed(list(futures), loop=client.loop):
            index = futures[future]
            finished += 1
            if future.status == "error":
                error = _task_error(future)
                yield index, None, error
            elif future.status == "cancelled":
                reason = _cancel_reason(future)
                if client.status != "running" or "connection" in reason.lower():
                    raise _lost(address, len(futures) - finished + 1, names[index])
                raise ClusterError(f"the Dask cluster at {address} cancelled the task of {names[index]}{reason}; "
                                   "the finished outputs are kept")
            else:
                value, caught = future.result()
                _reissue(caught)
                yield index, value, None
            future.release()
    except (OSError, TimeoutError):
        raise _lost(address, len(futures) - finished + 1, names[index]) from None
    finally:
        with contextlib.suppress(Exception):
            client.cancel(list(futures))


def _lost(address: str, unfinished: int, name: str) -> ClusterError:
    return ClusterError(f"lost the Dask scheduler at {address} with {unfinished} recording(s) unfinished ({name}, "
                        "...); the finished outputs are kept, run the same command again to finish")


def _task_error(future: Any) -> BaseException:
    from distributed import KilledWorker

    error = future.exception()
    if isinstance(error, KilledWorker):
        return WorkerLost(f"its worker died {ALLOWED_FAILURES + 1} times while analysing it "
                          "(killed, or over its memory limit)")
    return error


def _cancel_reason(future: Any) -> str:
    """Why Dask cancelled ``future`` (e.g. ``scheduler-connection-lost``), as `` (reason)``, or ``""``."""
    import asyncio

    try:
        reason = future.exception(timeout=1)
    except (Exception, asyncio.CancelledError) as err:  # a cancelled future raises its reason
        reason = err
    return f" ({_reason(reason)})" if reason is not None else ""

