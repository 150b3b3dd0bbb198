"""The whole pipeline on each runner, beside the same stage functions in a plain loop.

Input: real articles from ../shared/data, the same for every runner, mixed in
fixed shares of the whole pool (3,323 records) so every size has the same mix:

- JSONL written here from `reprints/reprints.dev.jsonl.gz` (article_id, url,
  outlet, title, text, published) and `ecbplus_events/ecbplus_events.dev.jsonl.gz`
  (doc_id, url, title, text), in shards of `--shard-records` lines (newsbeam
  reads one JSONL file as one element, so a dump in one file would run its
  read and clean steps on one worker whatever the runner);
- HTML pages (gzip) from `article_extraction/html/` and
  `web_extraction_utomo/html/`, symlinked one page per file, so trafilatura
  extraction is part of the work.

For each size (`--articles`) each runner runs in its own process, timed from
the outside (interpreter start, imports, model load and graph construction
included, the same for all):

- `loop`: this script in a child process with `--plain-loop`, no Beam
  imported (checked): read JSONL (`dump_parsing.parse_json_record`), extract
  HTML (`dump_parsing.extract_html_article`, with the reader's time limit),
  clean (`text_cleaning.clean_article`), dedup (`dedup_matching`: profile,
  MinHash, LSH band and sentence keys, bucket pairs, the configured matcher,
  union-find, canonical copy), NER (spaCy `nlp.pipe` with the EntitiesConfig
  model and exclude list, then `entity_normalisation` within and across
  articles), events (`event_clustering` online rule per language in
  `order_key` order), one Parquet file. The stage settings are the CLI's
  defaults (`NewsbeamConfig()`), handed over as JSON;
- `direct`: `newsbeam run` with no --runner (Beam's in-process FnApiRunner);
- `direct-mp`: `newsbeam run --direct_num_workers 2 --direct_running_mode
  multi_processing` (FnApiRunner with two SDK-harness subprocesses; checked
  by counting the `sdk_worker_main` processes under the launcher);
- `direct-mt` (not in the default set): the same with `multi_threading`;
- `dask`: `newsbeam run --runner DaskRunner --dask_client_address ...` on a
  fresh `dask.distributed.LocalCluster(n_workers=2, threads_per_worker=1,
  processes=True)` per run (started before the clock; `--dask-npartitions`
  adds Beam's `--dask_npartitions`).

What is measured:

- `art/s`: input records / wall seconds of the run's process;
- `x loop`: that throughput over the plain loop's (goals from issue 7:
  DirectRunner one process >= 0.8, two processes >= 1.6);
- `CPU s`: user+system seconds of the run's process and the children it
  reaped (`os.wait4`), plus, for Dask, the CPU the two workers used during
  the run (`client.run` reading their own `getrusage` before and after);
- peak memory, from `/proc`: `launcher` is the VmHWM (peak resident set) of
  the process started (for one-process runs `os.wait4`'s `ru_maxrss`, exact);
  `workers` the VmHWM of each worker process (FnApiRunner harnesses, read
  every 0.1 s while they live; Dask workers, read through `client.run` after
  the run, each worker fresh for the run); `all` the largest sum of VmRSS
  over the launcher, its descendants and the Dask workers, sampled every
  0.1 s (the Dask scheduler runs in this bench process and is not counted);
- `same as direct`: the Parquet rows (without `ingested_at`) equal to the
  one-process DirectRunner's, article by article;
- growth: wall-time ratio between the two sizes against the article ratio
  (linear: equal).

The machine may be shared: load averages are printed at start and end.
A benchmark, not a test: it asserts nothing and exits 0 when runs fail (their
errors are printed).

    .venv/bin/python bench/end_to_end.py                        # 500 and 2000 articles, about 20 min on 2 cores
    .venv/bin/python bench/end_to_end.py --articles 300 1200    # quicker
    .venv/bin/python bench/end_to_end.py --articles 3323 --runners loop direct direct-mp dask direct-mt
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import gzip
import itertools
import json
import logging
import os
import pathlib
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from typing import Optional

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
NEWSBEAM = str(pathlib.Path(sys.executable).with_name("newsbeam"))
JSONL_SOURCES = {
    "reprints": (DATA / "reprints" / "reprints.dev.jsonl.gz", ("article_id", "url", "outlet", "title", "text", "published")),
    "ecbplus": (DATA / "ecbplus_events" / "ecbplus_events.dev.jsonl.gz", ("doc_id", "url", "title", "text")),
}
HTML_SOURCES = {
    "extraction": DATA / "article_extraction" / "html",
    "utomo": DATA / "web_extraction_utomo" / "html",
}
RUNNERS = {
    "loop": "plain loop, 1 process",
    "direct": "DirectRunner, 1 process",
    "direct-mp": "DirectRunner, 2 processes",
    "direct-mt": "DirectRunner, 2 threads",
    "dask": "DaskRunner, 2 workers",
}
DEFAULT_RUNNERS = ("loop", "direct", "direct-mp", "dask")
GOALS = {"direct": 0.8, "direct-mp": 1.6, "dask": 1.6}
SAMPLE_INTERVAL_S = 0.1
KIB_PER_MIB = 1024
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")  # what ReadFileDumps strips before lxml


# ---------------------------------------------------------------- input


@dataclasses.dataclass(frozen=True)
class BenchInput:
    folder: pathlib.Path
    records: int
    html_pages: int
    globs: tuple[str, ...]


def _pool_sizes() -> dict[str, int]:
    sizes = {}
    for name, (path, _) in JSONL_SOURCES.items():
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            sizes[name] = sum(1 for line in lines if line.strip())
    for name, folder in HTML_SOURCES.items():
        sizes[name] = len(list(folder.glob("*.html.gz")))
    return sizes


def _shares(pool: dict[str, int], total: int) -> dict[str, int]:
    """How many records of each source make `total`, in the pool's proportions."""
    available = sum(pool.values())
    if total > available:
        raise SystemExit(f"--articles {total}: the pool holds {available} records")
    taken = {name: min(size, total * size // available) for name, size in pool.items()}
    for name in sorted(pool, key=pool.get, reverse=True):  # the rounding remainder
        while sum(taken.values()) < total and taken[name] < pool[name]:
            taken[name] += 1
    return taken


def build_input(root: pathlib.Path, total: int, shard_records: int) -> BenchInput:
    folder = root / f"input-{total}"
    folder.mkdir(parents=True)
    taken = _shares(_pool_sizes(), total)
    for name, (path, fields) in JSONL_SOURCES.items():
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            records = [json.loads(line) for line in itertools.islice((l for l in lines if l.strip()), taken[name])]
        for shard, start in enumerate(range(0, len(records), shard_records)):
            with open(folder / f"{name}-{shard:03d}.jsonl", "w", encoding="utf-8") as out:
                for record in records[start : start + shard_records]:
                    out.write(json.dumps({k: record.get(k) for k in fields}, ensure_ascii=False) + "\n")
    for name, source in HTML_SOURCES.items():
        for page in sorted(source.glob("*.html.gz"))[: taken[name]]:
            (folder / f"{name}-{page.name}").symlink_to(page)
    html_pages = sum(taken[name] for name in HTML_SOURCES)
    return BenchInput(folder, total, html_pages, (str(folder / "*.jsonl"), str(folder / "*.html.gz")))


# ---------------------------------------------------------------- measuring processes


def _status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (KiB) and Threads of a live process; {} once it is gone."""
    values = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM", "Threads"):
                    values[key] = int(rest.split()[0])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return {}
    return values


def _children_by_parent() -> dict[int, list[int]]:
    children = collections.defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                after_name = stat.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        children[int(after_name[1])].append(int(entry.name))
    return children


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


@dataclasses.dataclass
class ProcessPeak:
    command: str
    hwm_kib: int = 0
    threads: int = 0


class TreeSampler(threading.Thread):
    """Samples a process, its descendants and some other processes every 0.1 s."""

    def __init__(self, root: int, others: tuple[int, ...] = ()):
        super().__init__(daemon=True)
        self.root, self._others = root, others
        self._stop_event = threading.Event()
        self.processes: dict[int, ProcessPeak] = {}
        self.peak_total_kib = 0

    def _pids(self) -> list[int]:
        children = _children_by_parent()
        found, queue = [], [self.root, *self._others]
        while queue:
            pid = queue.pop()
            found.append(pid)
            queue.extend(children.get(pid, ()))
        return found

    def run(self) -> None:
        while not self._stop_event.is_set():
            total = 0
            for pid in self._pids():
                status = _status(pid)
                if not status:
                    continue
                peak = self.processes.get(pid)
                if peak is None:
                    peak = self.processes[pid] = ProcessPeak(_cmdline(pid))
                peak.hwm_kib = max(peak.hwm_kib, status.get("VmHWM", 0))
                peak.threads = max(peak.threads, status.get("Threads", 0))
                total += status.get("VmRSS", 0)
            self.peak_total_kib = max(self.peak_total_kib, total)
            self._stop_event.wait(SAMPLE_INTERVAL_S)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclasses.dataclass
class Measured:
    returncode: int
    wall_s: float
    cpu_s: float
    maxrss_kib: int  # ru_maxrss of the process and the children it reaped
    sampler: TreeSampler
    stdout: str
    stderr: str


def run_measured(command: list[str], log_dir: pathlib.Path, others: tuple[int, ...] = ()) -> Measured:
    """Run `command`, sampling its process tree; wall, CPU and memory of that run alone."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "stdout", "w+") as out, open(log_dir / "stderr", "w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=log_dir)
        sampler = TreeSampler(process.pid, others)
        sampler.start()
        # wait4, not Popen.wait: it also returns this child's own resource usage.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            process.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, sampler, out.read(), err.read()
        )


def _own_usage() -> dict:
    """Run on a Dask worker: its pid, CPU seconds and peak resident set."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"pid": os.getpid(), "cpu_s": usage.ru_utime + usage.ru_stime, "hwm_kib": _status(os.getpid())["VmHWM"]}


# ---------------------------------------------------------------- one run


@dataclasses.dataclass
class RunResult:
    runner: str
    records: int
    wall_s: float
    cpu_s: float
    launcher_mib: float
    worker_mib: tuple[float, ...]
    total_mib: float
    rows: Optional[int] = None
    dead_letters: Optional[int] = None
    output: Optional[pathlib.Path] = None
    error: Optional[str] = None
    notes: list[str] = dataclasses.field(default_factory=list)
    stage_s: dict = dataclasses.field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.records / self.wall_s


def _error_tail(measured: Measured) -> str:
    lines = [line for line in measured.stderr.splitlines() if line.strip() and "apitools" not in line]
    return "\n".join(lines[-25:])


def _result_of(runner: str, bench_input: BenchInput, measured: Measured, workers: list[ProcessPeak]) -> RunResult:
    launcher = measured.sampler.processes.get(measured.sampler.root)
    # wait4's ru_maxrss covers the reaped children too, so it is the launcher's own
    # peak only when no worker process ran under it.
    launcher_kib = launcher.hwm_kib if workers and launcher else measured.maxrss_kib
    return RunResult(
        runner=runner,
        records=bench_input.records,
        wall_s=measured.wall_s,
        cpu_s=measured.cpu_s,
        launcher_mib=launcher_kib / KIB_PER_MIB,
        worker_mib=tuple(w.hwm_kib / KIB_PER_MIB for w in workers),
        total_mib=measured.sampler.peak_total_kib / KIB_PER_MIB,
    )


def _read_manifest(result: RunResult, output: pathlib.Path) -> None:
    manifest = json.loads((output / "_run.json").read_text())
    result.rows, result.dead_letters, result.output = manifest["rows_written"], manifest["dead_letters"], output
    if manifest["records_read"] != result.records:
        result.notes.append(f"read {manifest['records_read']} records, not {result.records}")


def run_newsbeam(runner: str, bench_input: BenchInput, work: pathlib.Path, beam_flags: list[str]) -> RunResult:
    output = work / f"out-{runner}"
    command = [NEWSBEAM, "run", *itertools.chain.from_iterable(("--input", g) for g in bench_input.globs),
               "--output", str(output), *beam_flags]
    measured = run_measured(command, work / f"log-{runner}")
    harnesses = [
        peak for pid, peak in measured.sampler.processes.items()
        if pid != measured.sampler.root and "sdk_worker_main" in peak.command
        and not peak.command.startswith("/bin/sh")  # the shell Beam starts each harness through
    ]
    result = _result_of(runner, bench_input, measured, harnesses)
    if runner.startswith("direct"):
        engine = re.search(r"on (\w+):", measured.stderr)
        result.notes.append(f"engine {engine.group(1) if engine else '?'}")
    if harnesses:
        result.notes.append(f"{len(harnesses)} sdk_worker_main harness processes")
    if runner == "direct-mt":
        launcher = measured.sampler.processes.get(measured.sampler.root)
        result.notes.append(f"launcher threads up to {launcher.threads if launcher else '?'}")
    if "should be `multi_processing` or `multi_threading`" in measured.stderr:
        result.notes.append("Beam warned: direct_num_workers ignored in in_memory mode")
    if measured.returncode != 0:
        result.error = f"exit {measured.returncode}:\n{_error_tail(measured)}"
        return result
    _read_manifest(result, output)
    return result


class _CountRecomputedKeys(logging.Handler):
    """Counts the scheduler's "Detected different `run_spec` for key" warnings."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += "different `run_spec`" in record.getMessage()


def run_dask(bench_input: BenchInput, work: pathlib.Path, npartitions: Optional[int]) -> RunResult:
    from dask.distributed import Client, LocalCluster

    # The scheduler runs in this process: keep its log out of the table, but count
    # the warnings that show a graph being rebuilt under keys it already had.
    scheduler_log = logging.getLogger("distributed")
    scheduler_log.setLevel(logging.WARNING)
    scheduler_log.propagate = False
    recomputed = _CountRecomputedKeys()
    scheduler_log.addHandler(recomputed)

    output = work / "out-dask"
    flags = ["--runner", "DaskRunner"]
    if npartitions:
        flags += ["--dask_npartitions", str(npartitions)]
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster, Client(cluster) as client:
        before = client.run(_own_usage)
        command = [NEWSBEAM, "run", *itertools.chain.from_iterable(("--input", g) for g in bench_input.globs),
                   "--output", str(output), *flags, "--dask_client_address", cluster.scheduler_address]
        measured = run_measured(command, work / "log-dask", others=tuple(u["pid"] for u in before.values()))
        after = client.run(_own_usage)
    workers = [ProcessPeak(address, after[address]["hwm_kib"]) for address in sorted(after)]
    worker_cpu = {address: after[address]["cpu_s"] - before[address]["cpu_s"] for address in after}
    result = _result_of("dask", bench_input, measured, [])
    result.worker_mib = tuple(w.hwm_kib / KIB_PER_MIB for w in workers)
    result.cpu_s += sum(worker_cpu.values())
    result.notes.append("worker CPU s " + " / ".join(f"{worker_cpu[a]:.0f}" for a in sorted(worker_cpu)))
    if npartitions:
        result.notes.append(f"--dask_npartitions {npartitions}")
    scheduler_log.removeHandler(recomputed)
    if recomputed.count:
        result.notes.append(f"scheduler warned {recomputed.count}x 'different run_spec for key' (a graph resubmitted)")
    if measured.returncode != 0:
        result.error = f"exit {measured.returncode}:\n{_error_tail(measured)}"
        return result
    _read_manifest(result, output)
    return result


def run_loop(bench_input: BenchInput, work: pathlib.Path, settings: pathlib.Path) -> RunResult:
    output = work / "out-loop"
    command = [sys.executable, str(pathlib.Path(__file__).resolve()), "--plain-loop",
               "--settings", str(settings), "--input-dir", str(bench_input.folder), "--output", str(output)]
    measured = run_measured(command, work / "log-loop")
    result = _result_of("loop", bench_input, measured, [])
    if measured.returncode != 0:
        result.error = f"exit {measured.returncode}:\n{_error_tail(measured)}"
        return result
    summary = json.loads(measured.stdout.strip().splitlines()[-1])
    result.rows, result.dead_letters, result.output = summary["rows"], summary["dead_letters"], output
    result.stage_s = summary["stage_s"]
    if summary["records"] != bench_input.records:
        result.notes.append(f"read {summary['records']} records, not {bench_input.records}")
    if summary["beam_imported"]:
        result.notes.append("apache_beam was imported")
    return result


# ---------------------------------------------------------------- comparing outputs


def _rows_by_article(output: pathlib.Path) -> dict[str, dict]:
    import pyarrow.parquet as pq

    rows = {}
    for path in sorted(output.glob("**/*.parquet")):
        if path.parts[-2] == "_dead_letters":
            continue
        for row in pq.read_table(path).drop_columns(["ingested_at"]).to_pylist():
            rows[row["article_id"]] = row
    return rows


def compare_outputs(reference: dict[str, dict], other: dict[str, dict]) -> str:
    if other == reference:
        return "yes"
    only_one = len(set(reference) ^ set(other))
    differing = collections.Counter()
    rows_differing = 0
    for article_id in set(reference) & set(other):
        columns = [k for k in reference[article_id] if reference[article_id][k] != other[article_id].get(k)]
        rows_differing += bool(columns)
        differing.update(columns)
    parts = [f"{rows_differing} rows differ"] + [f"{column} {count}" for column, count in differing.most_common()]
    if only_one:
        parts.append(f"{only_one} article_ids in one output only")
    return "no: " + ", ".join(parts)


# ---------------------------------------------------------------- the plain loop (child process, no Beam)


def plain_loop(settings_path: pathlib.Path, input_dir: pathlib.Path, output: pathlib.Path) -> None:
    """Every stage's pure functions, one after the other, on all records; prints a JSON summary."""
    import datetime as dt
    from types import SimpleNamespace

    import pyarrow as pa
    import pyarrow.parquet as pq
    import spacy

    from transforms import dedup_matching as matching
    from transforms import event_clustering as clustering
    from transforms.decoding import RefusedInput, decode_bytes, gunzip
    from transforms.dump_parsing import (
        dump_name,
        extract_html_article,
        folder_name,
        load_html_extractor,
        parse_json_line,
        parse_json_record,
        record_identity,
        run_with_time_limit,
    )
    from transforms.entity_normalisation import (
        build_window_names,
        count_observations,
        doc_mentions,
        load_alias_table,
        normalise_article,
        observe_names,
        tagging_view,
    )
    from transforms.schema import (
        ARTICLE_SCHEMA,
        REPEATED_ARTICLE_REASON,
        Article,
        article_to_row,
        kept_first,
        make_article_id,
    )
    from transforms.text_cleaning import Rejection, clean_article, language_identifier

    settings = json.loads(settings_path.read_text())
    read, dedup, entities, events = settings["read"], settings["dedup"], settings["entities"], settings["events"]
    ingested_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    stage_s: dict[str, float] = {}
    dead_letters = collections.Counter()

    @contextlib.contextmanager
    def stage(name: str):
        started = time.perf_counter()
        yield
        stage_s[name] = stage_s.get(name, 0.0) + time.perf_counter() - started

    def article_of(kind: str, path: str, source_ref: str, record, position: str) -> Article:
        # The fields ReadFileDumps gives a record (read_files.ParseDumpFileFn._article).
        outlet = record.outlet or (folder_name(path) if read["outlet_from_folder"] else None)
        identity = record_identity(record.url, record.record_id, dump_name(path), position)
        return Article(
            article_id=make_article_id(identity, record.text), url=record.url, outlet=outlet,
            title=record.title, text=record.text, published_at=record.published_at, language=record.language,
            source_kind=kind, source_ref=source_ref, ingested_at=ingested_at, date_source=record.date_source,
            content_source="page" if kind == "html" else "file",
        )

    records = 0
    articles: list[Article] = []
    with stage("read jsonl"):
        for path in sorted(str(p) for p in input_dir.glob("*.jsonl")):
            with open(path, encoding="utf-8") as lines:
                for line_no, line in enumerate(lines, start=1):
                    line = line.rstrip("\r\n")
                    if not line.strip():
                        continue
                    records += 1
                    try:
                        record = parse_json_record(parse_json_line(line), read["text_date_window"])
                    except RefusedInput as refused:
                        dead_letters[refused.reason] += 1
                        continue
                    articles.append(article_of("jsonl", path, f"{path}:{line_no}", record, f"#{line_no}"))
    with stage("extract html"):
        load_html_extractor()
        for path in sorted(str(p) for p in input_dir.glob("*.html.gz")):
            records += 1
            try:
                data = gunzip(pathlib.Path(path).read_bytes(), read["max_file_bytes"])
                html = _XML_DECLARATION.sub("", decode_bytes(data, honour_declaration=True).text)
                record = run_with_time_limit(
                    extract_html_article, read["extract_timeout_s"], html,
                    min_words=read["html_min_words"], text_date_window=read["text_date_window"],
                    extensive_date_search=read["html_extensive_date_search"],
                )
            except RefusedInput as refused:
                dead_letters[refused.reason] += 1
                continue
            articles.append(article_of("html", path, path, record, ""))

    with stage("repeats"):
        # transforms/repeats.py: one record per article_id, the first by kept_first.
        distinct: dict[str, Article] = {}
        for article in sorted(articles, key=kept_first):
            if article.article_id in distinct:
                dead_letters[REPEATED_ARTICLE_REASON] += 1
            else:
                distinct[article.article_id] = article
        articles = list(distinct.values())

    with stage("clean"):
        language_identifier()
        clean_settings = SimpleNamespace(**settings["clean"])
        cleaned = []
        for article in articles:
            outcome = clean_article(article, clean_settings)
            if isinstance(outcome, Rejection):
                dead_letters[outcome.reason] += 1
            else:
                cleaned.append(outcome.article)

    with stage("dedup"):
        hasher = matching.MinHasher(dedup["num_perm"], dedup["seed"])
        profiles, buckets = {}, collections.defaultdict(list)
        for article in cleaned:
            analysis = matching.analyse_text(article.text or "")
            profile = matching.build_profile(article.article_id, analysis, dedup["shingle_size"])
            if profile is None:
                continue
            profiles.setdefault(article.article_id, profile)
            keys = matching.band_keys(hasher.signature(profile.shingles), dedup["bands"], dedup["rows"])
            if dedup["sentence_keys"]:
                keys += matching.sentence_band_keys(
                    analysis, hasher, dedup["sentence_key_rows"], dedup["sentence_key_min_words"],
                    dedup["sentence_key_shingle_size"],
                )
            for key in keys:
                buckets[key].append(article.article_id)
        pairs = set()
        for key, members in buckets.items():
            pairs.update(matching.bucket_pairs(key, members, dedup["max_bucket_size"]))
        matcher = matching.get_matcher(dedup["method"])
        thresholds = matching.MatchThresholds(
            **{field.name: dedup[field.name] for field in dataclasses.fields(matching.MatchThresholds)}
        )
        union = matching.UnionFind()
        for first, second in sorted(pairs):
            if matcher(profiles[first], profiles[second], thresholds).is_copy:
                union.union(first, second)
        published = {article.article_id: article.published_at for article in cleaned}
        canonical_of = {}
        for members in union.groups():
            canonical = min(members, key=lambda a: matching.canonical_order_key(published[a], a))
            canonical_of.update(dict.fromkeys(members, canonical))
        grouped = []
        for article in cleaned:
            canonical = canonical_of.get(article.article_id, article.article_id)
            is_canonical = canonical == article.article_id
            grouped.append(article.replace(
                dup_group_id=matching.group_id_for(canonical), canonical_id=canonical, is_canonical=is_canonical,
                lag_seconds=0 if is_canonical else matching.lag_seconds(article.published_at, published[canonical]),
            ))

    with stage("ner"):
        nlp = spacy.load(entities["model"], exclude=list(entities["exclude"]))
        is_known = frozenset(nlp.vocab.strings).__contains__
        aliases = load_alias_table(entities["aliases_path"])
        labels = frozenset(entities["labels"])
        views = [tagging_view(article.text, entities["max_chars"])[0] for article in grouped]
        tagged, observations = [], []
        for article, doc in zip(grouped, nlp.pipe(views, batch_size=entities["batch_size"])):
            result = normalise_article(doc_mentions(doc), aliases, is_known, labels=labels, text=doc.text)
            observations.extend(observe_names(result.entities, is_known, result.surnamed))
            tagged.append(article.replace(entities=result.entities))
        window_names = build_window_names(count_observations(observations))
        if window_names:
            tagged = [article.replace(entities=window_names.rename(article.entities)) for article in tagged]

    with stage("events"):
        if events["time_bucket_days"] != 0:
            raise SystemExit("the plain loop keys events by language only (events.time_bucket_days 0)")
        params = clustering.ClusteringParams(
            **{field.name: events[field.name] for field in dataclasses.fields(clustering.ClusteringParams)}
        )
        by_language = collections.defaultdict(list)
        for article in tagged:
            by_language[(article.language or "und").lower()].append(article)
        assigned = []
        for group in by_language.values():
            clusterer = clustering.OnlineEventClusterer(params)
            for article in sorted(group, key=clustering.order_key):
                event_id = clusterer.assign(article, clustering.features_of(article, params))
                assigned.append(article.replace(event_id=event_id))

    with stage("write"):
        output.mkdir(parents=True)
        rows = [article_to_row(article) for article in sorted(assigned, key=lambda a: a.article_id)]
        pq.write_table(pa.Table.from_pylist(rows, schema=ARTICLE_SCHEMA), output / "articles.parquet",
                       compression=settings["output"]["compression"])

    print(json.dumps({
        "records": records, "rows": len(assigned), "dead_letters": sum(dead_letters.values()),
        "dead_letters_by_reason": dead_letters, "stage_s": stage_s, "beam_imported": "apache_beam" in sys.modules,
    }))


# ---------------------------------------------------------------- report


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _mib(values) -> str:
    return "+".join(f"{v:.0f}" for v in values) if values else "-"


def print_size_table(size: int, bench_input: BenchInput, results: dict[str, RunResult], same: dict[str, str]) -> None:
    loop = results.get("loop")
    print(f"\n== {size} articles ({bench_input.html_pages} of them HTML pages), load at end {_load()}")
    header = (f"{'runner':<27} {'wall s':>7} {'art/s':>6} {'x loop':>6} {'CPU s':>6} {'CPU/wall':>8} "
              f"{'launcher MiB':>12} {'workers MiB':>12} {'all MiB':>8} {'rows':>5} {'dead':>5}  same as direct")
    print(header)
    print("-" * len(header))
    for runner, result in results.items():
        ratio = f"{result.rate / loop.rate:.2f}" if loop and not loop.error and not result.error else "-"
        print(
            f"{RUNNERS[runner]:<27} {result.wall_s:>7.1f} {result.rate:>6.2f} {ratio:>6} {result.cpu_s:>6.0f} "
            f"{result.cpu_s / result.wall_s:>8.2f} {result.launcher_mib:>12.0f} {_mib(result.worker_mib):>12} "
            f"{result.total_mib:>8.0f} {result.rows if result.rows is not None else '-':>5} "
            f"{result.dead_letters if result.dead_letters is not None else '-':>5}  {same.get(runner, '-')}"
        )
    for runner, result in results.items():
        if result.notes:
            print(f"  {RUNNERS[runner]}: {'; '.join(result.notes)}")
        if result.error:
            print(f"  {RUNNERS[runner]} FAILED, {result.error}")
    if loop and loop.stage_s:
        print("  plain loop stages (s): " + ", ".join(f"{k} {v:.1f}" for k, v in loop.stage_s.items()))
    if loop and not loop.error:
        for runner, goal in GOALS.items():
            result = results.get(runner)
            if result and not result.error:
                ratio = result.rate / loop.rate
                print(f"  goal {RUNNERS[runner]} >= {goal}x loop: {ratio:.2f}x, {'met' if ratio >= goal else 'NOT met'}")


def print_growth(all_results: dict[int, dict[str, RunResult]]) -> None:
    sizes = sorted(all_results)
    if len(sizes) < 2:
        return
    print("\n== cost growth (wall-time ratio; linear equals the article ratio)")
    for small, large in zip(sizes, sizes[1:]):
        print(f"{small} -> {large} articles ({large / small:.1f}x):")
        for runner in all_results[small]:
            first, second = all_results[small].get(runner), all_results[large].get(runner)
            if first and second and not first.error and not second.error:
                print(f"  {RUNNERS[runner]:<27} {second.wall_s / first.wall_s:5.2f}x time   "
                      f"({first.wall_s:.0f} s -> {second.wall_s:.0f} s)")


# ---------------------------------------------------------------- main


def _settings_file(work: pathlib.Path) -> pathlib.Path:
    from pipeline.config import NewsbeamConfig

    path = work / "settings.json"
    path.write_text(json.dumps(NewsbeamConfig().model_dump(mode="json")))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[500, 2000], help="input sizes (records)")
    parser.add_argument("--runners", nargs="+", choices=list(RUNNERS), default=list(DEFAULT_RUNNERS))
    parser.add_argument("--shard-records", type=int, default=100, help="JSONL records per input file")
    parser.add_argument("--dask-npartitions", type=int, help="pass --dask_npartitions N to the Dask run")
    parser.add_argument("--work-dir", type=pathlib.Path, help="keep inputs, outputs and logs here (default: a temp dir, removed)")
    parser.add_argument("--plain-loop", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--settings", type=pathlib.Path, help=argparse.SUPPRESS)
    parser.add_argument("--input-dir", type=pathlib.Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=pathlib.Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain_loop:
        plain_loop(args.settings, args.input_dir, args.output)
        return

    work = args.work_dir or pathlib.Path(tempfile.mkdtemp(prefix="newsbeam-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"newsbeam end-to-end bench: {os.cpu_count()} cores, load at start {_load()}, work dir {work}")
    print(f"command: {' '.join([pathlib.Path(sys.executable).name, *sys.argv])}")
    settings = _settings_file(work)
    all_results: dict[int, dict[str, RunResult]] = {}
    try:
        for size in sorted(set(args.articles)):
            size_work = work / f"size-{size}"
            bench_input = build_input(size_work, size, args.shard_records)
            results: dict[str, RunResult] = {}
            for runner in args.runners:
                print(f"  [{time.strftime('%H:%M:%S')}] {size} articles on {RUNNERS[runner]} ...", flush=True)
                if runner == "loop":
                    results[runner] = run_loop(bench_input, size_work, settings)
                elif runner == "dask":
                    results[runner] = run_dask(bench_input, size_work, args.dask_npartitions)
                else:
                    flags = {
                        "direct": [],
                        "direct-mp": ["--direct_num_workers", "2", "--direct_running_mode", "multi_processing"],
                        "direct-mt": ["--direct_num_workers", "2", "--direct_running_mode", "multi_threading"],
                    }[runner]
                    results[runner] = run_newsbeam(runner, bench_input, size_work, flags)
            same = {}
            reference = results.get("direct")
            if reference and not reference.error:
                reference_rows = _rows_by_article(reference.output)
                for runner, result in results.items():
                    if runner != "direct" and not result.error:
                        same[runner] = compare_outputs(reference_rows, _rows_by_article(result.output))
            all_results[size] = results
            print_size_table(size, bench_input, results, same)
        print_growth(all_results)
    finally:
        print(f"\nload at end {_load()}")
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
