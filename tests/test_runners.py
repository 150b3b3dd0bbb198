"""pipeline.runners: what a local run hands to Beam's worker processes."""

from __future__ import annotations

import importlib.util
import json
import os

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from pipeline.runners import WORKER_PIDS_VARIABLE, WORKER_SET_UP_MODULE, subprocess_worker_options


def _pipeline(*flags: str, runner=None) -> beam.Pipeline:
    return beam.Pipeline(runner=runner or FnApiRunner(), options=PipelineOptions(list(flags)))


def test_worker_processes_get_the_log_level_for_the_run_only(monkeypatch):
    monkeypatch.delenv("PIPELINE_OPTIONS_FILE", raising=False)
    pipeline = _pipeline(
        "--direct_running_mode", "multi_processing", "--sdk_harness_log_level_overrides", '{"transforms": "INFO"}'
    )
    with subprocess_worker_options(pipeline):
        path = os.environ["PIPELINE_OPTIONS_FILE"]
        with open(path, encoding="utf-8") as file:
            handed = json.load(file)["options"]
        pids = os.environ[WORKER_PIDS_VARIABLE]  # where the workers register, for a forwarded stop
        assert os.path.isdir(pids) and not os.listdir(pids)
    assert handed == {
        "default_sdk_harness_log_level": "WARNING",
        "sdk_harness_log_level_overrides": {"__main__": "ERROR", "transforms": "INFO"},
        "beam_plugins": [WORKER_SET_UP_MODULE],
    }
    assert importlib.util.find_spec(WORKER_SET_UP_MODULE)  # the worker can import it (not here: it sets SIGINT)
    assert "PIPELINE_OPTIONS_FILE" not in os.environ and not os.path.exists(path)
    assert WORKER_PIDS_VARIABLE not in os.environ and not os.path.exists(pids)

    debug = _pipeline("--direct_running_mode", "multi_processing", "--default_sdk_harness_log_level", "DEBUG")
    with subprocess_worker_options(debug):
        with open(os.environ["PIPELINE_OPTIONS_FILE"], encoding="utf-8") as file:
            assert json.load(file)["options"]["default_sdk_harness_log_level"] == "DEBUG"


def test_other_modes_and_a_users_own_options_file_are_left_alone(monkeypatch, tmp_path):
    monkeypatch.delenv("PIPELINE_OPTIONS_FILE", raising=False)
    with subprocess_worker_options(_pipeline()):  # in_memory: no worker processes
        assert "PIPELINE_OPTIONS_FILE" not in os.environ and WORKER_PIDS_VARIABLE not in os.environ
    own = str(tmp_path / "mine.json")
    monkeypatch.setenv("PIPELINE_OPTIONS_FILE", own)
    with subprocess_worker_options(_pipeline("--direct_running_mode", "multi_processing")):
        assert os.environ["PIPELINE_OPTIONS_FILE"] == own
    assert os.environ["PIPELINE_OPTIONS_FILE"] == own


_SIGNAL_BEFORE_ITS_HANDLER = """
import os, signal, threading, time
from pipeline import runners

runners.interrupt_on_stop_signals()
seen = []
masked = threading.Event()
def engine_thread():
    masked.wait()
    os.kill(os.getpid(), signal.SIGTERM)  # the main thread blocks it: delivered here
    time.sleep(0.5)
    # The main thread waits in join() and runs no handler before this thread ends.
    seen.append((list(runners._STOP_SIGNALS), runners.stop_requested()))
thread = threading.Thread(target=engine_thread)
thread.start()  # before the mask, so it does not inherit it
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
masked.set()
try:
    thread.join()
    time.sleep(1)
    print("no interrupt")
except KeyboardInterrupt:
    print(seen)
"""


def test_an_engine_thread_sees_a_stop_before_the_main_thread_has_handled_it():
    """A signal the main thread has not yet handled (Python runs handlers there only)
    already counts as a stop in another thread, through the wakeup pipe."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", _SIGNAL_BEFORE_ITS_HANDLER], capture_output=True, text=True, timeout=60
    )
    # The handler had recorded nothing yet, and it is a stop all the same.
    assert result.stdout.strip() == "[([], True)]", result.stdout + result.stderr


_WORKER = """
import time
import pipeline.worker_process  # as Beam imports it in a worker: handlers, then the id written
print("up", flush=True)
time.sleep(120)
"""


def test_a_stop_sent_to_the_run_alone_reaches_its_workers(monkeypatch, tmp_path):
    """`kill PID` or `docker stop` signal the run only; it forwards the stop to the worker
    processes that registered (pipeline/worker_process.py), and they leave quietly (status
    0). An id of a process outside the run's process group is not signalled."""
    import signal
    import subprocess
    import sys

    from pipeline import runners

    folder = tmp_path / "pids"
    folder.mkdir()
    environment = {**os.environ, runners.WORKER_PIDS_VARIABLE: str(folder)}
    workers = [
        subprocess.Popen([sys.executable, "-c", _WORKER], env=environment, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    try:
        for worker in workers:
            assert worker.stdout.readline() == "up\n"
        assert sorted(p.name for p in folder.iterdir()) == sorted(f"{w.pid}.pid" for w in workers)
        (folder / f"{stranger.pid}.pid").touch()  # e.g. an old id another program got since
        (folder / "notes.txt").touch()

        assert runners.forward_to_workers(signal.SIGTERM) == 0  # no run going on
        monkeypatch.setattr(runners, "_WORKER_PIDS_FOLDER", str(folder))
        assert runners.forward_to_workers(signal.SIGTERM) == 2

        assert [worker.wait(timeout=30) for worker in workers] == [0, 0]
        assert stranger.poll() is None
    finally:
        for process in (*workers, stranger):
            process.kill()
            process.wait()
