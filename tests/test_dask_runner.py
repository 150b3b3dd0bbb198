"""The same batch pipeline on a real Dask cluster gives the DirectRunner's output.

A `dask.distributed.LocalCluster` with two worker processes runs newsbeam through
the real CLI (`--runner DaskRunner --dask_client_address ...`) on the seeds plus
a few hundred real articles; the Parquet output must equal the in-process
runner's row for row: same rows, same event_ids, same copy groups.
"""

from __future__ import annotations

import collections
import gzip
import json
import pathlib

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from tests.conftest import SEEDS_DIR, SHARED, require_shared, run_newsbeam

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


def test_dask_cluster_output_equals_direct_runner(mixed_input, tmp_path):
    from dask.distributed import LocalCluster

    direct = tmp_path / "direct"
    run_newsbeam(*mixed_input, "--output", str(direct))

    dask_output = tmp_path / "dask"
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        result = run_newsbeam(
            *mixed_input, "--output", str(dask_output),
            "--runner", "DaskRunner", "--dask_client_address", cluster.scheduler_address,
        )
    assert "conserved=yes" in result.stdout

    direct_rows, dask_rows = _rows(direct), _rows(dask_output)
    assert sum(len(rows) for rows in direct_rows.values()) == ARTICLES_FROM_REPRINTS + 5
    assert dask_rows == direct_rows
    copies = [r for rows in direct_rows.values() for r in rows if not r["is_canonical"]]
    assert copies, "the input should hold syndicated copies, so copy groups are compared too"


def _log_call(value, log_path: str, step: str, *side_values):
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(step + "\n")
    return value


def test_every_step_runs_once_when_read_as_a_side_input(tmp_path):
    """A step read by a later step and, through a combine, as a side input runs
    once per element: Dask optimises and renames (ProhibitReuse) a collection
    passed as a task argument, so a side input handed over as a Dask bag or item
    ran its whole upstream again (the read, cleaning and NER of newsbeam's graph)."""
    from dask.distributed import LocalCluster

    from pipeline.dask_runner import DaskRunner

    log = str(tmp_path / "calls.log")
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        options = PipelineOptions(["--dask_client_address", cluster.scheduler_address])
        pipeline = beam.Pipeline(runner=DaskRunner(), options=options)
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
        result = pipeline.run()
        result.wait_until_finish()
        result.client.close()  # before the cluster goes, or the client keeps reconnecting
    calls = collections.Counter(pathlib.Path(log).read_text().split())
    assert calls == {"read": 40, "keep": 40, "measure": 40, "use_total": 40}


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
    from dask.distributed import LocalCluster

    from pipeline.dask_runner import DaskRunner

    log = tmp_path / "bundles.log"
    keys = 60
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        options = PipelineOptions(["--dask_client_address", cluster.scheduler_address])
        pipeline = beam.Pipeline(runner=DaskRunner(), options=options)
        (
            pipeline
            | beam.Create([(f"path-{index}", index) for index in range(keys)])
            | "GroupByPath" >> beam.GroupByKey()
            | "Parse" >> beam.ParDo(_LogBundleSizes(str(log)))
        )
        result = pipeline.run()
        result.wait_until_finish()
        result.client.close()
    bundle_sizes = [int(line) for line in log.read_text().split()]
    assert sum(bundle_sizes) == keys
    # Four partitions per worker thread; keys hash over them.
    assert len(bundle_sizes) == 8
    assert max(bundle_sizes) <= keys // 2, bundle_sizes
