"""Commands:

    newsbeam run                                  # the bundled sample into ./out
    newsbeam run --input 'dumps/**/*.jsonl' --output out [--config configs/default.yaml]
    newsbeam run --feed http://127.0.0.1:8000/feed.xml --output out --allow-private-network
    newsbeam run --opml subscriptions.opml --output out   # every feed a reader's export lists
    newsbeam run --input ... --output gs://BUCKET/news --runner DataflowRunner --project P \\
        --region europe-west1 --temp_location gs://BUCKET/tmp --sdk_container_image IMAGE
    newsbeam eval dedup --data reprints.jsonl.gz
    newsbeam eval events --data ecbplus_events.jsonl.gz
    newsbeam eval entities --data ecbplus_events.jsonl.gz
    newsbeam eval extract --data ../shared/data/article_extraction
    newsbeam sql out -c "select * from wire_copies"
    newsbeam report out                           # out/_report/index.html
    newsbeam dead-letters out                     # dead letters by step and reason

`newsbeam COMMAND --help` describes each command. Flags `newsbeam run` does not
know go to Beam's `PipelineOptions` unchanged; a flag Beam does not know
either is refused.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.resources
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from typing import Optional, Sequence

DEFAULT_OUTPUT = "out"


def sample_glob() -> str:
    """The bundled sample: the five seed articles shipped inside the package."""
    return str(importlib.resources.files("pipeline") / "sample" / "*.txt")


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbeam run",
        description="Read news, clean, deduplicate, tag and group it, and write Parquet. "
        "With no --input, --feed or --opml, processes the bundled sample articles. "
        "Unknown flags (--runner, --direct_num_workers, --streaming, ...) go to Beam.",
    )
    parser.add_argument(
        "--input", action="append", default=[], metavar="GLOB",
        help="file-dump glob (quote it: newsbeam expands it, ** included); repeatable",
    )
    parser.add_argument("--feed", action="append", default=[], metavar="URL", help="RSS, Atom or JSON Feed URL; repeatable")
    parser.add_argument(
        "--opml", action="append", default=[], metavar="FILE_OR_URL",
        help="subscription list (OPML, as feed readers export it; a file or an http(s) URL): "
        "read every feed it lists; repeatable",
    )
    parser.add_argument("--output", default=DEFAULT_OUTPUT, metavar="DIR", help="output directory (default: ./out)")
    parser.add_argument("--config", metavar="FILE", help="YAML configuration (default: built-in defaults)")
    parser.add_argument(
        "--max-rounds", type=int, metavar="N",
        help="--streaming on the local runner: stop after N rounds (default: run until Ctrl-C)",
    )
    parser.add_argument(
        "--allow-private-network", action="store_true",
        help="let feeds and links resolve to loopback/private addresses (local servers, tests)",
    )
    return parser


def _count_input_files(patterns: Sequence[str]) -> int:
    """How many files the patterns match; a pattern matching nothing is an error."""
    from transforms.read_files import match_pattern

    paths = set()
    for pattern in patterns:
        matched = match_pattern(pattern)
        if not matched:
            raise SystemExit(f"newsbeam: --input {pattern!r} matched no files")
        paths.update(metadata.path for metadata in matched)
    return len(paths)


def _absolute(path: str) -> str:
    """A local path as every worker must see it: absolute. Relative paths mean the launcher's
    working directory, which a Dask or Dataflow worker does not share (a relative pattern there
    matched nothing, and the run reported 0 = 0 + 0). Remote paths (gs://) are left as given."""
    return path if "://" in path else os.path.abspath(os.path.expanduser(path))


def _with_subscription_lists(config, paths: Sequence[str]):
    """`config` with the feeds of its `feeds.opml` lists and of the --opml ones (`paths`)
    listed in `feeds.sources`, the lists read once, now: every round of a streaming run
    then reads the same feeds, and a list edited during the run is taken up by the next
    run (SubscriptionListError names a list that cannot be used and what is wrong)."""
    lists = [path if "://" in path else os.path.abspath(os.path.expanduser(path)) for path in paths]
    feeds = config.feeds.model_copy(update={"opml": (*config.feeds.opml, *lists)})
    return config.model_copy(update={"feeds": feeds.with_lists_read()})


def _folder_means_its_files(pattern: str) -> str:
    """A local folder given alone as --input stands for every file under it (batch or watched)."""
    return os.path.join(pattern, "**") if "://" not in pattern and os.path.isdir(pattern) else pattern


def _unknown_flag(parser: argparse.ArgumentParser, beam_args: Sequence[str], runner: str) -> Optional[str]:
    """Why the first argument neither newsbeam nor Beam knows is refused; None when all are known.

    Beam only logs "Unparseable argument" and goes on, so a typo such as `--ouput DIR`
    ran into the default ./out, replacing what it held, and an unquoted glob ran on its
    first file alone (the shell had made the others stray arguments).
    """
    import difflib

    from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

    from pipeline.runners import RUNNER_ALIASES

    if runner == RUNNER_ALIASES["DaskRunner"]:
        try:  # its options are defined with the runner
            import apache_beam.runners.dask.dask_runner  # noqa: F401
        except ImportError:
            return None  # without the dask extra, building the runner says what is missing
    beam_parser = _BeamArgumentParser(allow_abbrev=False)
    for options_class in {str(c): c for c in PipelineOptions.__subclasses__()}.values():
        options_class._add_argparse_args(beam_parser)
    _, unknown = beam_parser.parse_known_args(list(beam_args))
    if not unknown:
        return None
    first = unknown[0]
    if not first.startswith("-"):
        return (
            f"unexpected argument {first!r}: quote a glob given to --input "
            "('dumps/*.jsonl', newsbeam expands it), or repeat --input for each path"
        )
    name = first.split("=", 1)[0]
    known = [option for each in (parser, beam_parser) for action in each._actions for option in action.option_strings]
    close = difflib.get_close_matches(name, known, n=1)
    return f"unknown flag {name}" + (f" (did you mean {close[0]}?)" if close else "") + "; see newsbeam run --help"


_INTERRUPTED = "newsbeam: interrupted; nothing of this run was published"


def _discard_unrun(pipeline) -> None:
    """A pipeline that will not run: Beam removes its temp directory only in run()."""
    shutil.rmtree(pipeline.local_tempdir, ignore_errors=True)


def _refuse_unwritable(output: str, shown: Optional[str] = None) -> bool:
    """Say so, and return True, when a local output directory cannot be written: before any work, not after it.

    Remote outputs (gs://, s3://) are left to Beam's filesystems, which need credentials to probe.
    A folder made for the probe and left empty is removed by the caller (`_removed_if_left_empty`).
    """
    if "://" in output:
        return False
    if os.path.exists(output) and not os.path.isdir(output):
        print(f"newsbeam: cannot write to --output {shown or output}: it is a file, not a folder", file=sys.stderr)
        return True
    try:
        os.makedirs(output, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=output, prefix=".newsbeam-probe-"):
            pass
    except OSError as error:
        print(f"newsbeam: cannot write to --output {shown or output}: {error.strerror or error}", file=sys.stderr)
        return True
    return False


@contextlib.contextmanager
def _removed_if_left_empty(output: str):
    """A local output folder that did not exist before goes again if the run leaves it empty
    (it failed or was refused): a failed run leaves no folder it made."""
    existed = "://" in output or os.path.isdir(output)
    try:
        yield
    finally:
        if not existed:
            with contextlib.suppress(OSError):  # not empty (the run published), or not there
                os.rmdir(output)


def run_command(argv: Sequence[str]) -> int:
    parser = _run_parser()
    args, beam_args = parser.parse_known_args(argv)

    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    from pipeline.config import ConfigError, load_config
    from pipeline.counts import check_output, format_counts
    from pipeline.graph import Sources, build_pipeline
    from pipeline.progress import ProgressLine
    from pipeline.runners import (
        BATCH_LOCAL_RUNNER,
        STREAMING_LOCAL_RUNNER,
        ClusterError,
        interrupt_on_stop_signals,
        resolve_runner,
        run_to_completion,
    )
    from transforms.subscription_lists import SubscriptionListError
    from transforms.write_parquet import cleanup_staging, read_manifest, windowed_manifest

    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"newsbeam: {error}", file=sys.stderr)
        return 2
    if args.allow_private_network:
        config = config.model_copy(update={"feeds": config.feeds.model_copy(update={"allow_private_network": True})})
    try:
        config = _with_subscription_lists(config, args.opml)
    except SubscriptionListError as error:
        print(f"newsbeam: --opml: {error}", file=sys.stderr)
        return 2

    inputs = list(args.input)
    if not inputs and not args.feed and not config.feeds.sources:  # the lists' feeds are among them now
        inputs = [sample_glob()]
    feeds = tuple(args.feed)
    feed_count = len(set(feeds) | {spec.url for spec in config.feeds.sources})

    options = PipelineOptions(list(beam_args))
    standard = options.view_as(StandardOptions)
    streaming = bool(standard.streaming)
    standard.runner = resolve_runner(standard.runner, streaming)
    refusal = _unknown_flag(parser, beam_args, standard.runner)
    if refusal:
        print(f"newsbeam run: {refusal}", file=sys.stderr)
        return 2

    # The in-process batch engine named for a streaming run is the local engine too: rounds.
    local_streaming = streaming and standard.runner in (STREAMING_LOCAL_RUNNER, BATCH_LOCAL_RUNNER)
    if args.max_rounds is not None and not local_streaming:
        print("newsbeam: --max-rounds is for --streaming on the local runner", file=sys.stderr)
        return 2
    if args.max_rounds is not None and args.max_rounds < 1:
        print(f"newsbeam: --max-rounds must be at least 1, not {args.max_rounds}", file=sys.stderr)
        return 2
    if local_streaming:
        # Beam 2.77's in-process runners cannot run an unbounded source (the
        # BundleBasedDirectRunner fails on PeriodicImpulse, the FnApiRunner runs
        # stage by stage): stream in bounded rounds instead (pipeline/rounds.py).
        from pipeline.rounds import plan_rounds, run_rounds, warn_unmatched

        standard.streaming = False
        standard.runner = BATCH_LOCAL_RUNNER
        # No sample in streaming: watch what was asked for (a folder: everything under it).
        watched = [_folder_means_its_files(pattern) for pattern in args.input]
        if not watched and not (feeds or config.feeds.sources):
            print("newsbeam: --streaming needs --input folders to watch or feeds to poll", file=sys.stderr)
            return 2
        plan = plan_rounds(config, feeds, bool(watched), args.max_rounds)
        with _removed_if_left_empty(args.output):
            if _refuse_unwritable(args.output):
                return 2
            warn_unmatched(watched)
            return run_rounds(args.output, options, config, watched, feeds, plan, BATCH_LOCAL_RUNNER)

    inputs = [_folder_means_its_files(_absolute(pattern)) for pattern in inputs]
    output = _absolute(args.output)
    input_files = _count_input_files(inputs)
    run_id = uuid.uuid4().hex[:12]
    ingested_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    started = time.monotonic()
    print(f"newsbeam: run {run_id} on {standard.runner}: {len(inputs)} input pattern(s), "
          f"{feed_count} feed(s) -> {args.output}", file=sys.stderr)

    import apache_beam as beam

    interrupt_on_stop_signals()
    pipeline = beam.Pipeline(options=options)
    try:
        build_pipeline(
            pipeline, Sources(tuple(inputs), feeds), output, config, run_id, ingested_at, streaming=streaming
        )
    except ValueError as error:
        # Refusals found while building the graph, e.g. a --feed that is not http(s).
        print(f"newsbeam: {error}", file=sys.stderr)
        _discard_unrun(pipeline)
        return 2
    except KeyboardInterrupt:
        _discard_unrun(pipeline)
        print(_INTERRUPTED, file=sys.stderr)
        return 130
    with _removed_if_left_empty(output):
        if _refuse_unwritable(output, shown=args.output):
            _discard_unrun(pipeline)
            return 2
        try:
            with ProgressLine(total_sources=input_files + feed_count):
                result = run_to_completion(pipeline)
            # A Dask run holds a client to the cluster; let it go before reading the output.
            if hasattr(result, "client"):
                result.client.close()
        except KeyboardInterrupt:
            print(_INTERRUPTED, file=sys.stderr)
            return 130
        except ClusterError as error:
            # The cluster (Dask) is unreachable, has no workers, or was lost: one line, not its traceback.
            print(f"newsbeam: {error}; nothing of this run was published", file=sys.stderr)
            return 1
        finally:
            cleanup_staging(output, run_id)

    if streaming:
        # An unbounded run that ended (drained, or bounded by run_for_s): the
        # totals of the windows it published.
        manifest = windowed_manifest(output)
        if manifest is None:
            print(f"newsbeam: run {run_id} published no window in {args.output}", file=sys.stderr)
            return 0
        verb, windows = "ended after", f"; {manifest['windows']} window(s)"
    else:
        manifest = read_manifest(output)
        if manifest.get("run_id") != run_id:
            print(f"newsbeam: the manifest in {args.output} is not this run's", file=sys.stderr)
            return 1
        verb, windows = "finished in", ""
    counts = check_output(output, manifest)
    print(f"newsbeam: run {run_id} {verb} {time.monotonic() - started:.1f} s{windows}")
    print(format_counts(counts))
    return 0 if counts.conserved else 1


EVAL_TASKS = {
    "dedup": "syndicated copies on copy-group labels (../shared/data/reprints/)",
    "events": "event grouping on event labels (ecbplus_events/, uci_news_stories/)",
    "entities": "people's normalised names on cross-document coreference (ecbplus_events/)",
    "extract": "main-text extraction on HTML pages with their gold text (article_extraction/)",
}


def eval_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="newsbeam eval",
        description="Measure quality on labelled data; prints one JSON line. "
        + "; ".join(f"{task}: {what}" for task, what in EVAL_TASKS.items())
        + ". `newsbeam eval TASK --help` lists a task's options.",
        add_help=False,  # -h after the task is the task's own help
    )
    parser.add_argument("task", choices=list(EVAL_TASKS))
    if not argv or argv[0] in {"-h", "--help"}:
        parser.print_help(sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    args, rest = parser.parse_known_args(argv[:1])
    rest = list(argv[1:])
    if args.task == "dedup":
        from pipeline.eval_dedup import main
    elif args.task == "events":
        from pipeline.eval_events import main
    elif args.task == "entities":
        from pipeline.eval_entities import main
    else:
        from pipeline.eval_extract import main
    return main(rest) or 0


def sql_command(argv: Sequence[str]) -> int:
    from pipeline.queries.render import FORMATS

    parser = argparse.ArgumentParser(
        prog="newsbeam sql", description="DuckDB over an output directory, with newsbeam's views defined."
    )
    parser.add_argument("output_dir")
    parser.add_argument("-c", dest="query", help="run one query and print its result (else an interactive prompt)")
    parser.add_argument(
        "--format", dest="output_format", choices=FORMATS, default="table",
        help="how results are printed, always in full: an aligned table (default), CSV, or JSON Lines",
    )
    args = parser.parse_args(argv)
    import duckdb

    from pipeline.queries import OutputDirError, connect, interactive, print_relation

    try:
        connection = connect(args.output_dir)
    except OutputDirError as error:
        return _refuse("sql", error)
    if args.query:
        try:
            print_relation(connection.sql(args.query), args.output_format)
        except duckdb.Error as error:
            print(f"newsbeam sql: {error}", file=sys.stderr)
            return 1
        return 0
    return interactive(connection, output_format=args.output_format)


def _refuse(command: str, error: Exception) -> int:
    """A clear one-line error for a directory that is not a newsbeam output (no traceback)."""
    print(f"newsbeam {command}: {error}", file=sys.stderr)
    return 2


def report_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="newsbeam report", description="Write DIR/_report/index.html, a self-contained page about the output."
    )
    parser.add_argument("output_dir")
    args = parser.parse_args(argv)
    from pipeline.queries import OutputDirError
    from pipeline.report import build_report

    try:
        print(build_report(args.output_dir))
    except OutputDirError as error:
        return _refuse("report", error)
    return 0


def dead_letters_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="newsbeam dead-letters", description="Dead letters by step and reason, with one example input each."
    )
    parser.add_argument("output_dir")
    parser.add_argument("--width", type=int, default=60, help="characters of the example input to show")
    args = parser.parse_args(argv)
    from pipeline.queries import OutputDirError, connect, records

    try:
        connection = connect(args.output_dir)
    except OutputDirError as error:
        return _refuse("dead-letters", error)
    rows = records(
        connection.sql(
            "select step, reason, count(*) as count, arg_min(source_ref, source_ref) as example, "
            "arg_min(raw, source_ref) as raw from dead_letters group by step, reason "
            "order by count desc, step, reason"
        )
    )
    if not rows:
        print("no dead letters: every record became an article")
        return 0
    header = f"{'step':<20} {'reason':<26} {'count':>6}  example"
    print(header)
    print("-" * len(header))
    for row in rows:
        sample = " ".join((row["raw"] or "").split())[: args.width]
        print(f"{row['step']:<20} {row['reason']:<26} {row['count']:>6}  {row['example']}")
        print(f"{'':<55}{sample!r}")
    return 0


COMMANDS = {
    "run": run_command,
    "eval": eval_command,
    "sql": sql_command,
    "report": report_command,
    "dead-letters": dead_letters_command,
}


class _WithoutBeamGcpNotice(logging.Filter):
    """Drops the notice `import apache_beam` logs when the GCP extras are not installed.

    It reads like a fault ("apitools not found, and bigquery client libraries are not
    available") at the top of every command, and no local command touches BigQuery; the
    Dataflow worker image (Dockerfile) is Beam's SDK image, which has the extras.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("apitools not found")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    usage = f"usage: newsbeam {{{', '.join(COMMANDS)}}} ...\n\nRead, deduplicate, tag and group news into Parquet. {__doc__}"
    if argv and argv[0] in {"-h", "--help"}:
        print(usage)  # asked for: stdout, so that `newsbeam --help | less` works
        return 0
    if not argv or argv[0] not in COMMANDS:
        unknown = f"newsbeam: unknown command {argv[0]!r}\n" if argv else ""
        print(f"{unknown}{usage}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().addFilter(_WithoutBeamGcpNotice())
    from pipeline.runners import WithoutInterruptTracebacks

    for handler in logging.getLogger().handlers:  # Beam's loggers propagate their records to these
        handler.addFilter(WithoutInterruptTracebacks())
    # `newsbeam sql out -c ... | head` should end quietly, as other commands do.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
