"""Measure DedupSyndicated on labelled copy groups (the `reprints/` format).

    newsbeam eval dedup --data ../shared/data/reprints/reprints.dev.jsonl.gz
    newsbeam eval dedup --data FILE --baselines        # + the one-similarity matchers
    newsbeam eval dedup --data FILE --split a           # one half only (see below)
    newsbeam eval dedup --data FILE --select            # hold-out threshold choice
    newsbeam eval dedup --data FILE --config my.yaml    # its `dedup:` section

Each input line is one article (`article_id`, `outlet`, `url`, `title`,
`text`, `published`) with its gold `copy_group`, `event_id` and `origin`. The
articles go through the real `DedupSyndicated` transform in a Beam pipeline
(the batch runner named explicitly, as in `newsbeam run`); its rows are
compared with the gold. The dedup stage runs alone, on the texts as given:
CleanArticles is measured by its own evaluation.

Printed: one JSON line. Pair figures count same-group pairs: precision =
pairs predicted together that are gold copies / pairs predicted together;
recall = gold pairs predicted together / gold pairs; F1 their harmonic mean.
`ari` is the adjusted Rand index of the predicted groups (Hubert & Arabie,
from the contingency table). `real_*` are the same four over the real ECB+
articles alone (`origin == "ecbplus"`, groups restricted to them).
`same_event_merged` counts pairs of articles of one gold event but different
gold copy groups that were predicted together (the hard negatives that got
merged). `dead_letters` counts articles that left as dead letters (they count
as singletons in the figures).

Hold-out (`--split`, `--select`): the data is cut in two halves by a hash of
each article's gold event (or, without one, its gold copy group), so a copy
group and the same-event articles that are not its copies always fall in the
same half. `--select` chooses the thresholds on one half with the pure
functions of `transforms/dedup_matching.py` (the same profiles, keys and
evidence the transform uses; feasibility: real precision >= 0.90 and overall
F1 >= 0.97; among feasible settings, the best real F1 averaged over the
neighbouring grid settings, which prefers stable ground to a lucky point),
then runs the real transform with those thresholds on the other half, both
ways round.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import hashlib
import itertools
import json
import pathlib
import time
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Indel

from pipeline.eval_runs import print_figures, run_stages
from pipeline.jsonl_files import first_record, text_lines
from pipeline.runners import BATCH_LOCAL_RUNNER
from transforms import dedup_matching as matching
from transforms.dedup import DedupConfig, DedupSyndicated
from transforms.schema import UTC, Article

BATCH_RUNNER = BATCH_LOCAL_RUNNER

# The README of reprints/ (exact all-pairs 5-shingle similarity, edge at 0.5,
# connected components): not measured here, quoted for comparison.
README_BASELINES = {
    "jaccard>=0.5": {
        "pair_precision": 1.000, "pair_recall": 0.894, "pair_f1": 0.944, "ari": 0.944,
        "real_pair_precision": 1.000, "real_pair_recall": 0.158, "real_pair_f1": 0.273, "real_ari": 0.273,
    },
    "containment>=0.5": {
        "pair_precision": 0.997, "pair_recall": 0.968, "pair_f1": 0.982, "ari": 0.982,
        "real_pair_precision": 0.948, "real_pair_recall": 0.621, "real_pair_f1": 0.751, "real_ari": 0.751,
    },
}
REAL_ORIGIN = "ecbplus"
SPLITS = ("all", "a", "b")


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class LabelledArticle:
    article: Article
    copy_group: str
    event_id: Optional[str]
    origin: str


def _parse_time(value: Optional[str]) -> Optional[dt.datetime]:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def load_labelled(data_path: str, ingested_at: Optional[dt.datetime] = None) -> list[LabelledArticle]:
    """Every line of a reprints-format file (.jsonl or .jsonl.gz) as an Article with its gold."""
    path = pathlib.Path(data_path)
    ingested_at = ingested_at or dt.datetime.now(UTC)
    labelled = []
    for number, line in enumerate(text_lines(path), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        article = Article(
            article_id=record["article_id"],
            url=record.get("url"),
            outlet=record.get("outlet"),
            title=record.get("title"),
            text=record.get("text") or "",
            published_at=_parse_time(record.get("published")),
            language="en",
            source_kind="jsonl",
            source_ref=f"{path.name}:{number}",
            ingested_at=ingested_at,
            date_source="record" if record.get("published") else "unknown",
        )
        labelled.append(
            LabelledArticle(article, record["copy_group"], record.get("event_id"), record.get("origin", ""))
        )
    return labelled


def split_of(item: LabelledArticle) -> str:
    """'a' or 'b': the half an article belongs to (by its gold event, else its copy group)."""
    unit = item.event_id or item.copy_group
    return "ab"[int(hashlib.sha256(unit.encode("utf-8")).hexdigest(), 16) % 2]


def select_split(labelled: Sequence[LabelledArticle], split: str) -> list[LabelledArticle]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    return list(labelled) if split == "all" else [item for item in labelled if split_of(item) == split]


# ---------------------------------------------------------------- metrics


def _pairs(count: int) -> int:
    return count * (count - 1) // 2


def clustering_scores(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    """Pair precision/recall/F1 and adjusted Rand index of a predicted clustering."""
    n = len(gold)
    together = sum(_pairs(c) for c in collections.Counter(zip(gold, predicted)).values())
    gold_pairs = sum(_pairs(c) for c in collections.Counter(gold).values())
    predicted_pairs = sum(_pairs(c) for c in collections.Counter(predicted).values())
    precision = together / predicted_pairs if predicted_pairs else 1.0
    recall = together / gold_pairs if gold_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    all_pairs = _pairs(n)
    expected = gold_pairs * predicted_pairs / all_pairs if all_pairs else 0.0
    maximum = (gold_pairs + predicted_pairs) / 2
    ari = (together - expected) / (maximum - expected) if maximum != expected else 1.0
    return {"precision": precision, "recall": recall, "f1": f1, "ari": ari}


def score(labelled: Sequence[LabelledArticle], predicted_group: dict[str, str]) -> dict:
    """The metrics dict for predicted groups (article_id -> group id; missing = singleton)."""
    def group_of(item: LabelledArticle) -> str:
        return predicted_group.get(item.article.article_id) or "singleton:" + item.article.article_id

    overall = clustering_scores([i.copy_group for i in labelled], [group_of(i) for i in labelled])
    real = [i for i in labelled if i.origin == REAL_ORIGIN]
    real_scores = clustering_scores([i.copy_group for i in real], [group_of(i) for i in real])
    merged = 0
    by_event = collections.defaultdict(list)
    for item in labelled:
        if item.event_id:
            by_event[item.event_id].append(item)
    for members in by_event.values():
        for first, second in itertools.combinations(members, 2):
            if first.copy_group != second.copy_group and group_of(first) == group_of(second):
                merged += 1
    metrics = {f"pair_{k}" if k != "ari" else k: round(v, 4) for k, v in overall.items()}
    metrics |= {f"real_pair_{k}" if k != "ari" else "real_ari": round(v, 4) for k, v in real_scores.items()}
    metrics["same_event_merged"] = merged
    metrics["articles"] = len(labelled)
    metrics["real_articles"] = len(real)
    metrics["gold_pairs"] = sum(_pairs(c) for c in collections.Counter(i.copy_group for i in labelled).values())
    metrics["predicted_pairs"] = sum(
        _pairs(c) for c in collections.Counter(group_of(i) for i in labelled).values()
    )
    return metrics


# ---------------------------------------------------------------- the real transform


def _group_row(article: Article) -> list[str]:
    return [article.article_id, article.dup_group_id]


def run_transform(
    articles: Sequence[Article], config: DedupConfig, runner: str = BATCH_RUNNER
) -> tuple[dict[str, str], int]:
    """Run DedupSyndicated over the articles: (article_id -> dup_group_id, dead letters)."""
    rows, dead, _ = run_stages(articles, [("DedupSyndicated", DedupSyndicated(config))], _group_row, runner)
    return dict(rows), dead


def evaluate_dedup(
    data_path: str,
    config: DedupConfig | None = None,
    runner: str = BATCH_RUNNER,
    split: str = "all",
) -> dict:
    """Run the real DedupSyndicated over a labelled file and score it against the gold."""
    config = config or DedupConfig()
    labelled = select_split(load_labelled(data_path), split)
    started = time.monotonic()
    groups, dead = run_transform([item.article for item in labelled], config, runner)
    seconds = time.monotonic() - started
    metrics = score(labelled, groups)
    metrics |= {
        "seconds": round(seconds, 2),
        "dead_letters": dead,
        "method": config.method,
        "split": split,
        "data": str(data_path),
    }
    return metrics


# ---------------------------------------------------------------- threshold selection


@dataclass(frozen=True)
class PairEvidence:
    """What the thresholds act on, for one candidate pair (shorter text first)."""

    first: str
    second: str
    containment: float
    best_similarity: np.ndarray  # per narrative sentence of the shorter text
    weights: np.ndarray


def candidate_evidence(articles: Sequence[Article], config: DedupConfig) -> list[PairEvidence]:
    """Candidate pairs and their evidence, by the transform's own pure functions."""
    hasher = matching.MinHasher(config.num_perm, config.seed)
    profiles: dict[str, matching.MatchProfile] = {}
    buckets: dict[str, list[str]] = collections.defaultdict(list)
    for article in articles:
        analysis = matching.analyse_text(article.text)
        profile = matching.build_profile(article.article_id, analysis, config.shingle_size)
        if profile is None:
            continue
        profiles[article.article_id] = profile
        keys = matching.band_keys(hasher.signature(profile.shingles), config.bands, config.rows)
        if config.sentence_keys:
            keys += matching.sentence_band_keys(
                analysis, hasher, config.sentence_key_rows, config.sentence_key_min_words,
                config.sentence_key_shingle_size,
            )
        for key in keys:
            buckets[key].append(article.article_id)
    pairs = {
        pair
        for key, members in buckets.items()
        for pair in matching.bucket_pairs(key, members, config.max_bucket_size)
    }
    evidence = []
    for first_id, second_id in sorted(pairs):
        shorter, longer = matching.shorter_first(profiles[first_id], profiles[second_id])
        containment, _ = matching.shingle_overlap(shorter, longer)
        best = process.cdist(
            [shorter.sentences[i].split(" ") for i in shorter.narrative_sentences],
            [s.split(" ") for s in longer.sentences],
            scorer=Indel.normalized_similarity,
            dtype=np.float32,
            workers=1,
        ).max(axis=1)
        weights = np.asarray(shorter.narrative_weights, dtype=np.float64)
        evidence.append(PairEvidence(first_id, second_id, containment, best, weights))
    return evidence


SELECTION_GRID = {
    "min_containment": (0.25, 0.3, 0.35, 0.4, 0.45, 0.5),
    "min_narrative_coverage": (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55),
    "sentence_similarity": ((0.5, 0.9),),
}


def _groups_from_edges(edges: Iterable[tuple[str, str]]) -> dict[str, str]:
    union = matching.UnionFind()
    for first, second in edges:
        union.union(first, second)
    return {member: min(members) for members in union.groups() for member in members}


def grid_scores(labelled: Sequence[LabelledArticle], evidence: Sequence[PairEvidence]) -> dict[tuple, dict]:
    """Metrics of the narrative_alignment rule for every setting of SELECTION_GRID."""
    present = {item.article.article_id for item in labelled}
    evidence = [e for e in evidence if e.first in present and e.second in present]
    results = {}
    for floor, full in SELECTION_GRID["sentence_similarity"]:
        coverage = [
            float((np.clip((e.best_similarity - floor) / (full - floor), 0, 1) * e.weights).sum() / e.weights.sum())
            if e.weights.size
            else 0.0
            for e in evidence
        ]
        for containment in SELECTION_GRID["min_containment"]:
            for min_coverage in SELECTION_GRID["min_narrative_coverage"]:
                edges = [
                    (e.first, e.second)
                    for e, c in zip(evidence, coverage)
                    if e.containment >= containment and c >= min_coverage
                ]
                results[(floor, full, containment, min_coverage)] = score(labelled, _groups_from_edges(edges))
    return results


def choose_thresholds(results: dict[tuple, dict]) -> tuple:
    """Feasible (real precision >= 0.90, overall F1 >= 0.97) and best neighbourhood-averaged real F1."""
    containments = SELECTION_GRID["min_containment"]
    coverages = SELECTION_GRID["min_narrative_coverage"]

    def neighbourhood_f1(setting: tuple) -> float:
        floor, full, containment, coverage = setting
        i, j = containments.index(containment), coverages.index(coverage)
        values = [
            results[(floor, full, containments[a], coverages[b])]["real_pair_f1"]
            for a in range(max(0, i - 1), min(len(containments), i + 2))
            for b in range(max(0, j - 1), min(len(coverages), j + 2))
        ]
        return sum(values) / len(values)

    def rank(setting: tuple) -> tuple:
        metrics = results[setting]
        feasible = metrics["real_pair_precision"] >= 0.90 and metrics["pair_f1"] >= 0.97
        return feasible, neighbourhood_f1(setting), metrics["real_pair_f1"]

    return max(results, key=rank)


def select_and_hold_out(data_path: str, runner: str = BATCH_RUNNER, base: DedupConfig | None = None) -> dict:
    """Choose thresholds on each half, report the real transform on the other half."""
    base = base or DedupConfig()
    labelled = load_labelled(data_path)
    evidence = candidate_evidence([item.article for item in labelled], base)
    grid = {name: [list(v) if isinstance(v, tuple) else v for v in values] for name, values in SELECTION_GRID.items()}
    report = {"data": str(data_path), "grid": grid}
    for chosen_on, held_out in (("a", "b"), ("b", "a")):
        results = grid_scores(select_split(labelled, chosen_on), evidence)
        floor, full, containment, coverage = choose_thresholds(results)
        config = base.model_copy(
            update={
                "sentence_similarity_floor": floor,
                "sentence_similarity_full": full,
                "min_containment": containment,
                "min_narrative_coverage": coverage,
            }
        )
        report[f"chosen_on_{chosen_on}"] = {
            "thresholds": {
                "sentence_similarity_floor": floor,
                "sentence_similarity_full": full,
                "min_containment": containment,
                "min_narrative_coverage": coverage,
            },
            "selection_half": {
                k: v for k, v in results[(floor, full, containment, coverage)].items() if k in _HEADLINE
            },
            "held_out_half": {
                k: v for k, v in evaluate_dedup(data_path, config, runner, split=held_out).items() if k in _HEADLINE
            },
        }
    for split in ("a", "b"):
        report[f"defaults_on_{split}"] = {
            k: v for k, v in evaluate_dedup(data_path, base, runner, split=split).items() if k in _HEADLINE
        }
    return report


_HEADLINE = (
    "pair_precision", "pair_recall", "pair_f1", "ari",
    "real_pair_precision", "real_pair_recall", "real_pair_f1", "real_ari",
    "same_event_merged", "articles", "seconds",
)


# ---------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbeam eval dedup",
        description="Run DedupSyndicated over labelled copy groups and print one JSON line of figures.",
    )
    parser.add_argument("--data", required=True, help="labelled file in the reprints format (.jsonl or .jsonl.gz)")
    parser.add_argument("--config", help="YAML configuration; its `dedup:` section is used")
    parser.add_argument("--split", choices=SPLITS, default="all", help="evaluate one half only (default: all)")
    parser.add_argument("--runner", default=BATCH_RUNNER, help=f"Beam runner (default {BATCH_RUNNER})")
    parser.add_argument(
        "--baselines", action="store_true",
        help="also run the transform with the one-similarity matchers (jaccard, containment at 0.5)",
    )
    parser.add_argument(
        "--select", action="store_true",
        help="choose thresholds on one half, report the other (both ways); prints that report instead",
    )
    return parser


_REQUIRED_FIELDS = ("article_id", "copy_group", "text")


def check_input(data_path: str) -> None:
    """A clear error for a missing file or one not in the reprints format, before any pipeline starts."""
    record = first_record(data_path)
    missing = [name for name in _REQUIRED_FIELDS if name not in record]
    if missing:
        raise ValueError(
            f"{data_path}: not in the reprints format (fields {', '.join(_REQUIRED_FIELDS)}); "
            f"the first record lacks {', '.join(missing)}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        check_input(args.data)
    except (OSError, ValueError) as error:
        raise SystemExit(f"newsbeam eval dedup: {error}") from None
    config = None
    if args.config:
        from pipeline.config import load_config

        config = load_config(args.config).dedup
    if args.select:
        print(json.dumps(select_and_hold_out(args.data, args.runner, config)))
        return 0
    metrics = evaluate_dedup(args.data, config, args.runner, split=args.split)
    baselines: dict = {"readme (exact all pairs, all articles)": README_BASELINES}
    if args.baselines:
        base = config or DedupConfig()
        for method, field in (("jaccard", "min_jaccard"), ("containment", "min_containment")):
            measured = evaluate_dedup(
                args.data, base.model_copy(update={"method": method, field: 0.5}), args.runner, split=args.split
            )
            baselines[f"{method}>=0.5 (this transform)"] = {k: measured[k] for k in _HEADLINE if k in measured}
    metrics["baselines"] = baselines
    print_figures(metrics)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
