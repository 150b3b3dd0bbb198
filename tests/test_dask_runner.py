"""The same batch pipeline on a real Dask cluster gives the DirectRunner's output.

A cluster started as the README starts one (`dask scheduler`, `dask worker
--nworkers 2`, in a folder of their own) runs newsbeam through the real CLI
(`--runner DaskRunner --dask_client_address ...`, relative paths given from
another folder) on the seeds plus a few hundred real articles; the Parquet
output must equal the in-process runner's row for row: same rows, same
event_ids, same copy groups. A cluster that cannot run the pipeline (no
scheduler there, no workers, workers or scheduler gone during the run, workers
dying on a task) ends the run with one line, not a traceback or a wait
without end. Smaller graphs run on a `LocalCluster` with two worker processes.
"""

from __future__ import annotations

import collections
import contextlib
import gzip
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.runners import ClusterError
from tests.conftest import BATCH_RUNNER, NEWSBEAM, SEEDS_DIR, SHARED, require_shared, run_newsbeam

DASK = str(pathlib.Path(sys.executable).with_name("dask"))


class CommandLineCluster:
    """`dask scheduler` and `dask worker` run as programs, on loopback, in `folder` (their cwd)."""

    def __init__(self, folder: pathlib.Path, workers: int, env: dict | None = None):
        self.folder = folder
        self.processes: dict[str, subprocess.Popen] = {}
        folder.mkdir(parents=True, exist_ok=True)
        self._start("scheduler", [
            "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", "scheduler.json",
        ], env)
        self.address = self._scheduler_address()
        if workers:
            self._start("workers", [
                "worker", self.address, "--nworkers", str(workers), "--nthreads", "1", "--no-dashboard",
            ], env)
            from dask.distributed import Client

            with Client(self.address, timeout=30) as client:
                client.wait_for_workers(workers, timeout=60)

    def _start(self, name: str, args: list[str], env: dict | None = None) -> None:
        log = open(self.folder / f"{name}.log", "w")
        self.processes[name] = subprocess.Popen(
            [DASK, *args], cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})}, start_new_session=True,  # its own group: stop() ends its workers too
        )
        log.close()

    def _scheduler_address(self) -> str:
        path = self.folder / "scheduler.json"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.processes["scheduler"].poll() is None, (self.folder / "scheduler.log").read_text()
            with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
                return json.loads(path.read_text())["address"]
            time.sleep(0.2)
        raise TimeoutError((self.folder / "scheduler.log").read_text())

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)


@pytest.fixture
def start_cluster(tmp_path_factory):
    """Start command-line clusters (`start_cluster(workers=2)`); all are stopped after the test.
    `env` is added to the environment of the scheduler and the workers."""
    clusters = []

    def start(workers: int = 2, env: dict | None = None) -> CommandLineCluster:
        cluster = CommandLineCluster(tmp_path_factory.mktemp("dask_cluster"), workers, env)
        clusters.append(cluster)
        return cluster

    yield start
    for cluster in clusters:
        cluster.close()


ARTICLES_FROM_REPRINTS = 200


@pytest.fixture(scope="module")
def mixed_input(tmp_path_factory) -> list[str]:
    """The seeds plus the first real articles of the reprint set, as JSONL."""
    source = require_shared(SHARED / "data" / "reprints" / "reprints.dev.jsonl.gz")
    folder = tmp_path_factory.mktemp("dask_input")
    with gzip.open(source, "rt", encoding="utf-8") as lines, open(folder / "reprints.jsonl", "w") as out:
        for count, line in enumerate(lines):
            if count == ARTICLES_FROM_REPRINTS:
                break
            record = json.loads(line)
            out.write(json.dumps({k: record[k] for k in ("article_id", "url", "outlet", "title", "text", "published")}) + "\n")
    return ["--input", str(SEEDS_DIR / "*.txt"), "--input", str(folder / "*.jsonl")]


def _rows(output: pathlib.Path) -> dict[str, list[dict]]:
    """Rows of every published file, by path, without the run's own clock."""
    return {
        str(path.relative_to(output)): pq.read_table(path).drop_columns(["ingested_at"]).to_pylist()
        for path in sorted(output.glob("event_id=*/date=*/*.parquet"))
    }


def test_the_readme_cluster_gives_the_direct_runners_output(mixed_input, start_cluster, tmp_path):
    """The README's commands: a scheduler and two workers started with the `dask` program
    in their own folder, and `newsbeam run` with relative paths from another one (the CLI
    makes them absolute, or the workers would read and write beside themselves)."""
    cluster = start_cluster(workers=2)
    launch = tmp_path / "launch"
    inputs = []
    for flag, pattern in zip(mixed_input[::2], mixed_input[1::2]):
        pattern = pathlib.Path(pattern)
        copy = launch / "in" / pattern.parent.name
        shutil.copytree(pattern.parent, copy, dirs_exist_ok=True)
        inputs += [flag, str(copy.relative_to(launch) / pattern.name)]

    run_newsbeam(*inputs, "--output", "direct", "--runner", BATCH_RUNNER, cwd=launch)
    result = run_newsbeam(
        *inputs, "--output", "dask",
        "--runner", "DaskRunner", "--dask_client_address", cluster.address, cwd=launch,
    )
    assert "conserved=yes" in result.stdout
    # Beam warned of its default partition size once per Create.
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr, result.stderr
    assert not (cluster.folder / "dask").exists(), "a relative --output reached the workers as relative"

    direct_rows, dask_rows = _rows(launch / "direct"), _rows(launch / "dask")
    assert sum(len(rows) for rows in direct_rows.values()) == ARTICLES_FROM_REPRINTS + 5
    assert dask_rows == direct_rows
    copies = [r for rows in direct_rows.values() for r in rows if not r["is_canonical"]]
    assert copies, "the input should hold syndicated copies, so copy groups are compared too"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_failing(*args: str) -> subprocess.CompletedProcess:
    """`newsbeam run ARGS` expected to fail soon (a run that waits instead fails the test in 120 s)."""
    return subprocess.run([NEWSBEAM, "run", *args], capture_output=True, text=True, timeout=120)


def _one_line_failure(result, *phrases: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert lines[-1].startswith("newsbeam: ") and all(p in lines[-1] for p in phrases), result.stderr
    assert lines[-1].endswith("nothing of this run was published")


def test_no_scheduler_at_the_address_is_one_line(tmp_path):
    """Beam's runner printed 70 lines of chained tracebacks (after Dask's 30 s)."""
    address = f"127.0.0.1:{_free_port()}"
    started = time.monotonic()
    result = _run_failing(
        "--output", str(tmp_path / "out"), "--runner", "DaskRunner",
        "--dask_client_address", address, "--dask_connection_timeout", "2",
    )
    _one_line_failure(result, f"cannot reach the Dask scheduler at {address}", "--dask_connection_timeout")
    assert time.monotonic() - started < 30
    assert not (tmp_path / "out").exists()  # the folder the run made goes with it


def test_a_missing_scheduler_file_is_not_waited_for_forever(tmp_path):
    """Dask waits for a scheduler file to appear, without a time limit."""
    result = _run_failing(
        "--output", str(tmp_path / "out"), "--runner", "DaskRunner",
        "--dask_scheduler_file", str(tmp_path / "scheduler.json"), "--dask_connection_timeout", "2",
    )
    _one_line_failure(result, f"no Dask scheduler file at {tmp_path / 'scheduler.json'}")


def test_a_scheduler_without_workers_is_one_line(start_cluster, tmp_path):
    """A scheduler with no worker took the graph and the run waited without a word, forever."""
    cluster = start_cluster(workers=0)
    result = _run_failing(
        "--output", str(tmp_path / "out"), "--runner", "DaskRunner",
        "--dask_client_address", cluster.address, "--dask_connection_timeout", "3",
    )
    _one_line_failure(result, f"the Dask scheduler at {cluster.address} has no workers", "dask worker")


# The DoFns below are classes of this module: the cluster imports them from the checkout.
_TEST_DOFNS_IMPORTABLE = {"PYTHONPATH": str(pathlib.Path(__file__).resolve().parents[1])}


class _SignalThenWait(beam.DoFn):
    """Writes `started` into the folder, then works (sleeps) long enough to be cut short."""

    def __init__(self, folder: str):
        self._folder = folder

    def process(self, element):
        pathlib.Path(self._folder, "started").touch()
        time.sleep(60)
        yield element


def _run_in_background(pipeline):
    """pipeline.run(), then wait_until_finish in a thread; (thread, outcome dict)."""
    result = pipeline.run()
    outcome = {}

    def wait():
        try:
            outcome["state"] = result.wait_until_finish()
        except BaseException as error:  # noqa: BLE001 - the test inspects it
            outcome["error"] = error

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("stopped", ["workers", "scheduler"])
def test_a_cluster_lost_during_the_run_fails_the_run(stopped, start_cluster, tmp_path):
    """Workers stopped mid-run left the run waiting for ever; a scheduler stopped mid-run
    cancelled its tasks, which Beam's result took for a finished run (newsbeam then looked
    for an output that was never written)."""
    from pipeline.dask_runner import DaskRunner

    cluster = start_cluster(workers=1, env=_TEST_DOFNS_IMPORTABLE)
    options = PipelineOptions(["--dask_client_address", cluster.address, "--dask_connection_timeout", "3"])
    pipeline = beam.Pipeline(runner=DaskRunner(), options=options)
    pipeline | beam.Create([1]) | "Work" >> beam.ParDo(_SignalThenWait(str(tmp_path)))
    thread, outcome = _run_in_background(pipeline)
    deadline = time.monotonic() + 60
    while not (tmp_path / "started").exists():
        assert time.monotonic() < deadline and thread.is_alive(), outcome
        time.sleep(0.1)
    cluster.stop(stopped)
    thread.join(timeout=30)
    assert not thread.is_alive(), "the run went on waiting for a cluster that is gone"
    assert isinstance(outcome.get("error"), ClusterError), outcome
    expected = "has had no workers for 3 s" if stopped == "workers" else "were cancelled"
    assert expected in str(outcome["error"])


class _DieOnTheWorker(beam.DoFn):
    def process(self, element):
        os._exit(1)


def test_workers_dying_on_a_task_is_one_error(start_cluster):
    """A worker that dies on a task (out of memory, say) gets a hint, not Dask's bare KilledWorker."""
    from pipeline.dask_runner import DaskRunner

    cluster = start_cluster(workers=1, env={**_TEST_DOFNS_IMPORTABLE, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"})
    pipeline = beam.Pipeline(runner=DaskRunner(), options=PipelineOptions(["--dask_client_address", cluster.address]))
    pipeline | beam.Create([1]) | "Die" >> beam.ParDo(_DieOnTheWorker())
    with pytest.raises(ClusterError, match="--dask_npartitions"):
        pipeline.run().wait_until_finish()


def test_a_local_cluster_run_keeps_dasks_info_lines_out(tmp_path):
    """No --dask_client_address: Beam's choice, a LocalCluster inside the run, whose
    scheduler logged about 30 INFO lines into the run's output."""
    result = run_newsbeam("--output", str(tmp_path / "out"), "--runner", "DaskRunner")
    assert "conserved=yes" in result.stdout
    assert "INFO" not in result.stderr, result.stderr


def _run_on_a_two_worker_local_cluster(build) -> None:
    """`build(pipeline)` adds the steps; the pipeline then runs to its end on a LocalCluster of
    two worker processes."""
    from dask.distributed import LocalCluster

    from pipeline.dask_runner import DaskRunner

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        options = PipelineOptions(["--dask_client_address", cluster.scheduler_address])
        pipeline = beam.Pipeline(runner=DaskRunner(), options=options)
        build(pipeline)
        result = pipeline.run()
        result.wait_until_finish()
        result.client.close()  # before the cluster goes, or the client keeps reconnecting


def _log_call(value, log_path: str, step: str, *side_values):
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(step + "\n")
    return value


def test_every_step_runs_once_when_read_as_a_side_input(tmp_path):
    """A step read by a later step and, through a combine, as a side input runs
    once per element: Dask optimises and renames (ProhibitReuse) a collection
    passed as a task argument, so a side input handed over as a Dask bag or item
    ran its whole upstream again (the read, cleaning and NER of newsbeam's graph)."""
    log = str(tmp_path / "calls.log")

    def build(pipeline):
        read = pipeline | beam.Create(list(range(40))) | "Read" >> beam.Map(_log_call, log, "read")
        kept = read | "Keep" >> beam.Map(_log_call, log, "keep")
        total = (
            read
            | "Measure" >> beam.Map(_log_call, log, "measure")
            | "Total" >> beam.combiners.Count.Globally()
        )
        (
            kept
            | "UseTotal" >> beam.Map(_log_call, log, "use_total", beam.pvalue.AsSingleton(total))
            | "Count" >> beam.combiners.Count.Globally()
        )

    _run_on_a_two_worker_local_cluster(build)
    calls = collections.Counter(pathlib.Path(log).read_text().split())
    assert calls == {"read": 40, "keep": 40, "measure": 40, "use_total": 40}


def test_every_end_of_the_graph_runs(tmp_path):
    """Beam's runner computes only the last step it visited: a second sink that does not
    lead into it (another output written beside the first) never ran."""
    log = str(tmp_path / "calls.log")

    def build(pipeline):
        read = pipeline | beam.Create(list(range(40))) | "Read" >> beam.Map(_log_call, log, "read")
        read | "WriteA" >> beam.Map(_log_call, log, "write_a")
        read | "WriteB" >> beam.Map(_log_call, log, "write_b")

    _run_on_a_two_worker_local_cluster(build)
    calls = collections.Counter(pathlib.Path(log).read_text().split())
    assert calls == {"read": 40, "write_a": 40, "write_b": 40}


class _LogBundleSizes(beam.DoFn):
    """Writes one line per bundle (a Dask partition): the elements it held."""

    def __init__(self, log_path: str):
        self._log_path = log_path

    def start_bundle(self):
        self._seen = 0

    def process(self, element):
        self._seen += 1
        yield element

    def finish_bundle(self):
        with open(self._log_path, "a", encoding="utf-8") as log:
            log.write(f"{self._seen}\n")


def test_a_grouping_spreads_its_output_over_the_cluster(tmp_path):
    """A bounded input enters the graph as one partition (Create of a few glob
    patterns); Dask's task shuffle keeps the partition count, so without
    spreading every step after it ran as one task on one worker."""
    log = tmp_path / "bundles.log"
    keys = 60
    _run_on_a_two_worker_local_cluster(
        lambda pipeline: (
            pipeline
            | beam.Create([(f"path-{index}", index) for index in range(keys)])
            | "GroupByPath" >> beam.GroupByKey()
            | "Parse" >> beam.ParDo(_LogBundleSizes(str(log)))
        )
    )
    bundle_sizes = [int(line) for line in log.read_text().split()]
    assert sum(bundle_sizes) == keys
    # Four partitions per worker thread; keys hash over them.
    assert len(bundle_sizes) == 8
    assert max(bundle_sizes) <= keys // 2, bundle_sizes
