"""Local streaming: `newsbeam run --streaming` on the in-process runner, as rounds.

Beam 2.77's in-process runners cannot poll forever (see `transforms/read_feeds.py`:
the legacy streaming runner fails on `PeriodicImpulse`, the portable one runs
stage by stage and publishes only when the source ends). On a managed runner
`--streaming` runs the unbounded graph; here it runs the same stages as a
sequence of bounded rounds, one per tick, the way a micro-batch engine does:

    every `interval` seconds (the shortest feed poll interval, and
    `watch.poll_interval_s` when there are input folders):
      new settled files under --input (watch rule of transforms/watch_folders.py)
      + the feeds that are due  ->  the whole graph, bounded  ->  append + publish

What carries from round to round lives in the output folder, under
`DIR/_state/`, published by the same step that publishes the round's files
(`transforms/write_parquet.py`, append mode), so data and state never
disagree:
- `feeds.pickle`: per feed, validators, backoff and the items already
  emitted (at most `feeds.seen_items_per_feed`): each item is emitted once
  across rounds, and restarts, and a 304 costs no parse;
- `files.pickle`: per input pattern, the files of its latest listing and
  whether each was read (bounded by what the folders hold now);
- `events.pickle`: per event state key, the online clusterer with its live
  events (bounded by `events.quiet_period_hours` and
  `events.full_text_quiet_period_hours`): an article of a later round
  joins an event founded in an earlier one, with the same id batch gives;
- dedup keeps no state file: each round matches its articles against the
  articles earlier rounds published within `dedup.retention_days` (read back
  from the Parquet output); a copy of an earlier article joins that
  article's copy group.

Each round's files are `part-<run>-<round>-NNNNN.parquet` in the usual Hive
partitions; `_run.json` holds the totals over all rounds, so the conservation
check (rows in = rows written + dead letters) covers the whole stream.

Stopping: Ctrl-C (SIGINT) or SIGTERM. Between rounds the loop just ends. In
the middle of a round the round is abandoned before its publish step: its
staging folder is removed, nothing of it is visible, and its state was not
published, so the next start does the round again (no item lost, none
doubled). A Ctrl-C that lands while Beam starts a bundle's state-sampling
thread would leave that thread running and the process unable to exit;
`run_to_completion` ends it. `feeds.run_for_s` /
`watch.run_for_s` and `--max-rounds` bound a run (tests, demos).

What rounds cost against a true streaming runner: latency is at least one
interval; every round starts the pipeline afresh (the NER model and the
extraction helper are loaded again, 1-3 s) and re-signs the recent
articles it matches copies against; events and dedup see each round's
articles in publication order, earlier rounds' articles as they were.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import glob
import logging
import sys
import time
import uuid
from typing import Optional, Sequence

_LOG = logging.getLogger(__name__)

FILES_STATE = "files"


@dataclasses.dataclass(frozen=True)
class RoundsPlan:
    """When rounds happen and when the run stops."""

    interval_s: float
    run_for_s: Optional[float] = None
    max_rounds: Optional[int] = None


def plan_rounds(config, feeds: Sequence[str], has_inputs: bool, max_rounds: Optional[int]) -> RoundsPlan:
    from transforms.read_feeds import ReadFeeds

    intervals, limits = [], []
    if feeds or config.feeds.has_feeds:
        intervals.append(ReadFeeds(list(feeds), config.feeds).tick_interval_s)
        if config.feeds.run_for_s:
            limits.append(config.feeds.run_for_s)
    if has_inputs:
        intervals.append(config.watch.poll_interval_s)
        if config.watch.run_for_s:
            limits.append(config.watch.run_for_s)
    return RoundsPlan(
        interval_s=max(1.0, min(intervals)) if intervals else config.watch.poll_interval_s,
        run_for_s=min(limits) if limits else None,
        max_rounds=max_rounds,
    )


def warn_unmatched(patterns: Sequence[str]) -> None:
    """Say which watched patterns match nothing yet: a typo would otherwise wait in silence."""
    from transforms.read_files import match_pattern

    for pattern in patterns:
        try:
            empty = not match_pattern(pattern)
        except Exception:  # a folder not there yet; list_new_files says so each round
            empty = True
        if empty:
            print(f"newsbeam: --input {pattern!r} matches no file yet; watching it", file=sys.stderr)


def list_new_files(patterns: Sequence[str], seen: dict, settle_s: float) -> tuple[list[str], dict]:
    """(paths to read this round, the next files state) under the watch rule."""
    from transforms.read_files import match_pattern
    from transforms.watch_folders import new_files

    to_read, next_state = set(), {}
    now = time.time()
    for pattern in patterns:
        try:
            listing = match_pattern(pattern)
        except Exception as error:  # a folder not there yet: keep its state, list it again next round
            _LOG.warning("cannot list %s: %s", pattern, error)
            next_state[pattern] = seen.get(pattern, {})
            continue
        emit, next_state[pattern] = new_files(listing, seen.get(pattern, {}), now=now, settle_s=settle_s)
        to_read.update(metadata.path for metadata in emit)
    return sorted(to_read), next_state


def load_references(output_dir: str, retention_days: float) -> list:
    """Articles earlier rounds published within the dedup retention.

    Retention counts in event time, as in the streaming graph: an article is kept
    when its publication is at most `retention_days` before the newest
    publication in the output (an undated one: its ingestion before the newest
    ingestion of an undated one), not before the wall clock, so a replayed
    archive matches the way a live stream does.
    """
    import pyarrow.parquet as pq
    from apache_beam.io.filesystems import FileSystems

    from transforms.schema import ARTICLE_SCHEMA, row_to_article
    from transforms.write_parquet import ARTICLE_GLOB, join

    articles = []
    for metadata in FileSystems.match([join(output_dir, ARTICLE_GLOB)])[0].metadata_list:
        with FileSystems.open(metadata.path) as handle:
            table = pq.read_table(handle, schema=ARTICLE_SCHEMA)
        articles.extend(row_to_article(row) for row in table.to_pylist())
    # Publication and ingestion are two clocks (an archive of last year read today): each
    # article is measured against the newest moment of its own clock.
    published_cutoff = _cutoff([a.published_at for a in articles], retention_days)
    ingested_cutoff = _cutoff([a.ingested_at for a in articles if a.published_at is None], retention_days)
    return [
        a
        for a in articles
        if (a.published_at >= published_cutoff if a.published_at is not None else
            a.ingested_at is None or a.ingested_at >= ingested_cutoff)
    ]


def _cutoff(moments: list, retention_days: float):
    dated = [m for m in moments if m is not None]
    return max(dated) - dt.timedelta(days=retention_days) if dated else None


def run_rounds(
    output_dir: str,
    options,
    config,
    inputs: Sequence[str],
    feeds: Sequence[str],
    plan: RoundsPlan,
    runner_name: str,
) -> int:
    """Run rounds until stopped; prints each round's counts and the totals. Returns an exit code."""
    import apache_beam as beam

    from pipeline.counts import check_output, format_counts
    from pipeline.graph import RoundCarry, Sources, build_pipeline
    from pipeline.runners import interrupt_on_stop_signals, run_to_completion, stop_requested
    from transforms.events import EVENT_STATE_NAME
    from transforms.read_feeds import FEED_STATE_NAME
    from transforms.write_parquet import AppendRound, MANIFEST_NAME, cleanup_staging, join, read_manifest, read_state
    from apache_beam.io.filesystems import FileSystems

    run_id = uuid.uuid4().hex[:8]
    # Every round builds a graph that resolves the feeds: read the subscription lists once, here.
    config = config.model_copy(update={"feeds": config.feeds.with_lists_read()})
    has_feeds = bool(feeds or config.feeds.sources)
    interrupt_on_stop_signals()
    started = time.time()
    rounds_done = 0
    print(
        f"newsbeam: streaming in rounds on {runner_name} every {plan.interval_s:g} s "
        f"({len(inputs)} input pattern(s), {len(set(feeds)) + len(config.feeds.subscribed)} feed(s)) -> {output_dir}; "
        "Ctrl-C stops",
        file=sys.stderr,
    )
    round_tag = None
    in_round = False
    earlier_runs = FileSystems.exists(join(output_dir, MANIFEST_NAME))
    try:
        while plan.max_rounds is None or rounds_done < plan.max_rounds:
            # The engine can swallow the KeyboardInterrupt of a stop that lands inside a round
            # which then completes normally; the signal is remembered, so it still ends the run.
            if stop_requested():
                raise KeyboardInterrupt
            tick = started + rounds_done * plan.interval_s
            # A round at the limit itself: what arrived in the last interval is read too.
            if plan.run_for_s is not None and tick - started > plan.run_for_s:
                break
            time.sleep(max(0.0, tick - time.time()))
            round_tag = f"{run_id}-{rounds_done:06d}"
            rounds_done += 1

            manifest_path = join(output_dir, MANIFEST_NAME)
            previous = read_manifest(output_dir) if FileSystems.exists(manifest_path) else {}
            files_state = read_state(output_dir, FILES_STATE)
            new_paths, next_files_state = list_new_files(inputs, files_state, config.watch.settle_s)
            if not new_paths and not has_feeds:
                continue  # the listing is taken again next round; nothing to publish
            in_round = True
            now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
            carry = RoundCarry(
                append=AppendRound(
                    round_tag=round_tag,
                    previous_manifest=previous,
                    carried_state={name: read_state(output_dir, name) for name in (FEED_STATE_NAME, EVENT_STATE_NAME)},
                    state_updates={FILES_STATE: next_files_state},
                ),
                tick_s=tick,
                references=load_references(output_dir, config.dedup.retention_days) if previous else [],
            )
            pipeline = beam.Pipeline(options=options)
            build_pipeline(
                # Escaped: a path holding [, * or ? must match only itself.
                pipeline, Sources(tuple(glob.escape(p) for p in new_paths), tuple(feeds)), output_dir, config,
                round_tag, now, carry=carry,
            )
            try:
                run_to_completion(pipeline)
            finally:
                cleanup_staging(output_dir, round_tag)
            in_round = False
            manifest = read_manifest(output_dir)
            last = manifest.get("last_round", {})
            print(
                f"newsbeam: round {rounds_done} ({round_tag}): {len(new_paths)} new file(s), "
                f"read={last.get('records_read', 0)} written={last.get('rows_written', 0)} "
                f"dead_letters={last.get('dead_letters', 0)}",
                file=sys.stderr,
                flush=True,
            )
    except KeyboardInterrupt:
        manifest_path = join(output_dir, MANIFEST_NAME)
        if in_round and FileSystems.exists(manifest_path) and read_manifest(output_dir).get("round_tag") == round_tag:
            in_round = False  # stopped just after its publish step: the round is complete
        # rounds_done counts the round in progress too (it is numbered before it starts).
        where = (
            f"stopped after {rounds_done - 1} round(s), in round {rounds_done}; "
            "the round in progress was not published and will be done again"
            if in_round
            else f"stopped after {rounds_done} round(s), between rounds"
        )
        print(f"newsbeam: {where}", file=sys.stderr)
        if in_round:
            cleanup_staging(output_dir, round_tag)
        interrupted = True
    else:
        interrupted = False

    if not FileSystems.exists(join(output_dir, MANIFEST_NAME)):
        nothing = "nothing was published yet" if in_round else "no round had anything to read; nothing was written"
        print(f"newsbeam: {nothing}", file=sys.stderr)
        return 130 if interrupted else 0
    counts = check_output(output_dir, read_manifest(output_dir))
    finished = rounds_done - 1 if in_round else rounds_done  # an abandoned round is not counted
    scope = f"all rounds in {output_dir}, earlier runs' included" if earlier_runs else "all rounds"
    print(f"newsbeam: {finished} round(s) in {time.time() - started:.1f} s; totals over {scope}:")
    print(format_counts(counts))
    if not counts.conserved:
        return 1
    return 130 if interrupted else 0
