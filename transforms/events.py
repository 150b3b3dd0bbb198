"""AssignEvents: give every article the event_id of the real-world happening it covers.

The rule (features, scoring, thresholds, expiry, copies) is the pure
single-pass online clustering of `transforms/event_clustering.py`; this module
runs it in Beam, the same way in batch and in streaming, so both give the same
event ids on the same input:

    Featurize (per article, parallel) -> key by StateKey -> one clusterer per key,
    articles fed in order: published_at, non-copies before copies, article_id;
    undated articles after every dated article of their key.

**State key** (`state_key`): the article's language (`und` when unknown) and,
when `time_bucket_days` > 0, the time bucket of its publication day (for a
syndicated copy, of its canonical copy's: `published_at - lag_seconds`, so a
copy meets its original). Undated articles then go to a key
`<language>/undated` of their own. Each key is one independent online pass,
so keys scale out across workers; the cost in quality: nothing is shared
between keys, so an event never spans two languages, and with buckets an
event that runs across a bucket boundary is split in two (one id per bucket)
and undated articles never join a dated event. The default (`0`, one key per
language) gives up parallelism inside a language for quality; one key
processes several thousand articles a second (bench/bench_events.py), which
is more than a newsroom-scale stream of one language carries.

**Batch** (bounded input, the default): `GroupByStateKey` collects a key's
articles, `AssignInOrder` sorts them and applies the rule.

**Streaming** (`streaming: true`, or unbounded input, or `--streaming`):
`AssignWithState`, a stateful DoFn in the global window. Each article waits in
a bag until the watermark passes its `published_at` (an event-time timer at
`published_at` + 1 microsecond, so every article of the same instant has
arrived); then all waiting articles up to that time are sorted as in batch
and fed to the key's clusterer, kept in state between firings. Undated
articles wait until the watermark passes `UNDATED_FLUSH` (a day before the end
of the global window): at the end of a bounded input, or on a drain. So on the same input both paths apply the same rule to the same
sequence and give identical ids. What streaming cannot do like batch: an
article that arrives after the watermark passed its `published_at` (late
data) is clustered when it arrives, after articles published later than it,
so its id may differ from a batch re-run; an unbounded stream emits undated
articles only when drained (give articles a date upstream).

State per key is bounded by expiry: events quiet for `quiet_period_hours`
(events of headlines alone) or `full_text_quiet_period_hours` (events with a
full article) in event time are closed and dropped.

Dead letters (step `events`): `features_failed` (an unexpected error while
computing an article's features) and `assign_failed` (while assigning it); the
detail names the exception. Beam counters (namespace `newsbeam`):
`events.articles`, `events.founded` (articles that founded an event),
`events.copies_joined`.

The stage's YAML section is `events:` (fields of `EventsConfig`):
    newsbeam run --input 'dumps/*.jsonl' --output out/ --config FILE.yaml
    newsbeam run --input 'gs://bucket/dumps/*.jsonl' --output gs://bucket/out \\
        --config FILE.yaml --runner DataflowRunner --project PROJECT \\
        --region REGION --temp_location gs://bucket/tmp
Quality on labelled data:
    newsbeam eval events --data ../shared/data/ecbplus_events/ecbplus_events.dev.jsonl.gz
Tests:
    .venv/bin/pytest tests/test_event_clustering.py tests/test_events_transform.py tests/test_eval_events.py
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms import window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
    BagStateSpec,
    ReadModifyWriteStateSpec,
    TimerSpec,
    on_timer,
)
from apache_beam.utils.timestamp import Timestamp
from pydantic import BaseModel, ConfigDict, Field, model_validator

from transforms import event_clustering as clustering
from transforms.dead_letters import DEAD_LETTER_TAG, METRICS_NAMESPACE, article_raw, dead_letter_output
from transforms.schema import Article, DeadLetter
from transforms.streaming import runs_streaming

STEP = "events"
UNKNOWN_LANGUAGE = "und"
UNDATED_BUCKET = "undated"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
# When a streaming key processes its undated articles: after every real publication time, and a
# day before the end of the global window, so that a pipeline's final watermark (or a test's)
# can pass it before windows downstream close.
# (Whole milliseconds, the watermark resolution of portable runners.)
UNDATED_FLUSH = Timestamp(micros=window.GlobalWindow().max_timestamp().micros // 1000 * 1000 - 86400 * 1_000_000)


DEFAULT_FULL_TEXT_QUIET_HOURS = clustering.ClusteringParams().full_text_quiet_period_hours


class EventsConfig(BaseModel):
    """Settings of the AssignEvents stage (YAML section `events`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    similarity_threshold: float = Field(
        0.2,
        ge=0.0,
        description="Score an article needs with its best live event to join it; below, it founds a "
        "new event (score = term cosine + name_weight x name cosine - main-name penalty - year penalty "
        "+ same-year bonus).",
    )
    short_text_terms: int = Field(
        8,
        ge=0,
        description="An article with at most this many distinct content words (headline-sized) joins at "
        "short_text_threshold instead (0: none by length). A headline-only article (a title whose text "
        "adds no word to it) always does.",
    )
    short_text_threshold: float = Field(
        0.025,
        ge=0.0,
        description="similarity_threshold for headlines (headline-only or headline-sized articles): two "
        "headlines of one story share few words, so their cosine is low.",
    )
    name_weight: float = Field(
        0.25, ge=0.0, description="Weight of the cosine over names (capitalised words and entity norms)."
    )
    year_weight: float = Field(
        0.2,
        ge=0.0,
        description="Penalty at 5 or more years between the article's year (latest in its first four "
        "lines, else in its text) and the event's most common one (linear below).",
    )
    same_year_bonus: float = Field(
        0.1,
        ge=0.0,
        description="Bonus when the article's year (see year_weight) equals the event's most common one.",
    )
    main_name_weight: float = Field(
        0.2,
        ge=0.0,
        description="Penalty times the share of the article's main names (capitalised at least twice, "
        "top 3) that the event has never seen.",
    )
    idf_exponent: float = Field(
        1.0, gt=0.0, description="Exponent of the static inverse word frequency (7 - zipf) in term weights."
    )
    max_zipf: float = Field(
        6.0,
        gt=0.0,
        description="Words at least this frequent (wordfreq zipf; 6 = once per thousand words) are "
        "ignored: function words in any covered language.",
    )
    quiet_period_hours: float = Field(
        12.0,
        gt=0.0,
        description="An event of headlines alone with no new dated article for this long (event time) is "
        "closed: nothing joins it any more and its state is dropped. A headline joins only events "
        "active within this period.",
    )
    full_text_quiet_period_hours: Optional[float] = Field(
        None,
        gt=0.0,
        description="The same for an event with at least one full article (more than a headline): full "
        f"articles still join it this long after its last article. null: {DEFAULT_FULL_TEXT_QUIET_HOURS:g}, or "
        "quiet_period_hours when that is longer. At least quiet_period_hours.",
    )
    max_event_terms: int = Field(
        400, ge=10, description="Terms an event's vectors keep (pruned to this past twice as many)."
    )
    copy_memory_hours: float = Field(
        168.0,
        ge=0.0,
        description="How long after an event closes a late syndicated copy of one of its articles "
        "still gets its event_id (keep it at least dedup.retention_days).",
    )
    time_bucket_days: int = Field(
        0,
        ge=0,
        description="0: one clustering state per language. N > 0: one per language and N-day bucket "
        "of publication (more parallelism; events are split at bucket boundaries).",
    )
    streaming: Optional[bool] = Field(
        None,
        description="Use the keyed-state streaming path; null: when the input is unbounded or the "
        "pipeline runs with --streaming.",
    )

    @model_validator(mode="after")
    def _params_hold_together(self) -> "EventsConfig":
        # The rule's own checks (ClusteringParams), raised at load time with the section named.
        self.params()
        return self

    def params(self) -> clustering.ClusteringParams:
        return clustering.ClusteringParams(
            similarity_threshold=self.similarity_threshold,
            short_text_terms=self.short_text_terms,
            short_text_threshold=self.short_text_threshold,
            name_weight=self.name_weight,
            year_weight=self.year_weight,
            same_year_bonus=self.same_year_bonus,
            main_name_weight=self.main_name_weight,
            idf_exponent=self.idf_exponent,
            max_zipf=self.max_zipf,
            quiet_period_hours=self.quiet_period_hours,
            full_text_quiet_period_hours=(
                self.full_text_quiet_period_hours
                if self.full_text_quiet_period_hours is not None
                else max(DEFAULT_FULL_TEXT_QUIET_HOURS, self.quiet_period_hours)
            ),
            max_event_terms=self.max_event_terms,
            copy_memory_hours=self.copy_memory_hours,
        )


@dataclass(frozen=True, slots=True)
class PendingArticle:
    """An article with its features, waiting for its turn in its key's order."""

    order: tuple
    article: Article
    features: clustering.ArticleFeatures


def state_key(article: Article, time_bucket_days: int) -> str:
    """The clustering state an article belongs to (see the module docstring)."""
    language = (article.language or UNKNOWN_LANGUAGE).lower()
    if time_bucket_days == 0:
        return language
    if article.published_at is None:
        return f"{language}/{UNDATED_BUCKET}"
    reference = article.published_at
    if clustering.is_copy(article) and article.lag_seconds:
        reference -= dt.timedelta(seconds=article.lag_seconds)
    bucket = (reference - _EPOCH).days // time_bucket_days
    return f"{language}/{bucket}"


def _counter(name: str):
    return Metrics.counter(METRICS_NAMESPACE, f"{STEP}.{name}")


class _FeaturizeFn(beam.DoFn):
    """Article -> (state key, PendingArticle), or a dead letter on an unexpected error."""

    def __init__(self, config: EventsConfig):
        self._config = config
        self._params = config.params()

    def process(self, article: Article) -> Iterator:
        try:
            features = clustering.features_of(article, self._params)
            keyed = (
                state_key(article, self._config.time_bucket_days),
                PendingArticle(clustering.order_key(article), article, features),
            )
        except Exception as error:  # one bad record must not stop the stage
            yield dead_letter_output(
                STEP, "features_failed", f"{type(error).__name__}: {error}", article.source_ref, article_raw(article)
            )
            return
        yield keyed


class _Assigner:
    """Feeds pending articles to one key's clusterer and turns each into a row or a dead letter."""

    def __init__(self):
        self.articles = _counter("articles")
        self.founded = _counter("founded")
        self.copies_joined = _counter("copies_joined")

    def run(self, clusterer: clustering.OnlineEventClusterer, pending: Iterable[PendingArticle]) -> Iterator:
        for item in sorted(pending, key=lambda p: p.order):
            article = item.article
            try:
                event_id = clusterer.assign(article, item.features)
            except Exception as error:  # one bad record must not stop the key
                yield dead_letter_output(
                    STEP, "assign_failed", f"{type(error).__name__}: {error}", article.source_ref, article_raw(article)
                )
                continue
            self.articles.inc()
            if event_id == clustering.event_id_for(article.article_id):
                self.founded.inc()
            elif clustering.is_copy(article):
                self.copies_joined.inc()
            yield article.replace(event_id=event_id)


EVENT_STATE_NAME = "events"
STATE_TAG = "state"


class _AssignInOrderFn(beam.DoFn):
    """(key, all its PendingArticles) -> the articles with event_id, in processing order.

    With `carried_state` (state key -> OnlineEventClusterer, from an earlier
    round of a local streaming run) a key continues from its carried clusterer,
    so its live events go on taking articles; the clusterer after the key's
    articles leaves on the `state` output as `("events", key, clusterer)`.
    """

    def __init__(self, config: EventsConfig, carried_state: Optional[dict] = None):
        self._params = config.params()
        self._carried_state = carried_state
        self._assigner: Optional[_Assigner] = None

    def setup(self) -> None:
        self._assigner = _Assigner()

    def process(self, group) -> Iterator:
        key, pending = group
        clusterer = (self._carried_state or {}).get(key)
        if clusterer is None:
            clusterer = clustering.OnlineEventClusterer(self._params)
        else:
            clusterer.params = self._params  # the settings of this run, even if the config changed
        yield from self._assigner.run(clusterer, pending)
        if self._carried_state is not None:
            yield beam.pvalue.TaggedOutput(STATE_TAG, (EVENT_STATE_NAME, key, clusterer))


def flush_time(article: Article) -> Timestamp:
    """When a streaming key may process the article: just after the watermark passes its publication."""
    if article.published_at is None:
        return UNDATED_FLUSH
    return Timestamp(micros=clustering.order_key(article)[1] + 1)


class _AssignWithStateFn(beam.DoFn):
    """Streaming: the same rule, keyed state holding the clusterer between event-time flushes."""

    PENDING = BagStateSpec("pending", PickleCoder())
    CLUSTERER = ReadModifyWriteStateSpec("clusterer", PickleCoder())
    NEXT_FLUSH = ReadModifyWriteStateSpec("next_flush", PickleCoder())
    FLUSH = TimerSpec("flush", TimeDomain.WATERMARK)

    def __init__(self, config: EventsConfig):
        self._params = config.params()
        self._assigner: Optional[_Assigner] = None

    def setup(self) -> None:
        self._assigner = _Assigner()

    def process(
        self,
        element,
        pending=beam.DoFn.StateParam(PENDING),
        next_flush=beam.DoFn.StateParam(NEXT_FLUSH),
        timer=beam.DoFn.TimerParam(FLUSH),
    ) -> Iterator:
        _, item = element
        pending.add(item)
        due = flush_time(item.article)
        scheduled = next_flush.read()
        if scheduled is None or due < scheduled:
            timer.set(due)
            next_flush.write(due)
        return iter(())

    @on_timer(FLUSH)
    def flush(
        self,
        fired=beam.DoFn.TimestampParam,
        pending=beam.DoFn.StateParam(PENDING),
        clusterer_state=beam.DoFn.StateParam(CLUSTERER),
        next_flush=beam.DoFn.StateParam(NEXT_FLUSH),
        timer=beam.DoFn.TimerParam(FLUSH),
    ) -> Iterator:
        waiting = list(pending.read())
        ready = [item for item in waiting if flush_time(item.article) <= fired]
        later = [item for item in waiting if flush_time(item.article) > fired]
        pending.clear()
        for item in later:
            pending.add(item)
        if later:
            due = min(flush_time(item.article) for item in later)
            timer.set(due)
            next_flush.write(due)
        else:
            next_flush.clear()
        if not ready:
            return
        clusterer = clusterer_state.read() or clustering.OnlineEventClusterer(self._params)
        yield from self._assigner.run(clusterer, ready)
        clusterer_state.write(clusterer)


class AssignEvents(beam.PTransform):
    """PCollection[Article] -> (every article with its event_id, dead letters of step `events`).

    `carried_state` (batch only: the rounds of a local streaming run,
    `pipeline/rounds.py`): each state key's clusterer as the previous round
    left it; the transform then also returns each used key's clusterer after
    this round, `("events", key, clusterer)`, as a third PCollection.
    """

    def __init__(
        self, config: Optional[EventsConfig] = None, label: Optional[str] = None, carried_state: Optional[dict] = None
    ):
        super().__init__(label)
        self._config = config or EventsConfig()
        self._carried_state = carried_state

    def expand(self, articles):
        featurized = (
            articles
            | "GlobalWindow" >> beam.WindowInto(window.GlobalWindows())
            | "Featurize"
            >> beam.ParDo(_FeaturizeFn(self._config))
            .with_input_types(Article)
            .with_outputs(DEAD_LETTER_TAG, main="keyed")
        )
        streaming = runs_streaming(articles, self._config.streaming)
        if streaming and self._carried_state is not None:
            raise ValueError("AssignEvents: carried_state is for bounded rounds; a streaming run keeps keyed state")
        if streaming:
            assigned = featurized.keyed | "AssignWithState" >> beam.ParDo(
                _AssignWithStateFn(self._config)
            ).with_outputs(DEAD_LETTER_TAG, main="articles")
        else:
            assigned = (
                featurized.keyed
                | "GroupByStateKey" >> beam.GroupByKey()
                | "AssignInOrder"
                >> beam.ParDo(_AssignInOrderFn(self._config, self._carried_state)).with_outputs(
                    DEAD_LETTER_TAG, STATE_TAG, main="articles"
                )
            )
        dead_letters = (featurized[DEAD_LETTER_TAG], assigned[DEAD_LETTER_TAG]) | "EventsDeadLetters" >> (
            beam.Flatten().with_output_types(DeadLetter)
        )
        if self._carried_state is not None:
            return assigned.articles, dead_letters, assigned[STATE_TAG]
        return assigned.articles, dead_letters
