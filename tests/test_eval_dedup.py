"""`newsbeam eval dedup`: the real transform scored on the labelled reprint set."""

from __future__ import annotations

import gzip
import itertools
import json
import random

import pytest

from pipeline import eval_dedup
from tests.conftest import BATCH_RUNNER, SHARED, require_shared

REPRINTS = SHARED / "data" / "reprints" / "reprints.dev.jsonl.gz"
REQUIRED_KEYS = {
    "pair_precision", "pair_recall", "pair_f1", "ari",
    "real_pair_precision", "real_pair_recall", "real_pair_f1", "real_ari",
    "same_event_merged", "articles", "seconds",
}


@pytest.fixture(scope="module")
def labelled():
    return eval_dedup.load_labelled(str(require_shared(REPRINTS)))


def brute_force_scores(gold, predicted):
    """Pair counts over every pair, and ARI by the pair-counting formula (an independent route)."""
    both = gold_only = predicted_only = neither = 0
    for i, j in itertools.combinations(range(len(gold)), 2):
        same_gold, same_predicted = gold[i] == gold[j], predicted[i] == predicted[j]
        both += same_gold and same_predicted
        gold_only += same_gold and not same_predicted
        predicted_only += same_predicted and not same_gold
        neither += not same_gold and not same_predicted
    precision = both / (both + predicted_only)
    recall = both / (both + gold_only)
    ari = 2 * (both * neither - gold_only * predicted_only) / (
        (both + gold_only) * (gold_only + neither) + (both + predicted_only) * (predicted_only + neither)
    )
    return precision, recall, ari


def test_clustering_scores_agree_with_brute_force_pair_counting():
    rng = random.Random(3)
    for _ in range(20):
        gold = [rng.randrange(8) for _ in range(40)]
        predicted = [g if rng.random() < 0.7 else rng.randrange(12) for g in gold]
        scores = eval_dedup.clustering_scores(gold, predicted)
        precision, recall, ari = brute_force_scores(gold, predicted)
        assert scores["precision"] == pytest.approx(precision)
        assert scores["recall"] == pytest.approx(recall)
        assert scores["ari"] == pytest.approx(ari)
    perfect = eval_dedup.clustering_scores(list("aabbc"), list("xxyyz"))
    assert perfect == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "ari": 1.0}


def test_the_halves_split_the_data_without_cutting_an_event_or_a_group(labelled):
    halves = {split: eval_dedup.select_split(labelled, split) for split in ("a", "b")}
    assert len(halves["a"]) + len(halves["b"]) == len(labelled)
    for key in ("copy_group", "event_id"):
        values_a = {getattr(i, key) for i in halves["a"]} - {None}
        values_b = {getattr(i, key) for i in halves["b"]} - {None}
        assert not values_a & values_b, key
    assert min(len(h) for h in halves.values()) > 0.4 * len(labelled)


def test_the_real_transform_beats_the_floors_on_the_held_out_half(labelled):
    """End to end on half a of reprints.dev (the half the default thresholds were NOT chosen on).

    Measured there on the dev machine: pair F1 0.992, ARI 0.991, real (ECB+)
    precision 0.946, recall 0.732, F1 0.825, 3 same-event pairs merged. The
    floors are the issue's goals where they are goals (overall F1 and ARI
    0.97, real precision 0.90) and, for real F1, 0.78: a margin of about one
    copy group below the measurement (half a holds 71 real gold pairs), and
    above the README's containment baseline (0.751), so a method that falls
    back to one similarity threshold fails here.
    """
    metrics = eval_dedup.evaluate_dedup(str(REPRINTS), runner=BATCH_RUNNER, split="a")
    assert REQUIRED_KEYS <= metrics.keys()
    assert metrics["articles"] == len(eval_dedup.select_split(labelled, "a"))
    assert metrics["dead_letters"] == 0
    assert metrics["pair_f1"] >= 0.97 and metrics["ari"] >= 0.97, metrics
    assert metrics["real_pair_precision"] >= 0.90, metrics
    assert metrics["real_pair_f1"] >= 0.78, metrics
    assert metrics["same_event_merged"] <= 10, metrics


def test_main_prints_one_json_line_with_the_figures_and_baselines(tmp_path, capsys):
    sample = tmp_path / "slice.jsonl.gz"
    with gzip.open(REPRINTS, "rt", encoding="utf-8") as source, gzip.open(sample, "wt", encoding="utf-8") as target:
        target.writelines(itertools.islice(source, 120))
    assert eval_dedup.main(["--data", str(sample)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    figures = json.loads(lines[0])
    assert REQUIRED_KEYS <= figures.keys() and figures["articles"] == 120
    assert "containment>=0.5" in figures["baselines"]["readme (exact all pairs, all articles)"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.jsonl", None, "No such file"),
        ("empty.jsonl", "\n", "holds no records"),
        ("ecb.jsonl", json.dumps({"doc_id": "1_1ecb", "topic_id": 1, "event_id": "t1_ecb", "text": "x"}) + "\n",
         "the first record lacks article_id, copy_group"),
    ],
)
def test_a_file_not_in_the_reprints_format_is_refused_in_one_line(tmp_path, name, content, message):
    if content is not None:
        (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        eval_dedup.main(["--data", str(tmp_path / name)])
    assert str(stopped.value).startswith("newsbeam eval dedup: ") and message in str(stopped.value)
