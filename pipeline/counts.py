"""The run's counts, checked against what is really on disk, and printed.

The manifest (`_run.json`) says what the publish step wrote; this module
re-reads the Parquet footers of every published file and lists the output
folders, so a file that went missing or a stale file left behind shows up as a
failed check, not as a quietly wrong number.
"""

from __future__ import annotations

import dataclasses

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from transforms.write_parquet import ARTICLE_GLOB, DEAD_LETTER_GLOB, join


@dataclasses.dataclass
class RunCounts:
    records_read: int
    rows_written: int
    dead_letters: int
    dead_letters_by_reason: dict[str, int]
    rows_on_disk: int
    dead_letters_on_disk: int
    problems: list[str]

    @property
    def conserved(self) -> bool:
        return (
            not self.problems
            and self.records_read == self.rows_written + self.dead_letters
            and self.rows_on_disk == self.rows_written
            and self.dead_letters_on_disk == self.dead_letters
        )


def _parquet_rows(path: str) -> int:
    with FileSystems.open(path) as handle:
        return pq.ParquetFile(handle).metadata.num_rows


def _glob(output_dir: str, pattern: str) -> set[str]:
    result = FileSystems.match([join(output_dir, pattern)])[0]
    return {m.path for m in result.metadata_list}


def check_output(output_dir: str, manifest: dict) -> RunCounts:
    """Compare the manifest with the files actually present under output_dir."""
    problems: list[str] = []
    listed = {join(output_dir, f["path"]): f for f in manifest["files"]}
    present = _glob(output_dir, ARTICLE_GLOB) | _glob(output_dir, DEAD_LETTER_GLOB)
    for path in sorted(set(listed) - present):
        problems.append(f"missing file {path}")
    for path in sorted(present - set(listed)):
        problems.append(f"unexpected file {path} (not written by this run)")

    rows_on_disk = dead_on_disk = 0
    for path, entry in listed.items():
        if path not in present:
            continue
        rows = _parquet_rows(path)
        if rows != entry["rows"]:
            problems.append(f"{path} holds {rows} rows, the run wrote {entry['rows']}")
        if entry["kind"] == "articles":
            rows_on_disk += rows
        else:
            dead_on_disk += rows

    return RunCounts(
        records_read=manifest["records_read"],
        rows_written=manifest["rows_written"],
        dead_letters=manifest["dead_letters"],
        dead_letters_by_reason=manifest["dead_letters_by_reason"],
        rows_on_disk=rows_on_disk,
        dead_letters_on_disk=dead_on_disk,
        problems=problems,
    )


def format_counts(counts: RunCounts) -> str:
    lines = [
        f"  records read   {counts.records_read:>8}",
        f"  rows written   {counts.rows_written:>8}   (on disk: {counts.rows_on_disk})",
        f"  dead letters   {counts.dead_letters:>8}   (on disk: {counts.dead_letters_on_disk})",
    ]
    for key, value in sorted(counts.dead_letters_by_reason.items()):
        step, _, reason = key.partition("/")
        lines.append(f"    {step:<22} {reason:<28} {value:>6}")
    lines.extend(f"  problem: {p}" for p in counts.problems)
    verdict = "yes" if counts.conserved else "NO"
    lines.append(
        f"counts: read={counts.records_read} written={counts.rows_written} "
        f"dead_letters={counts.dead_letters} conserved={verdict} "
        f"({counts.records_read} {'=' if counts.conserved else '!='} "
        f"{counts.rows_written} + {counts.dead_letters})"
    )
    return "\n".join(lines)
