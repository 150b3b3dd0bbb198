"""The `newsbeam` command line: help, refusals before any work, and paths as users give them."""

from __future__ import annotations

import os
import shutil
import subprocess

import duckdb
import pytest

from pipeline.cli import _absolute, _folder_means_its_files
from tests.conftest import NEWSBEAM, run_newsbeam, seed_paths


def newsbeam(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([NEWSBEAM, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_help_goes_to_stdout_and_names_every_command():
    result = newsbeam("--help")
    assert result.returncode == 0
    for command in ("run", "eval", "sql", "report", "dead-letters"):
        assert f"newsbeam {command}" in result.stdout


def test_an_unknown_command_is_named():
    result = newsbeam("fetch")
    assert result.returncode == 2
    assert result.stderr.startswith("newsbeam: unknown command 'fetch'\nusage: newsbeam {run, eval, sql")


@pytest.mark.parametrize("task, option", [("events", "--orders"), ("dedup", "--baselines"), ("extract", "--timeout")])
def test_each_evaluation_shows_its_own_options(task, option):
    result = newsbeam("eval", task, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: newsbeam eval {task}") and option in result.stdout


def test_eval_alone_lists_the_tasks():
    result = newsbeam("eval")
    assert result.returncode == 2
    assert "dedup" in result.stderr and "events" in result.stderr and "extract" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # Beam only logged these and the run went on into ./out.
        (("--ouput", "mine"), "newsbeam run: unknown flag --ouput (did you mean --output?)"),
        (("--direct_num_worker", "2"), "unknown flag --direct_num_worker (did you mean --direct_num_workers?)"),
        # What an unquoted glob becomes: the shell's second match is a stray argument.
        (("--input", "a.txt", "b.txt"), "unexpected argument 'b.txt': quote a glob given to --input"),
        (("--streaming", "--max-rounds", "0", "--input", "inbox"), "--max-rounds must be at least 1, not 0"),
    ],
)
def test_arguments_nobody_knows_are_refused_before_any_work(args, message, tmp_path):
    result = newsbeam("run", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no ./out, nothing else


def test_beam_flags_of_the_runner_in_use_are_known():
    """A Beam flag defined with its runner (Dask's) is not taken for a typo."""
    from pipeline.cli import _run_parser, _unknown_flag
    from pipeline.runners import RUNNER_ALIASES

    flags = ["--dask_client_address", "tcp://127.0.0.1:8786", "--direct_num_workers", "2", "--experiments=a"]
    assert _unknown_flag(_run_parser(), flags, RUNNER_ALIASES["DaskRunner"]) is None


def test_local_paths_become_absolute_and_a_folder_means_its_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dumps").mkdir()
    def local_input(pattern: str) -> str:  # what `newsbeam run` does with each --input
        return _folder_means_its_files(_absolute(pattern))

    assert local_input("dumps") == os.path.join(str(tmp_path), "dumps", "**")
    assert local_input("dumps/*.jsonl") == str(tmp_path / "dumps" / "*.jsonl")
    assert local_input("gs://bucket/dumps/*.jsonl") == "gs://bucket/dumps/*.jsonl"
    assert _absolute("out") == str(tmp_path / "out")
    assert _absolute("gs://bucket/news") == "gs://bucket/news"


def test_a_folder_given_relative_to_the_working_directory_is_read_whole(tmp_path):
    """`--input dumps` used to be one dead letter ("Is a directory"); now it is the files under it."""
    (tmp_path / "dumps" / "older").mkdir(parents=True)
    seeds = seed_paths()
    for index, path in enumerate(seeds):
        shutil.copy(path, tmp_path / "dumps" / ("older" if index % 2 else "") / path.name)
    result = run_newsbeam("--input", "dumps", "--output", "out", cwd=tmp_path)
    assert "counts: read=5 written=5 dead_letters=0 conserved=yes" in result.stdout
    refs = duckdb.sql(
        f"select source_ref from read_parquet('{tmp_path}/out/event_id=*/date=*/*.parquet', hive_partitioning = true)"
    ).fetchall()
    assert sorted(ref for (ref,) in refs) == sorted(str(p) for p in (tmp_path / "dumps").rglob("*.txt"))


def test_an_output_that_is_a_file_is_refused_in_words(tmp_path):
    (tmp_path / "afile").write_text("mine")
    result = newsbeam("run", "--output", "afile", cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot write to --output afile: it is a file, not a folder" in result.stderr
    assert (tmp_path / "afile").read_text() == "mine"


@pytest.fixture(scope="module")
def many_rows(tmp_path_factory):
    """An output with more rows (25) and columns than DuckDB's box shows by default."""
    import json as json_module

    folder = tmp_path_factory.mktemp("many")
    with open(folder / "dump.jsonl", "w", encoding="utf-8") as dump:
        for number in range(25):
            record = {
                "id": f"n{number}",
                "outlet": f"Outlet {number:02d}",
                "title": f"Council meeting number {number} held",
                "text": f"The council of town {number} met on Tuesday to discuss the budget for roads "
                f"and schools in district {number}, officials said after a long session.",
                "published": f"2025-10-{number + 1:02d}T10:00:00Z",
            }
            dump.write(json_module.dumps(record) + "\n")
    run_newsbeam("--input", str(folder / "dump.jsonl"), "--output", str(folder / "out"))
    return folder / "out"


def test_sql_prints_every_row_and_column(many_rows):
    """DuckDB's box printed '25 rows (20 shown)' and dropped columns, even into a pipe."""
    result = newsbeam("sql", str(many_rows), "-c", "select * from articles order by outlet")
    assert result.returncode == 0, result.stderr
    assert "shown" not in result.stdout
    assert all(f"Outlet {number:02d}" in result.stdout for number in range(25))
    assert "source_ref" in result.stdout and "event_id" in result.stdout


@pytest.mark.parametrize("output_format", ["csv", "json"])
def test_sql_prints_csv_and_json_lines_for_machines(many_rows, output_format):
    import csv
    import io
    import json as json_module

    result = newsbeam("sql", str(many_rows), "--format", output_format, "-c", "select outlet, title from articles order by outlet")
    assert result.returncode == 0, result.stderr
    if output_format == "csv":
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
    else:
        rows = [json_module.loads(line) for line in result.stdout.splitlines()]
    assert [row["outlet"] for row in rows] == [f"Outlet {number:02d}" for number in range(25)]
