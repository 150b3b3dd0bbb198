"""`newsbeam report`: the page's numbers match the output, and a real browser
renders it with a clean console."""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess

import duckdb
import lxml.html
import pytest

from pipeline.report import TEMPLATE, _fmt_lag, _fmt_time, _story_timeline_svg, build_report, stale_report
from tests.conftest import BATCH_RUNNER, FIXTURES, NEWSBEAM, SEEDS_DIR, run_newsbeam


@pytest.fixture(scope="module")
def report(golden_output):
    result = subprocess.run([NEWSBEAM, "report", str(golden_output)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    page = golden_output / "_report" / "index.html"
    assert result.stdout.strip() == str(page)
    return page


def _text(tree, element_id: str) -> str:
    return tree.get_element_by_id(element_id).text_content().strip()


def test_report_numbers_match_the_output(report, golden_output):
    tree = lxml.html.fromstring(report.read_text(encoding="utf-8"))
    manifest = json.loads((golden_output / "_run.json").read_text())
    assert int(_text(tree, "records-read")) == manifest["records_read"]
    assert int(_text(tree, "rows-written")) == manifest["rows_written"]
    assert int(_text(tree, "dead-letters")) == manifest["dead_letters"]

    glob = f"{golden_output}/event_id=*/date=*/*.parquet"
    events, copies = duckdb.sql(
        f"select count(distinct event_id), count(*) filter (where not is_canonical) "
        f"from read_parquet('{glob}', hive_partitioning = true)"
    ).fetchall()[0]
    assert int(_text(tree, "event-count")) == events
    assert int(_text(tree, "copy-count")) == copies

    per_event = sorted(
        (row[0] for row in duckdb.sql(
            f"select count(*) from read_parquet('{glob}', hive_partitioning = true) group by event_id"
        ).fetchall()),
        reverse=True,
    )
    shown = [int(cell.text_content()) for cell in tree.find_class("event-articles")]
    assert shown == per_event  # largest first

    stories = tree.get_element_by_id("stories")
    assert len(stories.find_class("story")) == 1  # the seed reprinted by one outlet
    assert stories.find(".//svg") is not None or "<svg" in lxml.html.tostring(stories, encoding="unicode")


def test_report_is_self_contained(report):
    html = report.read_text(encoding="utf-8")
    # Nothing is loaded from elsewhere (SVG namespace URIs are names, not loads).
    for reference in ("<script src", "<link ", 'src="http', "src='http", 'href="http', "url(http", "@import"):
        assert reference not in html


def test_report_renders_in_headless_chromium(report, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed for this test (apt-get install chromium; .ci/run installs it)"
    screenshot = tmp_path / "report.png"
    result = subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
            "--window-size=1280,2400", f"--screenshot={screenshot}", report.as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    )
    assert screenshot.exists() and screenshot.stat().st_size > 20_000, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console


# ---------------------------------------------------------------- copies of unknown lag


@pytest.fixture(scope="module")
def undated_copy_output(tmp_path_factory):
    """A real run over the seeds and two reprints of seed 000, one of which gives no publication time."""
    folder = tmp_path_factory.mktemp("undated")
    reprint_file = FIXTURES / "reprint" / "reprint_of_seed_000.jsonl"
    reprint = json.loads(reprint_file.read_text(encoding="utf-8").splitlines()[0])
    undated = {
        **reprint,
        "id": "undated-reprint",
        "url": "https://undated-gazette.example/pact",
        "outlet": "The Undated Gazette",
    }
    del undated["published"]
    (folder / "undated.jsonl").write_text(json.dumps(undated) + "\n", encoding="utf-8")
    output = folder / "out"
    run_newsbeam(
        "--input", str(SEEDS_DIR / "*.txt"), "--input", str(FIXTURES / "reprint" / "*.jsonl"),
        "--input", str(folder / "undated.jsonl"), "--output", str(output),
    )
    return output


def _story_of(page: pathlib.Path, outlet: str) -> str:
    """The HTML of the story whose table lists the outlet."""
    stories = page.read_text(encoding="utf-8").split('<div class="story">')[1:]
    (story,) = [s for s in stories if f"<td>{outlet}</td>" in s]
    return story


def _chart_texts(story_html: str) -> list[str]:
    """The texts of the story's chart (matplotlib writes each one as a comment beside its glyphs)."""
    chart = story_html[story_html.index('<div class="chart">') : story_html.index("</svg>")]
    return [text.strip() for text in re.findall(r"<!--(.*?)-->", chart, re.S)]


def test_a_copy_of_unknown_lag_is_left_out_of_the_chart_and_counted(undated_copy_output):
    lags = dict(duckdb.sql(
        f"select outlet, lag_seconds from read_parquet('{undated_copy_output}/event_id=*/date=*/*.parquet', "
        "hive_partitioning = true) where outlet = 'The Undated Gazette'"
    ).fetchall())
    assert lags == {"The Undated Gazette": None}
    page = build_report(str(undated_copy_output))
    story = _story_of(page, "The Undated Gazette")
    tree = lxml.html.fromstring(story)
    lag_cells = {row[0].text_content(): row[2].text_content() for row in tree.iter("tr") if row[0].tag == "td"}
    assert lag_cells["The Undated Gazette"] == "unknown" and lag_cells["The Deccan Courier"] == "+6 h 30 min"
    texts = _chart_texts(story)
    assert "The Deccan Courier" in texts
    assert "The Undated Gazette" not in texts  # it was drawn at 0.0 h
    assert "not drawn: 1 copy with an unknown lag (publication time unknown)" in texts


def test_a_story_of_unknown_lags_only_has_no_chart_and_says_why():
    copies = [
        {"outlet": outlet, "title": "t", "published": None, "is_canonical": outlet == "A", "lag_seconds": None}
        for outlet in ("A", "B")
    ]
    assert _story_timeline_svg({"copies": copies}) is None
    html = TEMPLATE.render(
        output_dir="out", manifest={}, described="unknown", totals={}, events=[], events_chart=None,
        stories=[{"dup_group_id": "cg-a", "title": "t", "outlet": "A", "published": None, "agency": None,
                  "copies": copies, "chart": None}],
        dead_letters=[], fmt_time=_fmt_time, fmt_lag=_fmt_lag,
    )
    assert "No timeline: the publication times of these copies are unknown." in html and "<svg" not in html


# ---------------------------------------------------------------- a page of an earlier state of the output


def test_the_page_names_the_run_it_describes(report, golden_output):
    run_id = json.loads((golden_output / "_run.json").read_text())["run_id"]
    tree = lxml.html.fromstring(report.read_text(encoding="utf-8"))
    assert tree.xpath('//meta[@name="newsbeam-run-id"]/@content') == [run_id]
    assert _text(tree, "run-id") == run_id
    assert stale_report(str(golden_output)) is None


def test_a_page_of_an_earlier_state_of_the_output_says_it_is_stale(golden_output, tmp_path):
    import apache_beam as beam
    from apache_beam.testing.test_pipeline import TestPipeline

    from transforms.dead_letters import make_dead_letter
    from transforms.write_parquet import AppendRound, WriteParquet, read_manifest

    output = tmp_path / "out"
    shutil.copytree(golden_output, output, ignore=shutil.ignore_patterns("_report"))
    assert stale_report(str(output)) is None  # no page: nothing to be stale
    build_report(str(output))
    assert stale_report(str(output)) is None
    first = read_manifest(str(output))["run_id"]

    # A round of a local stream appended to the output, written as pipeline/rounds.py writes it.
    letter = make_dead_letter("read.jsonl", "invalid_json", "line 1 is not JSON", "more.jsonl:1", "{oops")
    with TestPipeline(runner=BATCH_RUNNER) as p:
        {
            "articles": p | "Articles" >> beam.Create([]),
            "dead_letters": p | "Dead" >> beam.Create([letter]),
            "records_read": p | "Read" >> beam.Create([1]),
        } | WriteParquet(str(output), "r1-000000", append=AppendRound("r1-000000", read_manifest(str(output))))
    message = stale_report(str(output))
    assert message is not None and f"describes run {first}," in message and "now run r1-000000" in message

    # A batch re-run replaces the output: the page is gone, or says it is stale.
    (tmp_path / "broken.jsonl").write_text("not json\n", encoding="utf-8")
    run_newsbeam("--input", str(tmp_path / "broken.jsonl"), "--output", str(output))
    rerun = read_manifest(str(output))["run_id"]
    page = output / "_report" / "index.html"
    assert not page.exists() or f"now run {rerun};" in (stale_report(str(output)) or "")
    build_report(str(output))
    assert stale_report(str(output)) is None
