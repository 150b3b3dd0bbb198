"""Extraction quality of newsbeam's article-page path on HTML pages with gold text.

Each page goes through exactly what ReadFeeds does with a fetched page:
`decode_page` (no HTTP charset, as for a server that sends none), then
`extract_page` (trafilatura with metadata) in the time-limited helper process,
then the `min_page_words` rule (fewer words: no article, an empty prediction).

Metric: the Zyte article-extraction benchmark's own (its evaluate.py, re-
implemented here): tokens are `\\w+` runs; each text is a multiset of 4-token
shingles; a page's TP/FP/FN are shingle-count overlaps normalised to sum to 1;
precision is averaged over pages with TP+FP > 0 (a page with no prediction
counts for recall only), recall over pages with TP+FN > 0; F1 = 2PR/(P+R) of
the averages; accuracy = share of pages whose token sequence equals the gold.

Layouts accepted (one folder holding `ground_truth*.jsonl[.gz]` and the pages):
- article_extraction/: `article_body` is the body only; compared with the text;
- web_extraction_utomo/: `gold_text` starts with the headline line; compared
  with the extracted title, a blank line, then the text. Groups (big9 by
  crawl year, chaos) are scored separately too, under "groups".

Published reference: trafilatura 2.0.0, F1 0.957 (P 0.938, R 0.977, accuracy
0.268) on the 127 pages of article_extraction/ (data README, section 3).

Command lines:
    newsbeam eval extract --data ../shared/data/article_extraction
    python -m pipeline.eval_extract --data ../shared/data/web_extraction_utomo
prints one JSON line: precision, recall, f1, accuracy, pages, seconds, ...
"""

from __future__ import annotations

import argparse
import gzip
import json
import pathlib
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Optional, Sequence

from pipeline.jsonl_files import text_lines

_TOKEN = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)
SHINGLE_SIZE = 4


@dataclass(frozen=True)
class GoldPage:
    page_id: str
    url: Optional[str]
    html_path: pathlib.Path
    gold: str
    gold_has_title: bool
    group: Optional[str]


# ---------------------------------------------------------------- metric


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def _shingles(text: str, size: int = SHINGLE_SIZE) -> Counter:
    tokens = tokenize(text)
    return Counter(tuple(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1)) if tokens[i : i + size])


def shingle_tp_fp_fn(gold: str, predicted: str) -> tuple[float, float, float]:
    """A page's shingle-count TP/FP/FN, normalised to sum to 1 (0s when both are empty)."""
    gold_shingles, predicted_shingles = _shingles(gold), _shingles(predicted)
    tp = fp = fn = 0.0
    for key in set(gold_shingles) | set(predicted_shingles):
        gold_count, predicted_count = gold_shingles.get(key, 0), predicted_shingles.get(key, 0)
        tp += min(gold_count, predicted_count)
        fp += max(0, predicted_count - gold_count)
        fn += max(0, gold_count - predicted_count)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total > 0 else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


def score(pairs: Sequence[tuple[str, str]]) -> dict:
    """precision, recall, f1, accuracy over (gold, predicted) pairs, as the benchmark computes them."""
    counts = [shingle_tp_fp_fn(gold, predicted) for gold, predicted in pairs]
    precisions = [_precision(*c) for c in counts if c[0] + c[1] > 0]
    recalls = [_recall(*c) for c in counts if c[0] + c[2] > 0]
    precision = statistics.mean(precisions) if precisions else 0.0
    recall = statistics.mean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    accuracy = statistics.mean(float(tokenize(g) == tokenize(p)) for g, p in pairs) if pairs else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "accuracy": round(accuracy, 4)}


# ---------------------------------------------------------------- data


def _ground_truth_file(data_dir: pathlib.Path) -> pathlib.Path:
    candidates = sorted(data_dir.glob("ground_truth*.jsonl.gz")) + sorted(data_dir.glob("ground_truth*.jsonl"))
    if not candidates:
        raise FileNotFoundError(f"{data_dir} has no ground_truth*.jsonl[.gz] file")
    return candidates[0]


def load_gold_pages(data_dir: str | pathlib.Path) -> list[GoldPage]:
    data_dir = pathlib.Path(data_dir)
    path = _ground_truth_file(data_dir)
    pages = []
    for line in text_lines(path):
        if not line.strip():
            continue
        row = json.loads(line)
        if "article_body" in row:
            gold, has_title, group = row["article_body"], False, None
        elif "gold_text" in row:
            gold, has_title = row["gold_text"], True
            group = f"big9-{row.get('year')}" if row.get("subset") == "big9" else row.get("subset")
        else:
            raise ValueError(f"{path}: a row has neither article_body nor gold_text")
        pages.append(
            GoldPage(
                page_id=str(row["id"]),
                url=row.get("url"),
                html_path=data_dir / row["html_file"],
                gold=gold,
                gold_has_title=has_title,
                group=group,
            )
        )
    return pages


def _page_bytes(path: pathlib.Path) -> bytes:
    with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as handle:
        return handle.read()


# ---------------------------------------------------------------- evaluation


def evaluate_extraction(
    data_dir: str | pathlib.Path,
    *,
    timeout_s: Optional[float] = None,
    limit: Optional[int] = None,
) -> dict:
    """Score newsbeam's page extraction on a gold folder (see the module docstring)."""
    from transforms.feed_items import decode_page, word_count
    from transforms.read_feeds import ExtractionFailed, ExtractionTimeout, FeedsConfig, TimeLimitedExtractor

    defaults = FeedsConfig()
    pages = load_gold_pages(data_dir)[:limit]
    extractor = TimeLimitedExtractor(timeout_s or defaults.extraction_timeout_s)
    pairs, groups = [], {}
    no_article = failures = 0
    started = time.perf_counter()
    try:
        for page in pages:
            try:
                extracted = extractor.extract(decode_page(_page_bytes(page.html_path)), page.url)
            except (ExtractionTimeout, ExtractionFailed):
                extracted, failures = None, failures + 1
            if extracted is None or word_count(extracted.text) < defaults.min_page_words:
                predicted, no_article = "", no_article + 1
            elif page.gold_has_title:
                predicted = f"{extracted.title or ''}\n\n{extracted.text}"
            else:
                predicted = extracted.text
            pairs.append((page.gold, predicted))
            if page.group:
                groups.setdefault(page.group, []).append((page.gold, predicted))
    finally:
        extractor.close()
    seconds = time.perf_counter() - started
    result = {**score(pairs), "pages": len(pages), "seconds": round(seconds, 2)}
    result["no_article"] = no_article
    result["failed"] = failures
    if groups:
        result["groups"] = {name: {**score(group_pairs), "pages": len(group_pairs)} for name, group_pairs in sorted(groups.items())}
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="newsbeam eval extract", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="folder with ground_truth*.jsonl[.gz] and the HTML pages")
    parser.add_argument("--timeout", type=float, default=None, help="time limit per page in seconds (default: the feeds config's)")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N pages")
    args = parser.parse_args(argv)
    try:
        result = evaluate_extraction(args.data, timeout_s=args.timeout, limit=args.limit)
    except (FileNotFoundError, ValueError) as error:
        print(f"newsbeam eval extract: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
