"""The same real pages read as HTML files, as one web archive (WARC) and as one zip, side by side.

Input: the real pages of `../shared/data/article_extraction/html` and
`web_extraction_utomo/html` (617 in all), the first N of them for each size,
written three ways into a temporary folder:

- `html`: one gzipped page per file (as a crawler's folder holds them);
- `warc`: one `.warc.gz`, a gzip member per record (warcio's writer), each
  page a `response` with its request beside it, as a crawler writes;
- `zip`: one `.zip` of the pages.

Each (format, size, processes) runs `ReadFileDumps` alone in a fresh
process (`--child`): Beam's in-process FnApiRunner, one process or two SDK
harness processes (`--direct_num_workers 2 --direct_running_mode
multi_processing`), timed from the outside, interpreter start included.

What is printed:

- `pages/s`: pages / wall seconds;
- `x html`: that throughput over the HTML files' at the same size and
  processes (the cost of reading a page out of a container: 1.0 = none);
- `x 1 proc`: two processes over one, same format and size (a single archive
  must still spread its pages over the workers, as a folder of files does);
- growth: wall-time ratio between the two sizes against the page ratio
  (linear: equal).

Rows and dead letters are counted in the child and printed, so a format that
lost pages shows it. A benchmark, not a test: it asserts nothing.

    .venv/bin/python bench/bench_readers.py                    # 150 and 600 pages, about 5 min on 2 cores
    .venv/bin/python bench/bench_readers.py --sizes 100 --processes 1
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import zipfile

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
PAGE_FOLDERS = (DATA / "article_extraction" / "html", DATA / "web_extraction_utomo" / "html")
FORMATS = ("html", "warc", "zip")


def real_pages() -> list[pathlib.Path]:
    pages = [page for folder in PAGE_FOLDERS for page in sorted(folder.glob("*.html.gz"))]
    if not pages:
        raise SystemExit(f"no pages under {PAGE_FOLDERS}: ../shared must sit beside the checkout")
    return pages


def write_inputs(root: pathlib.Path, pages: list[pathlib.Path]) -> dict[str, str]:
    """The pages three ways; the glob of each."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    html = root / "html"
    html.mkdir()
    for number, page in enumerate(pages):
        (html / f"{number:04d}-{page.name}").symlink_to(page)
    with open(root / "pages.warc.gz", "wb") as out:
        writer = WARCWriter(out, gzip=True)
        writer.write_record(writer.create_warcinfo_record("pages.warc.gz", {"software": "newsbeam bench"}))
        for number, page in enumerate(pages):
            url = f"https://bench.example/{number:04d}/{page.name[:16]}.html"
            request = StatusAndHeaders("GET / HTTP/1.1", [("Host", "bench.example")], is_http_request=True)
            writer.write_record(writer.create_warc_record(url, "request", payload=io.BytesIO(b""), http_headers=request))
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            body = gzip.decompress(page.read_bytes())
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers))
    with zipfile.ZipFile(root / "pages.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, page in enumerate(pages):
            archive.writestr(f"pages/{number:04d}-{page.name[:-3]}", gzip.decompress(page.read_bytes()))
    return {"html": str(html / "*.html.gz"), "warc": str(root / "pages.warc.gz"), "zip": str(root / "pages.zip")}


def child(pattern: str, processes: int) -> None:
    """Run ReadFileDumps over `pattern` and print its counts as JSON."""
    sys.path.insert(0, str(REPO))
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.runners import BATCH_LOCAL_RUNNER
    from transforms.read_files import ReadFileDumps

    flags = ["--runner", BATCH_LOCAL_RUNNER]
    if processes > 1:
        flags += ["--direct_num_workers", str(processes), "--direct_running_mode", "multi_processing"]
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as out:
        with beam.Pipeline(options=PipelineOptions(flags)) as pipeline:
            articles, dead_letters = pipeline | ReadFileDumps([pattern])
            for name, collection in (("rows", articles), ("dead_letters", dead_letters)):
                (
                    collection
                    | f"Count{name}" >> beam.combiners.Count.Globally()
                    | f"Write{name}" >> beam.io.WriteToText(os.path.join(out, name), shard_name_template="")
                )
        for name in ("rows", "dead_letters"):
            counts[name] = int(pathlib.Path(out, name).read_text().strip())
    print(json.dumps(counts))


def timed(pattern: str, processes: int) -> tuple[float, dict]:
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, __file__, "--child", pattern, "--processes", str(processes)],
        capture_output=True, text=True, check=False,
    )
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        print(run.stderr[-2000:], file=sys.stderr)
        return seconds, {"error": run.returncode}
    return seconds, json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[150, 600])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.processes[0])
        return
    pages = real_pages()
    print(f"load average at start: {os.getloadavg()[0]:.2f}; {len(pages)} real pages available", flush=True)
    results: dict[tuple[str, int, int], float] = {}
    with tempfile.TemporaryDirectory() as root:
        for size in args.sizes:
            folder = pathlib.Path(root, str(size))
            folder.mkdir()
            patterns = write_inputs(folder, pages[:size])
            # Interleaved per size, so drift on a shared machine touches every format alike.
            for processes in args.processes:
                for name in FORMATS:
                    seconds, counts = timed(patterns[name], processes)
                    results[(name, size, processes)] = seconds
                    html_seconds = results.get(("html", size, processes))
                    one_process = results.get((name, size, 1))
                    print(
                        f"{name:5s} {size:5d} pages  {processes} proc  {seconds:7.1f} s  {size / seconds:6.1f} pages/s"
                        f"  x html {html_seconds / seconds:5.2f}"
                        + (f"  x 1 proc {one_process / seconds:5.2f}" if processes > 1 and one_process else "")
                        + f"  rows {counts.get('rows')} dead {counts.get('dead_letters')}",
                        flush=True,
                    )
    if len(args.sizes) == 2:
        small, large = args.sizes
        for name in FORMATS:
            for processes in args.processes:
                ratio = results[(name, large, processes)] / results[(name, small, processes)]
                print(f"growth {name:5s} {processes} proc: {large / small:.1f}x pages -> {ratio:.2f}x time")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
