"""DropRepeatedArticles: an article read twice leaves once; each repeat is a dead letter.

An `article_id` is a hash of where an article is (its URL, or dump name and
position) and its text (`transforms/schema.make_article_id`). Two input records
with one id are the same article read twice: two dumps that overlap, a feed
item that also came in a JSONL export, a file copied into a watched folder
again. Left in, such a pair would be two rows with one id, and the stages that
join by id (dedup groups, event members) would depend on which of the two they
met first, so the output would change with the runner's ordering. Syndicated
copies are different articles (other URL or other text, so other ids): this
stage leaves them to DedupSyndicated.

Which record stays:

* batch: the earliest published (undated ones after dated), then the smaller
  `source_ref`, then the earlier `ingested_at`. Deterministic whatever the
  order the runner delivers them in.
* streaming (the input is unbounded or the pipeline runs with `--streaming`):
  the first to arrive, through state keyed by `article_id`; a repeat within
  `retention_days` (event time) of the last sighting is refused, state older
  than that is cleared by a watermark timer, so state holds the ids of one
  retention period.
* `known_ids` (the rounds of a local streaming run, `pipeline/rounds.py`):
  ids already published by earlier rounds; a record with one of them is a
  repeat.

Every repeat leaves as a dead letter of step `repeats`, reason
`duplicate_article`, naming the record that stayed, so rows in = rows out +
dead letters still holds. Counter: `newsbeam.dead_letters.repeats.duplicate_article`.
"""

from __future__ import annotations

from typing import Iterable, Iterator, Optional

import apache_beam as beam
from apache_beam.coders import StrUtf8Coder, VarIntCoder
from apache_beam.transforms import window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.utils.timestamp import Timestamp

from transforms.dead_letters import DEAD_LETTER_TAG, article_raw, dead_letter_output
from transforms.schema import REPEATED_ARTICLE_REASON, Article, DeadLetter, kept_first
from transforms.streaming import runs_streaming

STEP = "repeats"
REASON = REPEATED_ARTICLE_REASON
_SECONDS_PER_DAY = 86400


def _repeat(article: Article, kept_ref: str, why: str) -> beam.pvalue.TaggedOutput:
    return dead_letter_output(
        STEP,
        REASON,
        f"article_id {article.article_id} (same URL or dump position and same text) {why} {kept_ref}",
        article.source_ref or "",
        article_raw(article),
    )


class _KeepFirstFn(beam.DoFn):
    """(article_id, records) -> the record that stays; the others are dead letters."""

    def __init__(self, known_ids: frozenset[str]):
        self._known_ids = known_ids

    def process(self, element) -> Iterator:
        article_id, records = element
        ordered = sorted(records, key=kept_first)
        if article_id in self._known_ids:
            for record in ordered:
                yield _repeat(record, "an earlier round", "was already published by")
            return
        first = ordered[0]
        yield first
        for record in ordered[1:]:
            yield _repeat(record, first.source_ref, "was already read from")


class _FirstSightingFn(beam.DoFn):
    """Keyed by article_id: pass the first record, refuse repeats within the retention."""

    FIRST_REF = ReadModifyWriteStateSpec("first_ref", StrUtf8Coder())
    LAST_SEEN = ReadModifyWriteStateSpec("last_seen_micros", VarIntCoder())
    EXPIRY = TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, retention_s: float):
        self._retention_micros = int(retention_s * 1_000_000)

    def process(
        self,
        element,
        timestamp=beam.DoFn.TimestampParam,
        first_ref=beam.DoFn.StateParam(FIRST_REF),
        last_seen=beam.DoFn.StateParam(LAST_SEEN),
        expiry=beam.DoFn.TimerParam(EXPIRY),
    ) -> Iterator:
        _, article = element
        kept = first_ref.read()
        if kept is None:
            first_ref.write(article.source_ref or "")
            yield article
        else:
            yield _repeat(article, kept, "was already read from")
        now = timestamp.micros
        latest = max(now, last_seen.read() or now)
        last_seen.write(latest)
        expiry.set(Timestamp(micros=latest + self._retention_micros))

    @on_timer(EXPIRY)
    def expire(self, first_ref=beam.DoFn.StateParam(FIRST_REF), last_seen=beam.DoFn.StateParam(LAST_SEEN)):
        first_ref.clear()
        last_seen.clear()


class DropRepeatedArticles(beam.PTransform):
    """PCollection[Article] -> (articles with distinct ids, dead letters of step `repeats`)."""

    def __init__(
        self,
        retention_days: float,
        known_ids: Optional[Iterable[str]] = None,
        streaming: Optional[bool] = None,
        label: Optional[str] = None,
    ):
        super().__init__(label)
        self._retention_s = retention_days * _SECONDS_PER_DAY
        self._known_ids = frozenset(known_ids or ())
        self._streaming = streaming

    def expand(self, articles):
        keyed = articles | "ById" >> beam.Map(lambda article: (article.article_id, article))
        if runs_streaming(articles, self._streaming):
            if self._known_ids:
                raise ValueError("DropRepeatedArticles: known_ids are for bounded rounds; streaming keeps keyed state")
            keyed = keyed | "GlobalWindow" >> beam.WindowInto(window.GlobalWindows())
            label, decide = "FirstSighting", beam.ParDo(_FirstSightingFn(self._retention_s))
        else:
            keyed = keyed | "GroupById" >> beam.GroupByKey()
            label, decide = "KeepFirst", beam.ParDo(_KeepFirstFn(self._known_ids))
        decided = keyed | label >> decide.with_output_types(Article, **{DEAD_LETTER_TAG: DeadLetter}).with_outputs(
            DEAD_LETTER_TAG, main="articles"
        )
        return decided.articles, decided[DEAD_LETTER_TAG]
