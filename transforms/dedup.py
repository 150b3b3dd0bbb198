"""DedupSyndicated: mark syndicated copies (wire reprints) and their canonical copy.

Every input article leaves as a row with `dup_group_id`, `canonical_id`,
`is_canonical` and `lag_seconds` filled, or (only on an unexpected error) as a
dead letter of step `dedup`. The method, its thresholds and why they are what
they are: `transforms/dedup_matching.py`. Summary of the keep rule:

    normalise -> 5-shingles -> MinHash -> LSH band keys (+ sentence keys)
      -> candidate pairs (Beam grouping by key) -> precise verification
      -> copy groups -> canonical = earliest published_at, then smaller article_id

Batch (the default; bounded input):

1. `Sign`: match profile, signature and keys per article. An article without
   words cannot be signed: it stays its own singleton group (it has nothing to
   match on, which is not a failure), counted as `dedup.unsignable`.
2. `KeysToArticles` -> `GroupByKey` -> `PairsInBuckets` -> `DistinctPairs`:
   articles sharing a key become candidate pairs. No all-pairs loop: pairs are
   formed only inside a key's bucket. A band bucket larger than
   `max_bucket_size` links its members to its first `max_bucket_size` members
   (by article_id) instead of all pairs, so a wire story carried by thousands
   of outlets costs linear time; a sentence-key bucket that large is dropped as
   boilerplate (a sentence printed under that many stories is not evidence).
3. `JoinFirstProfile` / `JoinSecondProfile` (two CoGroupByKeys) bring both
   profiles to each candidate pair; `VerifyPairs` keeps the copies.
4. `CollectCopyEdges` -> `CopyGroups`: connected components of the verified
   pairs. The verified edges (copies only; a few per copy at most) are
   collected in one place and joined with a union-find, which is exact and
   linear in the number of edges; it bounds the stage by the memory of one
   worker for the edges, not for the articles (100k edges is a few MB).
5. `AttachGroups`: each article gets its group; an article in no edge is its
   own group. `dup_group_id` is "cg-" + the canonical article_id.

Streaming (`streaming: true`, or detected: the input is unbounded or the
pipeline runs with `--streaming`). The same signatures and verification, with
keyed state instead of grouping, in the global window (copies must meet across
any windows the input has):

1. `IndexByKey`, keyed by LSH band key (and sentence key): a stateful DoFn
   keeps the articles seen with that key (at most `max_bucket_size`; a
   sentence key probed more often is boilerplate and answers nothing) and
   answers each new article with the members stored before it. Retention:
   entries older than `retention_days` (event time of the elements) are
   dropped on access, and a watermark timer clears a key's state once
   `retention_days` passed since its last article, so state holds only keys
   seen within the retention.
2. `CollectCandidates`, keyed by the new article: waits for the answers of all
   of its keys, then asks for each distinct candidate to be verified.
3. `ProfileStore`, keyed by article_id: keeps each article's match profile for
   the retention (same timer rule), verifies the requests against it (a
   request that arrives before the profile waits for it).
4. `DecideGroup`, keyed by the new article: with all verdicts in, the article
   joins the group of its earliest-seen verified copy: `dup_group_id` =
   "cg-" + that copy's article_id, or "cg-" + its own article_id if it has
   none. Stored values never change, so a copy that arrives before an
   earlier-published one keeps its id. `canonical_id`, `is_canonical` and
   `lag_seconds` are as known on arrival. The view `wire_copies`
   (`wire_copies` in `pipeline/queries/views.sql`) resolves the final answer: it follows
   `dup_group_id` to the article it names (a group decision cannot flow back
   upstream in a Beam graph, so a copy that matched only a later member of a
   group names that member), then picks the canonical copy by earliest
   publication and computes lags, which reads the same as batch output.

Dead letters (step `dedup`): `sign_failed` (an unexpected error while
signing one article) and `assign_failed` (while writing its group fields); the
detail names the exception. A failed comparison of one candidate pair is not a
record failure: it counts as "not a copy", is logged, and is counted as
`dedup.verify_failed`. Other Beam counters (namespace `newsbeam`):
`dedup.articles`, `dedup.unsignable`, `dedup.candidate_pairs`,
`dedup.verified_copies`, `dedup.copies` (rows that are not canonical).

The stage's YAML section is `dedup:` (fields of `DedupConfig`):
    newsbeam run --input 'dumps/*.jsonl' --output out/ --config FILE.yaml
    newsbeam run --input 'gs://bucket/dumps/*.jsonl' --output gs://bucket/out \\
        --config FILE.yaml --runner DataflowRunner --project PROJECT \\
        --region REGION --temp_location gs://bucket/tmp
Quality on labelled data:
    newsbeam eval dedup --data ../shared/data/reprints/reprints.dev.jsonl.gz
Tests:
    .venv/bin/pytest tests/test_dedup_matching.py tests/test_dedup_transform.py tests/test_eval_dedup.py
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional, Tuple

import apache_beam as beam
from apache_beam.coders import PickleCoder, VarIntCoder
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
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from transforms import dedup_matching as matching
from transforms.dead_letters import DEAD_LETTER_TAG, METRICS_NAMESPACE, article_raw, dead_letter_output
from transforms.schema import Article, DeadLetter
from transforms.streaming import runs_streaming

STEP = "dedup"
_LOG = logging.getLogger(__name__)
_SECONDS_PER_DAY = 86400.0


class DedupConfig(BaseModel):
    """Settings of the DedupSyndicated stage (YAML section `dedup`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str = Field(
        "narrative_alignment",
        description="Registered matcher that verifies candidate pairs: narrative_alignment "
        "(shingle containment AND narrative-sentence coverage of the shorter text), "
        "containment or jaccard (one shingle similarity; baselines).",
    )
    shingle_size: int = Field(5, ge=1, le=12, description="Words per shingle for the signature and containment.")
    num_perm: int = Field(128, ge=8, le=1024, description="MinHash functions per signature.")
    bands: int = Field(64, ge=1, description="LSH bands over the signature (bands x rows <= num_perm).")
    rows: int = Field(2, ge=1, description="Signature values per LSH band.")
    sentence_keys: bool = Field(
        True,
        description="Also key articles by each long narrative sentence (finds short copies of long "
        "stories, whose whole-text Jaccard is low).",
    )
    sentence_key_min_words: int = Field(
        10, ge=3, description="Words outside quotes a sentence needs to get a sentence key."
    )
    sentence_key_rows: int = Field(3, ge=1, description="MinHash values in a sentence key.")
    sentence_key_shingle_size: int = Field(3, ge=1, description="Words per shingle inside a sentence key.")
    max_bucket_size: int = Field(
        20,
        ge=2,
        description="Members of one key that are paired with all others; a larger band bucket links "
        "to its first members only, a larger sentence bucket is boilerplate and dropped.",
    )
    min_containment: float = Field(
        0.35,
        ge=0.0,
        le=1.0,
        description="Shingle containment of the shorter text in the other that a copy needs "
        "(narrative_alignment and containment).",
    )
    min_narrative_coverage: float = Field(
        0.40,
        ge=0.0,
        le=1.0,
        description="Share of the shorter text's narrative (non-quote) words in sentences with a "
        "counterpart in the other text that a copy needs (narrative_alignment).",
    )
    sentence_similarity_floor: float = Field(
        0.5, ge=0.0, lt=1.0, description="Sentence similarity that earns no coverage credit."
    )
    sentence_similarity_full: float = Field(
        0.9, gt=0.0, le=1.0, description="Sentence similarity that earns full coverage credit."
    )
    min_jaccard: float = Field(0.5, ge=0.0, le=1.0, description="Shingle Jaccard a copy needs (jaccard).")
    seed: int = Field(20251031, description="Seed of the MinHash functions (keep it fixed across runs).")
    streaming: Optional[bool] = Field(
        None,
        description="Use the keyed-state streaming path; null: when the input is unbounded or the "
        "pipeline runs with --streaming.",
    )
    retention_days: float = Field(
        7.0, gt=0.0, description="Days (event time) a streaming run keeps an article's keys and profile."
    )

    @field_validator("method")
    @classmethod
    def _known_method(cls, method: str) -> str:
        matching.get_matcher(method)
        return method

    @model_validator(mode="after")
    def _consistent(self) -> "DedupConfig":
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        if self.sentence_key_rows > self.num_perm:
            raise ValueError("sentence_key_rows exceeds num_perm")
        if self.sentence_similarity_floor >= self.sentence_similarity_full:
            raise ValueError("sentence_similarity_floor must be below sentence_similarity_full")
        return self

    def thresholds(self) -> matching.MatchThresholds:
        return matching.MatchThresholds(
            min_containment=self.min_containment,
            min_narrative_coverage=self.min_narrative_coverage,
            sentence_similarity_floor=self.sentence_similarity_floor,
            sentence_similarity_full=self.sentence_similarity_full,
            min_jaccard=self.min_jaccard,
        )


# ---------------------------------------------------------------- records between steps


@dataclass(frozen=True, slots=True)
class SignedArticle:
    """An article with what matching needs; profile None means it could not be signed."""

    article: Article
    profile: Optional[matching.MatchProfile]
    keys: tuple[str, ...]
    instance_key: str  # unique per input element, also when an article_id repeats


@dataclass(frozen=True, slots=True)
class KnownGroup:
    """The copy group a reference article (published by an earlier round) already has."""

    dup_group_id: str
    canonical_id: str
    canonical_published_at: Optional[dt.datetime]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One side of a candidate pair: who, when published, and its profile."""

    article_id: str
    published_at: Optional[dt.datetime]
    profile: matching.MatchProfile
    known: Optional[KnownGroup] = None


@dataclass(frozen=True, slots=True)
class Member:
    article_id: str
    published_at: Optional[dt.datetime]
    known: Optional[KnownGroup] = None


@dataclass(frozen=True, slots=True)
class CopyEdge:
    """A verified copy relation between two articles."""

    first: Member
    second: Member


@dataclass(frozen=True, slots=True)
class GroupAssignment:
    dup_group_id: str
    canonical_id: str
    canonical_published_at: Optional[dt.datetime]


def _instance_key(article: Article) -> str:
    ingested = article.ingested_at.isoformat() if article.ingested_at else ""
    return f"{article.article_id}|{article.source_ref}|{ingested}"


def singleton_row(article: Article) -> Article:
    """An article that is no one's copy: its own group and canonical copy."""
    return article.replace(
        dup_group_id=matching.group_id_for(article.article_id),
        canonical_id=article.article_id,
        is_canonical=True,
        lag_seconds=0,
    )


def assigned_row(article: Article, assignment: GroupAssignment) -> Article:
    is_canonical = article.article_id == assignment.canonical_id
    return article.replace(
        dup_group_id=assignment.dup_group_id,
        canonical_id=assignment.canonical_id,
        is_canonical=is_canonical,
        lag_seconds=0
        if is_canonical
        else matching.lag_seconds(article.published_at, assignment.canonical_published_at),
    )


def _counter(name: str):
    return Metrics.counter(METRICS_NAMESPACE, f"{STEP}.{name}")


# ---------------------------------------------------------------- shared steps


class _SignFn(beam.DoFn):
    """Article -> SignedArticle (main), or a dead letter on an unexpected error."""

    def __init__(self, config: DedupConfig):
        self._config = config
        self._hasher: Optional[matching.MinHasher] = None
        self._articles = _counter("articles")
        self._unsignable = _counter("unsignable")

    def setup(self) -> None:
        self._hasher = matching.MinHasher(self._config.num_perm, self._config.seed)

    def process(self, article: Article) -> Iterator:
        config = self._config
        try:
            analysis = matching.analyse_text(article.text or "")
            profile = matching.build_profile(article.article_id, analysis, config.shingle_size)
            keys: tuple[str, ...] = ()
            if profile is not None:
                signature = self._hasher.signature(profile.shingles)
                band = matching.band_keys(signature, config.bands, config.rows)
                sentence = (
                    matching.sentence_band_keys(
                        analysis,
                        self._hasher,
                        config.sentence_key_rows,
                        config.sentence_key_min_words,
                        config.sentence_key_shingle_size,
                    )
                    if config.sentence_keys
                    else []
                )
                keys = tuple(band + sentence)
            else:
                self._unsignable.inc()
        except Exception as error:  # one bad record must not stop the stage
            yield dead_letter_output(
                STEP, "sign_failed", f"{type(error).__name__}: {error}", article.source_ref, article_raw(article)
            )
            return
        self._articles.inc()
        yield SignedArticle(article, profile, keys, _instance_key(article))


def _verify(config: DedupConfig, first: matching.MatchProfile, second: matching.MatchProfile) -> bool:
    """The configured matcher's verdict; an error counts as "not a copy" and is logged and counted."""
    try:
        return matching.get_matcher(config.method)(first, second, config.thresholds()).is_copy
    except Exception:  # a failed comparison must not stop the stage; both articles still flow
        _counter("verify_failed").inc()
        _LOG.exception("dedup: verifying %s against %s failed", first.article_id, second.article_id)
        return False


# ---------------------------------------------------------------- batch steps


def _pairs_in_bucket(bucket: tuple[str, Iterable[str]], max_bucket_size: int) -> Iterator[tuple[str, str]]:
    key, members = bucket
    yield from matching.bucket_pairs(key, members, max_bucket_size)


def _send_first_to_second(joined) -> Iterator[tuple[str, Candidate]]:
    _, grouped = joined
    profiles = list(grouped["profile"])
    if not profiles:
        return
    for second_id in grouped["pair"]:
        yield second_id, profiles[0]


class _VerifyPairsFn(beam.DoFn):
    """(second_id, {first: [Candidate], profile: [Candidate]}) -> CopyEdge for each verified copy."""

    def __init__(self, config: DedupConfig):
        self._config = config
        self._candidates = _counter("candidate_pairs")
        self._copies = _counter("verified_copies")

    def process(self, joined) -> Iterator[CopyEdge]:
        _, grouped = joined
        profiles = list(grouped["profile"])
        if not profiles:
            return
        second = profiles[0]
        for first in grouped["first"]:
            self._candidates.inc()
            if _verify(self._config, first.profile, second.profile):
                self._copies.inc()
                yield CopyEdge(
                    Member(first.article_id, first.published_at, first.known),
                    Member(second.article_id, second.published_at, second.known),
                )


def assign_groups(edges: Iterable[CopyEdge]) -> Iterator[tuple[str, GroupAssignment]]:
    """Connected components of the copy edges, each with its canonical copy.

    A component holding reference articles (published by earlier rounds) keeps
    the group id those already have (of the earliest one, if it joins two
    earlier groups), and its canonical copy may be a reference's canonical copy
    that is no longer among the references.
    """
    union = matching.UnionFind()
    published: dict[str, Optional[dt.datetime]] = {}
    known: dict[str, KnownGroup] = {}
    for edge in edges:
        for member in (edge.first, edge.second):
            published[member.article_id] = member.published_at
            if member.known is not None:
                known[member.article_id] = member.known
        union.union(edge.first.article_id, edge.second.article_id)
    for members in union.groups():
        options = [(published[a], a) for a in members]
        earlier = sorted(
            (known[a] for a in members if a in known),
            key=lambda k: matching.canonical_order_key(k.canonical_published_at, k.canonical_id),
        )
        options += [(k.canonical_published_at, k.canonical_id) for k in earlier]
        canonical_published, canonical = min(options, key=lambda o: matching.canonical_order_key(*o))
        group_id = earlier[0].dup_group_id if earlier else matching.group_id_for(canonical)
        assignment = GroupAssignment(group_id, canonical, canonical_published)
        for article_id in members:
            yield article_id, assignment


class _AttachGroupsFn(beam.DoFn):
    """(article_id, {article: [SignedArticle], group: [GroupAssignment]}) -> rows."""

    def __init__(self):
        self._copies = _counter("copies")

    def process(self, joined) -> Iterator:
        _, grouped = joined
        assignments = list(grouped["group"])
        for signed in grouped["article"]:
            article = signed.article
            try:
                if assignments:
                    row = assigned_row(article, assignments[0])
                    if not row.is_canonical:
                        self._copies.inc()
                else:
                    row = singleton_row(article)
            except Exception as error:  # one bad record must not stop the stage
                yield dead_letter_output(
                    STEP, "assign_failed", f"{type(error).__name__}: {error}", article.source_ref, article_raw(article)
                )
                continue
            yield row


# ---------------------------------------------------------------- streaming steps


@dataclass(frozen=True, slots=True)
class _Probe:
    """An article arriving at one of its keys."""

    instance_key: str
    article_id: str


@dataclass(frozen=True, slots=True)
class _Stored:
    article_id: str
    seen_at: float  # event time, seconds


@dataclass(frozen=True, slots=True)
class _KeyAnswer:
    """Who a key had seen before this article (within the retention)."""

    key: str
    candidate_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _ProfileEntry:
    candidate: Candidate
    seen_at: float


@dataclass(frozen=True, slots=True)
class _VerifyRequest:
    instance_key: str
    candidate: Candidate


@dataclass(frozen=True, slots=True)
class _Verdict:
    candidate_id: str
    is_copy: bool
    published_at: Optional[dt.datetime]
    seen_at: float


@dataclass(frozen=True, slots=True)
class _Expectation:
    verdicts: int
    signed: SignedArticle


def _seconds(timestamp: Timestamp) -> float:
    return timestamp.micros / 1e6


class _IndexByKeyFn(beam.DoFn):
    """State per LSH key: the articles seen with it within the retention."""

    MEMBERS = ReadModifyWriteStateSpec("members", PickleCoder())
    PROBES = ReadModifyWriteStateSpec("probes", VarIntCoder())
    LAST_SEEN = ReadModifyWriteStateSpec("last_seen", PickleCoder())
    EXPIRY = TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, max_bucket_size: int, retention_seconds: float):
        self._max_bucket_size = max_bucket_size
        self._retention = retention_seconds

    def process(
        self,
        element: tuple[str, _Probe],
        timestamp=beam.DoFn.TimestampParam,
        members=beam.DoFn.StateParam(MEMBERS),
        probes=beam.DoFn.StateParam(PROBES),
        last_seen=beam.DoFn.StateParam(LAST_SEEN),
        expiry=beam.DoFn.TimerParam(EXPIRY),
    ) -> Iterator[tuple[str, _KeyAnswer]]:
        key, probe = element
        now = _seconds(timestamp)
        stored = tuple(m for m in (members.read() or ()) if m.seen_at >= now - self._retention)
        probe_count = (probes.read() or 0) + 1
        if matching.is_sentence_key(key) and probe_count > self._max_bucket_size:
            answer = ()  # a sentence under this many stories is boilerplate (as in batch)
        else:
            answer = tuple(m.article_id for m in stored if m.article_id != probe.article_id)
        yield probe.instance_key, _KeyAnswer(key, answer)
        if len(stored) < self._max_bucket_size and all(m.article_id != probe.article_id for m in stored):
            stored += (_Stored(probe.article_id, now),)
        members.write(stored)
        probes.write(probe_count)
        previous = last_seen.read()
        latest = now if previous is None else max(previous, now)
        last_seen.write(latest)
        expiry.set(Timestamp(micros=int((latest + self._retention) * 1e6)))

    @on_timer(EXPIRY)
    def expire(
        self,
        members=beam.DoFn.StateParam(MEMBERS),
        probes=beam.DoFn.StateParam(PROBES),
        last_seen=beam.DoFn.StateParam(LAST_SEEN),
    ):
        # The timer stands at the last article's time + retention: all entries are older.
        members.clear()
        probes.clear()
        last_seen.clear()


class _CollectCandidatesFn(beam.DoFn):
    """Per new article: once every key answered, one verify request per distinct candidate."""

    REQUESTS_TAG = "requests"
    MESSAGES = BagStateSpec("messages", PickleCoder())
    ANSWERS = ReadModifyWriteStateSpec("answers", VarIntCoder())
    EXPECTED = ReadModifyWriteStateSpec("expected", VarIntCoder())

    def process(
        self,
        element,
        messages=beam.DoFn.StateParam(MESSAGES),
        answers=beam.DoFn.StateParam(ANSWERS),
        expected=beam.DoFn.StateParam(EXPECTED),
    ) -> Iterator:
        _, message = element
        messages.add(message)
        if isinstance(message, SignedArticle):
            expected.write(len(message.keys))
        else:
            answers.write((answers.read() or 0) + 1)
        wanted = expected.read()
        if wanted is None or (answers.read() or 0) < wanted:
            return
        received = list(messages.read())
        messages.clear()
        answers.clear()
        expected.clear()
        signed = next(m for m in received if isinstance(m, SignedArticle))
        candidate_ids = sorted({c for m in received if isinstance(m, _KeyAnswer) for c in m.candidate_ids})
        yield _Expectation(len(candidate_ids), signed)
        own = Candidate(signed.article.article_id, signed.article.published_at, signed.profile)
        for candidate_id in candidate_ids:
            yield beam.pvalue.TaggedOutput(
                self.REQUESTS_TAG, (candidate_id, _VerifyRequest(signed.instance_key, own))
            )


class _ProfileStoreFn(beam.DoFn):
    """State per article: its profile for the retention; verifies requests against it."""

    PROFILE = ReadModifyWriteStateSpec("profile", PickleCoder())
    PENDING = BagStateSpec("pending", PickleCoder())
    LAST_SEEN = ReadModifyWriteStateSpec("last_seen", PickleCoder())
    EXPIRY = TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, config: DedupConfig):
        self._config = config
        self._retention = config.retention_days * _SECONDS_PER_DAY
        self._candidates = _counter("candidate_pairs")
        self._copies = _counter("verified_copies")

    def _verdict(self, request: _VerifyRequest, entry: _ProfileEntry) -> tuple[str, _Verdict]:
        self._candidates.inc()
        is_copy = _verify(self._config, request.candidate.profile, entry.candidate.profile)
        if is_copy:
            self._copies.inc()
        stored = entry.candidate
        return request.instance_key, _Verdict(stored.article_id, is_copy, stored.published_at, entry.seen_at)

    def process(
        self,
        element,
        timestamp=beam.DoFn.TimestampParam,
        profile=beam.DoFn.StateParam(PROFILE),
        pending=beam.DoFn.StateParam(PENDING),
        last_seen=beam.DoFn.StateParam(LAST_SEEN),
        expiry=beam.DoFn.TimerParam(EXPIRY),
    ) -> Iterator[tuple[str, _Verdict]]:
        _, message = element
        now = _seconds(timestamp)
        if isinstance(message, Candidate):
            entry = profile.read()
            if entry is None:
                entry = _ProfileEntry(message, now)
                profile.write(entry)
            for request in pending.read():
                yield self._verdict(request, entry)
            pending.clear()
        else:
            entry = profile.read()
            if entry is not None:
                yield self._verdict(message, entry)
            else:
                pending.add(message)
        previous = last_seen.read()
        latest = now if previous is None else max(previous, now)
        last_seen.write(latest)
        expiry.set(Timestamp(micros=int((latest + self._retention) * 1e6)))

    @on_timer(EXPIRY)
    def expire(
        self,
        key=beam.DoFn.KeyParam,
        profile=beam.DoFn.StateParam(PROFILE),
        pending=beam.DoFn.StateParam(PENDING),
        last_seen=beam.DoFn.StateParam(LAST_SEEN),
    ):
        # Requests still waiting for a profile that never came within the retention.
        for request in pending.read():
            yield request.instance_key, _Verdict(key, False, None, 0.0)
        profile.clear()
        pending.clear()
        last_seen.clear()


class _DecideGroupFn(beam.DoFn):
    """Per new article: with every verdict in, join the earliest-seen verified copy's group."""

    EXPECTATION = ReadModifyWriteStateSpec("expectation", PickleCoder())
    VERDICTS = BagStateSpec("verdicts", PickleCoder())
    RECEIVED = ReadModifyWriteStateSpec("received", VarIntCoder())

    def __init__(self):
        self._copies = _counter("copies")

    def process(
        self,
        element,
        expectation=beam.DoFn.StateParam(EXPECTATION),
        verdicts=beam.DoFn.StateParam(VERDICTS),
        received=beam.DoFn.StateParam(RECEIVED),
    ) -> Iterator:
        _, message = element
        if isinstance(message, _Expectation):
            expectation.write(message)
        else:
            verdicts.add(message)
            received.write((received.read() or 0) + 1)
        expected = expectation.read()
        if expected is None or (received.read() or 0) < expected.verdicts:
            return
        copies = [v for v in verdicts.read() if v.is_copy]
        expectation.clear()
        verdicts.clear()
        received.clear()
        article = expected.signed.article
        try:
            row = self._decide(article, copies)
        except Exception as error:  # one bad record must not stop the stage
            yield dead_letter_output(
                STEP, "assign_failed", f"{type(error).__name__}: {error}", article.source_ref, article_raw(article)
            )
            return
        if not row.is_canonical:
            self._copies.inc()
        yield row

    @staticmethod
    def _decide(article: Article, copies: list[_Verdict]) -> Article:
        if not copies:
            return singleton_row(article)
        founder = min(copies, key=lambda v: (v.seen_at, v.candidate_id))
        known = [(article.published_at, article.article_id)] + [(v.published_at, v.candidate_id) for v in copies]
        canonical_published, canonical_id = min(known, key=lambda m: matching.canonical_order_key(*m))
        return assigned_row(
            article,
            GroupAssignment(matching.group_id_for(founder.candidate_id), canonical_id, canonical_published),
        )


# ---------------------------------------------------------------- the stage


def _keys_of(signed: SignedArticle) -> Iterator[tuple[str, str]]:
    for key in signed.keys:
        yield key, signed.article.article_id


def known_group(article: Article) -> Optional[KnownGroup]:
    """The group an already published article carries (None for a new article)."""
    if not article.dup_group_id or not article.canonical_id:
        return None
    if article.canonical_id == article.article_id:
        canonical_published = article.published_at
    elif article.published_at is not None and article.lag_seconds is not None:
        canonical_published = article.published_at - dt.timedelta(seconds=article.lag_seconds)
    else:
        canonical_published = None
    return KnownGroup(article.dup_group_id, article.canonical_id, canonical_published)


def _candidate_of(signed: SignedArticle) -> Iterator[tuple[str, Candidate]]:
    if signed.profile is not None:
        article = signed.article
        yield article.article_id, Candidate(
            article.article_id, article.published_at, signed.profile, known_group(article)
        )


class DedupSyndicated(beam.PTransform):
    """PCollection[Article] -> (every article with its copy group, dead letters of step `dedup`).

    `references` (batch only: the rounds of a local streaming run,
    `pipeline/rounds.py`): articles published by earlier rounds, with their
    copy groups. They are matched like the input, but only input articles
    leave the stage; an input article that copies a reference joins the
    reference's group (`dup_group_id` unchanged, canonical copy the earliest
    known). A reference that cannot be signed is skipped (it is not a record
    of this run), counted as `dedup.references_unsignable`.
    """

    def __init__(
        self,
        config: Optional[DedupConfig] = None,
        label: Optional[str] = None,
        references: Optional[list[Article]] = None,
    ):
        super().__init__(label)
        self._config = config or DedupConfig()
        self._references = references

    def expand(self, articles):
        signed = articles | "Sign" >> (
            beam.ParDo(_SignFn(self._config))
            .with_input_types(Article)
            .with_outputs(DEAD_LETTER_TAG, main="signed")
        )
        streaming = runs_streaming(articles, self._config.streaming)
        if streaming and self._references is not None:
            raise ValueError("DedupSyndicated: references are for bounded rounds; a streaming run keeps keyed state")
        if streaming:
            rows, late_dead = self._expand_streaming(signed.signed)
        else:
            references = None
            if self._references:
                references = (
                    articles.pipeline
                    | "References" >> beam.Create(self._references).with_output_types(Article)
                    | "SignReferences"
                    >> beam.ParDo(_SignFn(self._config)).with_outputs(DEAD_LETTER_TAG, main="signed")
                )
                _ = references[DEAD_LETTER_TAG] | "UnsignableReferences" >> beam.Map(
                    lambda _: _counter("references_unsignable").inc()
                )
                references = references.signed
            rows, late_dead = self._expand_batch(signed.signed, references)
        dead_letters = (signed[DEAD_LETTER_TAG], late_dead) | "DedupDeadLetters" >> beam.Flatten().with_output_types(
            DeadLetter
        )
        return rows, dead_letters

    def _expand_batch(self, signed, references=None):
        config = self._config
        matched = signed
        if references is not None:
            matched = (signed, references) | "InputAndReferences" >> beam.Flatten()
        profiles = matched | "ProfilesById" >> beam.FlatMap(_candidate_of)
        pairs = (
            matched
            | "KeysToArticles" >> beam.FlatMap(_keys_of)
            | "GroupByKey" >> beam.GroupByKey()
            | "PairsInBuckets" >> beam.FlatMap(_pairs_in_bucket, config.max_bucket_size)
            | "DistinctPairs" >> beam.Distinct()
        )
        firsts = (
            {"pair": pairs, "profile": profiles}
            | "JoinFirstProfile" >> beam.CoGroupByKey()
            | "SendFirstToSecond" >> beam.FlatMap(_send_first_to_second)
        )
        edges = (
            {"first": firsts, "profile": profiles}
            | "JoinSecondProfile" >> beam.CoGroupByKey()
            | "VerifyPairs" >> beam.ParDo(_VerifyPairsFn(config))
        )
        assignments = (
            edges
            | "CollectCopyEdges" >> beam.combiners.ToList()
            | "CopyGroups" >> beam.FlatMap(assign_groups)
        )
        attached = (
            {
                "article": signed | "ArticlesById" >> beam.Map(lambda s: (s.article.article_id, s)),
                "group": assignments,
            }
            | "JoinGroups" >> beam.CoGroupByKey()
            | "AttachGroups"
            >> beam.ParDo(_AttachGroupsFn())
            .with_output_types(Article, **{DEAD_LETTER_TAG: DeadLetter})
            .with_outputs(DEAD_LETTER_TAG, main="articles")
        )
        return attached.articles, attached[DEAD_LETTER_TAG]

    def _expand_streaming(self, signed):
        config = self._config
        retention = config.retention_days * _SECONDS_PER_DAY
        signed = signed | "GlobalWindow" >> beam.WindowInto(window.GlobalWindows())
        unsignable = (
            signed
            | "Unsignable" >> beam.Filter(lambda s: s.profile is None)
            | "UnsignableRows" >> beam.Map(lambda s: singleton_row(s.article)).with_output_types(Article)
        )
        signable = signed | "Signable" >> beam.Filter(lambda s: s.profile is not None)
        answers = (
            signable
            | "ProbeKeys"
            >> beam.FlatMap(
                lambda s: ((key, _Probe(s.instance_key, s.article.article_id)) for key in s.keys)
            ).with_output_types(Tuple[str, Any])
            | "IndexByKey"
            >> beam.ParDo(_IndexByKeyFn(config.max_bucket_size, retention)).with_input_types(Tuple[str, Any])
        )
        collected = (
            (signable | "ByInstance" >> beam.Map(lambda s: (s.instance_key, s)), answers)
            | "ArticleAndAnswers" >> beam.Flatten().with_output_types(Tuple[str, Any])
            | "CollectCandidates"
            >> beam.ParDo(_CollectCandidatesFn())
            .with_input_types(Tuple[str, Any])
            .with_outputs(_CollectCandidatesFn.REQUESTS_TAG, main="expected")
        )
        verdicts = (
            (signable | "CandidatesById" >> beam.FlatMap(_candidate_of), collected[_CollectCandidatesFn.REQUESTS_TAG])
            | "ProfilesAndRequests" >> beam.Flatten().with_output_types(Tuple[str, Any])
            | "ProfileStore" >> beam.ParDo(_ProfileStoreFn(config)).with_input_types(Tuple[str, Any])
        )
        decided = (
            (collected.expected | "ExpectationByInstance" >> beam.Map(lambda e: (e.signed.instance_key, e)), verdicts)
            | "ExpectationAndVerdicts" >> beam.Flatten().with_output_types(Tuple[str, Any])
            | "DecideGroup"
            >> beam.ParDo(_DecideGroupFn())
            .with_input_types(Tuple[str, Any])
            .with_output_types(Article, **{DEAD_LETTER_TAG: DeadLetter})
            .with_outputs(DEAD_LETTER_TAG, main="articles")
        )
        rows = (unsignable, decided.articles) | "AllRows" >> beam.Flatten().with_output_types(Article)
        return rows, decided[DEAD_LETTER_TAG]
