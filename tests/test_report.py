"""`newsbeam report`: the page's numbers match the output, and a real browser
renders it with a clean console."""

from __future__ import annotations

import json
import shutil
import subprocess

import duckdb
import lxml.html
import pytest

from tests.conftest import NEWSBEAM


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
