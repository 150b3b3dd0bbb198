"""Which Beam runner a run uses, always named, never left to Beam's defaults.

Beam's `DirectRunner` is a switching runner: it first tries Prism, which
downloads a Go binary from the internet and, offline, falls back silently.
newsbeam never asks for that. `DirectRunner` (and no `--runner` at all) means
the in-process engine, chosen explicitly:

- batch: `FnApiRunner`, Beam's in-process portable engine (it honours
  `--direct_num_workers` and `--direct_running_mode`);
- streaming: `BundleBasedDirectRunner`, which runs unbounded sources,
  `TestStream`, timers and state.

Short names Beam 2.77 does not know (`DaskRunner`) map to their class paths.

Stopping a local run (Ctrl-C or SIGTERM) is handled here too, because the
in-process engine makes it awkward: it re-raises the interrupt of a step as
its own error and logs it with a traceback (`interrupt_on_stop_signals`,
`run_to_completion`, `WithoutInterruptTracebacks`; `stop_requested` knows of a
signal as soon as it arrives, since the engine's threads can meet its
consequences before the main thread has run its handler), and it can leave a sampling
thread running that keeps the process from exiting
(`stop_interrupted_state_sampler`, which `run_to_completion` calls).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import tempfile
import threading

BATCH_LOCAL_RUNNER = "FnApiRunner"
STREAMING_LOCAL_RUNNER = "BundleBasedDirectRunner"

RUNNER_ALIASES = {
    # Beam's DaskRunner with per-output routing of tagged outputs (see pipeline/dask_runner.py).
    "DaskRunner": "pipeline.dask_runner.DaskRunner",
}

_LOCAL_SWITCHING_NAMES = {"directrunner", "direct", "switchingdirectrunner"}


class ClusterError(RuntimeError):
    """The cluster a run was sent to cannot run it: unreachable, without workers, or lost
    during the run (pipeline/dask_runner.py raises it). Its message is one line for the
    user, which `newsbeam run` prints alone, without a traceback."""


def resolve_runner(requested: str | None, streaming: bool) -> str:
    """The runner name to hand to Beam for what the user asked for."""
    if requested is None or requested.lower() in _LOCAL_SWITCHING_NAMES:
        return STREAMING_LOCAL_RUNNER if streaming else BATCH_LOCAL_RUNNER
    return RUNNER_ALIASES.get(requested, requested)


def stop_interrupted_state_sampler() -> bool:
    """End the sampling thread a Ctrl-C may leave behind in the in-process engine.

    Beam's `StateSampler.start()` starts a (non-daemon) sampling thread and only
    then marks itself started. A KeyboardInterrupt landing in between (while
    `Thread.start()` waits for the new thread) leaves it unmarked, so the
    bundle's cleanup (`stop_if_still_running`) does not stop it, and at exit the
    interpreter waits for that thread forever: an interrupted `newsbeam run` that
    printed its message and never ended. The sampler is still the current
    tracker of the interrupted thread. Returns whether one was stopped.
    """
    from apache_beam.runners.worker import statesampler

    sampler = statesampler.get_current_tracker()
    if sampler is None or sampler.finished:
        return False
    # The thread checks `finished` every sampling period and ends; not stop(), which
    # would join a thread that may never have been started.
    sampler.finished = True
    statesampler.set_current_tracker(None)
    return True


_STOP_SIGNALS: list[int] = []
# Read end of the pipe Python's C-level signal handler writes each signal number to the
# moment the signal arrives (`signal.set_wakeup_fd`), before the Python handler runs.
_SIGNALS_ARRIVED: int | None = None


# The folder where the worker processes of the current multi-process run write their
# process ids (pipeline/worker_process.py), while that run lasts.
_WORKER_PIDS_FOLDER: str | None = None
WORKER_PIDS_VARIABLE = "NEWSBEAM_WORKER_PIDS"


def _raise_interrupt(signum, frame):
    _STOP_SIGNALS.append(signum)
    forward_to_workers(signum)
    raise KeyboardInterrupt


def forward_to_workers(signum: int) -> int:
    """Send a stop signal on to the worker processes of the current run; how many got it.

    A terminal's Ctrl-C reaches the whole process group, but `kill PID`, `docker stop`
    or a supervisor signal the run alone. Its workers would then only see their streams
    close and shut down under a bundle thread still inside spaCy's BLIS ("libblis:
    Aborting."). With the signal they leave at once, quietly. Only processes of the
    run's own process group: an id a finished worker left behind cannot reach another
    program that got the same number since.
    """
    folder = _WORKER_PIDS_FOLDER
    if folder is None:
        return 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    reached = 0
    for name in names:
        if not (name.endswith(".pid") and name[:-4].isdigit()):
            continue
        pid = int(name[:-4])
        try:
            if os.getpgid(pid) != os.getpgrp():
                continue
            os.kill(pid, signum)
            reached += 1
        except (ProcessLookupError, PermissionError):  # already gone
            continue
    return reached


def interrupt_on_stop_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM raise KeyboardInterrupt, and are remembered.

    Remembered because the in-process engine catches a KeyboardInterrupt raised
    inside a step and re-raises it wrapped in its own error
    (`RuntimeError: KeyboardInterrupt [while running '...']`): `stop_requested`
    tells such an error from a real failure. Installed even where the shell
    started the process with SIGINT ignored (a background job), as the local
    streaming loop always was.
    """
    global _SIGNALS_ARRIVED
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    if _SIGNALS_ARRIVED is None:
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        os.set_blocking(write_end, False)
        signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        _SIGNALS_ARRIVED = read_end
    threading.excepthook = _quiet_after_stop


def stop_requested() -> bool:
    """Whether a stop signal has arrived, also before the main thread has run its handler.

    Python runs signal handlers in the main thread only, at its next instruction; an
    engine thread can meet the consequences of the same Ctrl-C first (a worker process
    that the signal already ended, its broken stream). The wakeup pipe says at once.
    """
    if not _STOP_SIGNALS and _SIGNALS_ARRIVED is not None:
        try:
            arrived = os.read(_SIGNALS_ARRIVED, 256)
        except BlockingIOError:  # nothing arrived
            arrived = b""
        _STOP_SIGNALS.extend(n for n in arrived if n in (signal.SIGINT, signal.SIGTERM))
    return bool(_STOP_SIGNALS)


# Worker start-up chatter of Beam's own worker module (`sdk_worker_main`, which runs as
# `__main__`): "No semi_persistent_directory found: User registered objects ... may not be
# effective" and the like are about staged main sessions, which newsbeam never uses (its
# code is an installed package). Its errors still show.
_WORKER_MODULE_LEVEL = {"__main__": "ERROR"}
WORKER_SET_UP_MODULE = "pipeline.worker_process"


@contextlib.contextmanager
def subprocess_worker_options(pipeline):
    """Hand the log level to the worker processes of `--direct_running_mode multi_processing`.

    Beam's FnApiRunner starts those workers with no pipeline options (they log
    `Pipeline_options: {}`), so `--default_sdk_harness_log_level` never reaches them and
    each prints about twenty INFO lines of its start-up into the run's output. Beam's
    worker reads its options from the file named by `PIPELINE_OPTIONS_FILE` when that
    is set (as its container boot sets it); for the run, that file holds the log level
    (WARNING unless the flag says otherwise), `--sdk_harness_log_level_overrides`, and
    `pipeline.worker_process` among the `beam_plugins` the worker imports (it makes a
    stop signal end the worker quietly, and registers the worker's process id in the
    folder `NEWSBEAM_WORKER_PIDS` names, for `forward_to_workers`). What a worker logs
    before reading it (about three lines) still shows. Other runners, and a
    `PIPELINE_OPTIONS_FILE` the user set, are left alone.
    """
    from apache_beam.options.pipeline_options import DirectOptions, SetupOptions, WorkerOptions
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    options = pipeline.options
    if (
        not isinstance(pipeline.runner, FnApiRunner)
        or options.view_as(DirectOptions).direct_running_mode != "multi_processing"
        or "PIPELINE_OPTIONS_FILE" in os.environ
    ):
        yield
        return
    harness = options.view_as(WorkerOptions)
    worker_options = {
        "default_sdk_harness_log_level": harness.default_sdk_harness_log_level or "WARNING",
        "sdk_harness_log_level_overrides": {**_WORKER_MODULE_LEVEL, **(harness.sdk_harness_log_level_overrides or {})},
        "beam_plugins": [*(options.view_as(SetupOptions).beam_plugins or []), WORKER_SET_UP_MODULE],
    }
    global _WORKER_PIDS_FOLDER
    with tempfile.TemporaryDirectory(prefix="newsbeam-worker-") as folder:
        path = os.path.join(folder, "pipeline_options.json")
        with open(path, "w", encoding="utf-8") as file:
            json.dump({"options": worker_options}, file)
        pids = os.path.join(folder, "pids")
        os.mkdir(pids)
        os.environ["PIPELINE_OPTIONS_FILE"] = path
        os.environ[WORKER_PIDS_VARIABLE] = pids
        _WORKER_PIDS_FOLDER = pids
        try:
            yield
        finally:
            _WORKER_PIDS_FOLDER = None
            del os.environ["PIPELINE_OPTIONS_FILE"]
            del os.environ[WORKER_PIDS_VARIABLE]


def run_to_completion(pipeline):
    """Run the pipeline and wait for it; its result.

    A requested stop comes out as KeyboardInterrupt, also when the engine wrapped it
    in its own error, and with any sampling thread it left behind ended.
    """
    try:
        with subprocess_worker_options(pipeline):
            result = pipeline.run()
            result.wait_until_finish()
    except KeyboardInterrupt:
        stop_interrupted_state_sampler()
        raise
    except Exception:
        if stop_requested():  # Ctrl-C inside a step, wrapped in the runner's own error
            stop_interrupted_state_sampler()
            raise KeyboardInterrupt from None
        raise
    return result


_report_thread_error = threading.excepthook


def _quiet_after_stop(args) -> None:
    """Threads of the engine that die of a requested stop (its gRPC streams to worker
    processes, `Worker subprocess exited with return code -2`) die quietly."""
    if not stop_requested():
        _report_thread_error(args)


class WithoutInterruptTracebacks(logging.Filter):
    """Drops what Beam logs about the work a Ctrl-C interrupted.

    Beam logs that KeyboardInterrupt as an ERROR with the whole traceback of
    the step, and with several worker processes the broken gRPC streams to
    them as well; after a requested stop those are its consequences, and
    newsbeam says in one line that it was interrupted. Before a stop, and for
    anything but Beam's and gRPC's errors, every record passes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not stop_requested():
            return True
        interrupted = record.exc_info is not None and isinstance(record.exc_info[1], KeyboardInterrupt)
        consequence = record.name.startswith(("apache_beam", "grpc")) and record.levelno >= logging.ERROR
        return not (interrupted or consequence or "KeyboardInterrupt" in record.getMessage())
