"""The same records as JSONL, as CSV and as one JSON array (read whole, and streamed), side by side.

Input: the real articles of ../shared/data/reprints (dev; title, text, URL,
outlet, date), repeated to reach each size, copy k with its own id so no two
records are the same. Each size is written four ways into a temporary folder:

- `jsonl`: one record per line, streamed line by line (the reference);
- `csv`: one row per record under a header, streamed row by row;
- `json whole`: one JSON array, read whole (it is within `max_file_bytes`);
- `json streamed`: the same file read with `max_file_bytes` set below its size,
  so that it is streamed record by record with ijson.

Each is read by ReadFileDumps' own DoFn (`ParseDumpFileFn`) in this process,
record parsing and all, without Beam around it (the reading cost alone; the
readers' Beam cost is bench_readers.py's). The four are timed in turn, round
after round (`--rounds`, best of them kept), so they see the same machine load.

What is printed, per size and format: records/s; `x jsonl`, that throughput
over JSONL's (1.0 = as fast); and growth, the time ratio between the two
sizes against the record ratio (linear: equal). Records and dead letters are
counted, so a format that lost records shows it. A benchmark, not a test: it
asserts nothing.

    .venv/bin/python bench/bench_json_records.py                  # 5,000 and 50,000 records, about 3 min
    .venv/bin/python bench/bench_json_records.py --sizes 2000 --rounds 1
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import json
import pathlib
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import apache_beam as beam  # noqa: E402
from apache_beam.io import fileio  # noqa: E402
from apache_beam.io.filesystem import FileMetadata  # noqa: E402

from transforms.read_files import ParseDumpFileFn, ReadConfig  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "reprints" / "reprints.dev.jsonl.gz"
FIELDS = ("article_id", "title", "text", "url", "outlet", "published")
FORMATS = ("jsonl", "csv", "json whole", "json streamed")


def real_records() -> list[dict]:
    if not DATA.exists():
        raise SystemExit(f"no {DATA}: ../shared must sit beside the checkout")
    with gzip.open(DATA, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [
        {
            "title": row.get("title") or "",
            "text": row.get("text") or "",
            "url": row.get("url") or "",
            "outlet": row.get("outlet") or row.get("source") or "",
            "published": row.get("published_at") or row.get("published") or row.get("date") or "",
        }
        for row in rows
        if row.get("text")
    ]


def write_inputs(root: pathlib.Path, records: list[dict], size: int) -> dict[str, pathlib.Path]:
    chosen = [dict(records[n % len(records)], article_id=f"bench-{n}") for n in range(size)]
    paths = {"jsonl": root / f"records-{size}.jsonl", "csv": root / f"records-{size}.csv", "json": root / f"records-{size}.json"}
    with open(paths["jsonl"], "w", encoding="utf-8") as out:
        for record in chosen:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    with open(paths["csv"], "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(chosen)
    paths["json"].write_text(json.dumps(chosen, ensure_ascii=False, indent=1), encoding="utf-8")
    return paths


def read(path: pathlib.Path, config: ReadConfig) -> tuple[float, int, int]:
    """(seconds, records, dead letters) of one file through the reading DoFn."""
    fn = ParseDumpFileFn(config, dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    fn.setup()
    started = time.perf_counter()
    records = dead = 0
    for out in fn.process(fileio.ReadableFile(FileMetadata(str(path), path.stat().st_size))):
        if isinstance(out, beam.pvalue.TaggedOutput):
            dead += 1
        else:
            records += 1
    return time.perf_counter() - started, records, dead


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    records = real_records()
    best: dict[tuple[int, str], tuple[float, int, int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            paths = write_inputs(pathlib.Path(folder), records, size)
            json_bytes = paths["json"].stat().st_size
            runs = {
                "jsonl": (paths["jsonl"], ReadConfig()),
                "csv": (paths["csv"], ReadConfig()),
                "json whole": (paths["json"], ReadConfig(max_file_bytes=max(json_bytes + 1, ReadConfig().max_file_bytes))),
                "json streamed": (paths["json"], ReadConfig(max_file_bytes=json_bytes // 2)),
            }
            for _ in range(args.rounds):
                for name, (path, config) in runs.items():
                    result = read(path, config)
                    if (size, name) not in best or result[0] < best[(size, name)][0]:
                        best[(size, name)] = result
            print(f"{size} records: JSON array {json_bytes / 1e6:.1f} MB", flush=True)
    print(f"\n{'records':>8} {'format':<14} {'records/s':>10} {'x jsonl':>8} {'rows':>7} {'dead':>5}")
    for size in args.sizes:
        for name in FORMATS:
            seconds, rows, dead = best[(size, name)]
            reference = best[(size, "jsonl")][0]
            print(f"{size:>8} {name:<14} {size / seconds:>10,.0f} {reference / seconds:>8.2f} {rows:>7} {dead:>5}")
    if len(args.sizes) >= 2:
        small, large = args.sizes[0], args.sizes[-1]
        print(f"\ngrowth from {small} to {large} records ({large / small:.1f}x): time ratio per format")
        for name in FORMATS:
            print(f"  {name:<14} {best[(large, name)][0] / best[(small, name)][0]:.1f}x")


if __name__ == "__main__":
    main()
