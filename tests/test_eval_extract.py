"""The extraction eval: the benchmark's metric, both gold layouts, the JSON line."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest

from pipeline.eval_extract import evaluate_extraction, load_gold_pages, main, score, shingle_tp_fp_fn
from tests.conftest import SHARED, require_shared

AE = SHARED / "data" / "article_extraction"
UTOMO = SHARED / "data" / "web_extraction_utomo"


def small_copy(source, target, count: int):
    """A gold folder of the same layout holding the first `count` pages."""
    truth = sorted(source.glob("ground_truth*.jsonl.gz"))[0]
    with gzip.open(require_shared(truth), "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle][:count]
    (target / "html").mkdir(parents=True)
    for row in rows:
        shutil.copy(source / row["html_file"], target / row["html_file"])
    with gzip.open(target / truth.name, "wt", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return rows


def test_shingle_counts_match_the_benchmark_definition():
    gold = "one two three four five"
    assert shingle_tp_fp_fn(gold, gold) == (1.0, 0.0, 0.0)
    # gold shingles: (1234), (2345); predicted: (1234), (2345), (3456): TP 2, FP 1
    assert shingle_tp_fp_fn(gold, "one two three four five six") == pytest.approx((2 / 3, 1 / 3, 0.0))
    assert shingle_tp_fp_fn("", "") == (0.0, 0.0, 0.0)


def test_score_averages_pages_and_skips_empty_predictions_for_precision():
    pairs = [("a b c d e", "a b c d e"), ("f g h i j", "")]
    result = score(pairs)
    assert result["precision"] == 1.0  # the empty prediction counts for recall only
    assert result["recall"] == 0.5
    assert result["f1"] == pytest.approx(2 * 0.5 / 1.5, abs=1e-4)
    assert result["accuracy"] == 0.5


def test_score_accuracy_compares_token_sequences():
    assert score([("Hello, world!", "hello world")])["accuracy"] == 0.0  # \w+ tokens keep their case
    assert score([("Hello, world!", "Hello world")])["accuracy"] == 1.0


def test_article_extraction_layout(tmp_path):
    rows = small_copy(AE, tmp_path, 6)
    pages = load_gold_pages(tmp_path)
    assert [p.page_id for p in pages] == [r["id"] for r in rows] and not pages[0].gold_has_title
    result = evaluate_extraction(tmp_path)
    assert result["pages"] == 6 and result["failed"] == 0
    assert result["f1"] > 0.85 and 0 < result["seconds"] < 60
    assert "groups" not in result


def test_utomo_layout_compares_title_and_text_and_scores_groups(tmp_path):
    small_copy(UTOMO, tmp_path, 6)
    pages = load_gold_pages(tmp_path)
    assert pages[0].gold_has_title and pages[0].group == "big9-2005"
    result = evaluate_extraction(tmp_path)
    assert result["pages"] == 6 and result["f1"] > 0.7
    assert sum(group["pages"] for group in result["groups"].values()) == 6


def test_pages_dated_in_est_and_edt_print_no_time_zone_warning(tmp_path, capfd):
    """The two pages of the set whose dates say EST/EDT: the extraction helper process (whose
    stderr is the run's) used to print dateutil's UnknownTimezoneWarning for each."""
    truth = sorted(UTOMO.glob("ground_truth*.jsonl.gz"))[0]
    with gzip.open(require_shared(truth), "rt", encoding="utf-8") as handle:
        rows = [row for row in map(json.loads, handle) if row["html_file"].startswith(("html/1c0f9ae6", "html/d315371c"))]
    assert len(rows) == 2
    (tmp_path / "html").mkdir()
    with gzip.open(tmp_path / truth.name, "wt", encoding="utf-8") as handle:
        for row in rows:
            shutil.copy(UTOMO / row["html_file"], tmp_path / row["html_file"])
            handle.write(json.dumps(row) + "\n")
    result = evaluate_extraction(tmp_path)
    assert result["pages"] == 2 and result["failed"] == 0
    err = capfd.readouterr().err
    assert "UnknownTimezoneWarning" not in err and "tzname" not in err


def test_main_prints_one_json_line(tmp_path, capsys):
    small_copy(AE, tmp_path, 3)
    assert main(["--data", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert {"precision", "recall", "f1", "accuracy", "pages", "seconds"} <= set(result) and result["pages"] == 3


def test_main_reports_a_folder_without_gold(tmp_path, capsys):
    assert main(["--data", str(tmp_path)]) == 2
    assert "ground_truth" in capsys.readouterr().err
