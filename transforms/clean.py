"""CleanArticles: normalised text, no embed debris or boilerplate, a title, a language.

One labelled ParDo wraps `transforms.text_cleaning.clean_article` (where every
rule and threshold is documented). Each input article leaves either cleaned,
on the main output, or as a dead letter of step `clean`:

- `empty_after_clean`: no word left once debris and boilerplate are removed;
- `too_short`: fewer than `min_words` words left;
- `clean_error`: an unexpected exception on that record (its type and message
  in `detail`); the other records carry on.

The dead letter's `raw` is the article's original text. The language model is
loaded once per worker in `DoFn.setup()`. Beam counters in the `newsbeam`
namespace: `clean.articles`, `clean.removed_lines`, `clean.titles_derived`,
`clean.language.<detected|record|unknown>`, and one per dead-letter reason.

The stage runs inside the whole pipeline; its section of the YAML config is
`clean:` (fields of `CleanConfig`):
    newsbeam run --input 'dumps/*.jsonl' --output out/ --config FILE.yaml
    newsbeam run --input 'gs://bucket/dumps/*.jsonl' --output gs://bucket/out \\
        --config FILE.yaml --runner DataflowRunner --project PROJECT \\
        --region REGION --temp_location gs://bucket/tmp
Its tests:
    .venv/bin/pytest tests/test_text_cleaning.py tests/test_clean_transform.py
"""

from __future__ import annotations

from typing import Iterator, Optional, Union

import apache_beam as beam
from apache_beam.metrics import Metrics
from pydantic import BaseModel, ConfigDict, Field

from transforms import text_cleaning
from transforms.dead_letters import DEAD_LETTER_TAG, METRICS_NAMESPACE, dead_letter_output
from transforms.schema import Article, DeadLetter

STEP = "clean"


class CleanConfig(BaseModel):
    """Settings of the CleanArticles stage (YAML section `clean`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_words: int = Field(
        5,
        ge=1,
        description="Articles with fewer words than this after cleaning become dead letters "
        "(reason too_short; none at all: empty_after_clean).",
    )
    remove_social_debris: bool = Field(
        True,
        description="Remove embedded social posts (text ending '— Name (@handle) Month D, YYYY'), "
        "'#WATCH |' header lines and pic.twitter.com / t.co links.",
    )
    remove_boilerplate: bool = Field(
        True,
        description="Remove whole lines such as 'Also Read: …', 'Follow us on …', 'Click here …', "
        "newsletter sign-ups, syndicated-feed disclaimers, copyright notices, comment-thread labels, "
        "paywall and app promos, and table borders with no word in them.",
    )
    strip_markdown: bool = Field(
        True,
        description="Remove Markdown emphasis marks (*x*, **x**, ***x***) from text and title, "
        "keeping the words; bullets, arithmetic and footnote asterisks stay.",
    )
    title_max_chars: int = Field(
        120,
        ge=20,
        description="Longest title derived from the lead when a record has none; longer lead "
        "sentences are cut at a word boundary and end with '…'.",
    )
    language_min_chars: int = Field(
        40,
        ge=0,
        description="Letters the cleaned text needs before the language model's answer is used; "
        "shorter texts keep the record's own language (or none).",
    )
    language_min_confidence: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Lowest py3langid probability accepted; below it the record's own language "
        "is kept (or none).",
    )
    tweet_max_chars: int = Field(
        280,
        ge=1,
        description="Most characters of post text an embedded post may span when its earlier "
        "paragraphs are removed with its credit line (the post length limit).",
    )
    agency_window_chars: int = Field(
        300,
        ge=50,
        description="Characters at the start and at the end of the text searched for a wire "
        "agency's dateline or credit (widened to whole lines, by at most 250).",
    )


class _CleanArticleFn(beam.DoFn):
    def __init__(self, config: CleanConfig):
        self._config = config
        self._cleaned = Metrics.counter(METRICS_NAMESPACE, f"{STEP}.articles")
        self._removed_lines = Metrics.counter(METRICS_NAMESPACE, f"{STEP}.removed_lines")
        self._titles_derived = Metrics.counter(METRICS_NAMESPACE, f"{STEP}.titles_derived")

    def setup(self) -> None:
        text_cleaning.language_identifier()

    def process(self, article: Article) -> Iterator[Union[Article, beam.pvalue.TaggedOutput]]:
        try:
            outcome = text_cleaning.clean_article(article, self._config)
        except Exception as error:  # one bad record must not stop the stage
            yield dead_letter_output(
                STEP,
                "clean_error",
                f"{type(error).__name__}: {error}",
                article.source_ref,
                article.text,
            )
            return
        if isinstance(outcome, text_cleaning.Rejection):
            yield dead_letter_output(
                STEP, outcome.reason, outcome.detail, article.source_ref, article.text
            )
            return
        self._cleaned.inc()
        self._removed_lines.inc(len(outcome.removed_lines))
        if outcome.title_derived:
            self._titles_derived.inc()
        Metrics.counter(METRICS_NAMESPACE, f"{STEP}.language.{outcome.language_source}").inc()
        yield outcome.article


class CleanArticles(beam.PTransform):
    """PCollection[Article] -> (cleaned articles, dead letters of step `clean`)."""

    def __init__(self, config: Optional[CleanConfig] = None, label: Optional[str] = None):
        super().__init__(label)
        self._config = config or CleanConfig()

    def expand(self, articles):
        clean_each = (
            beam.ParDo(_CleanArticleFn(self._config))
            .with_input_types(Article)
            .with_output_types(Article, **{DEAD_LETTER_TAG: DeadLetter})
            .with_outputs(DEAD_LETTER_TAG, main="articles")
        )
        outputs = articles | "CleanEachArticle" >> clean_each
        return outputs.articles, outputs[DEAD_LETTER_TAG]
