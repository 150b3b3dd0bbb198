"""Pure functions for finding syndicated copies: normalise, sign, band, verify.

No Beam here: `transforms/dedup.py` wraps these in DedupSyndicated.

Method (the keep rule of `DedupSyndicated`, step by step):

1. **Normalise for matching.** NFKC, case folded, words are `\\w+` runs (so
   punctuation and spacing vanish). A leading dateline ("KUALA LUMPUR, Oct 31
   (Reuters) -", "New Delhi:", "Kuala Lumpur |") and agency credits
   ("(IANS)", "— ANI", "(AP)", "(With inputs from agencies)", a "By NAME"
   byline line, Reuters' "Reporting by ...; Editing by ..." trailer) are
   removed. This feeds only the signature and the verification; the article's
   `text` is never changed. Agencies recognised: `AGENCY_NAMES`, the names
   of the cleaning stage's `WIRE_AGENCIES` (which fills `wire_agency`; the
   match ignores that field). The title is not matched: outlets rewrite
   headlines, and copies are judged on the body.

2. **Shingles and signature.** Word 5-grams hashed to 32 bits (BLAKE2b, so
   every worker and every run computes the same values; Python's `hash` is
   salted per process). MinHash with `num_perm` multiply-shift hash functions
   h(x) = ((a*x + b) mod 2^64) >> 32 (a odd; a 2-universal family for 32-bit
   keys), computed for all shingles at once with numpy.

3. **LSH band keys** (`band_keys`). The signature is cut into `bands` bands
   of `rows` values; articles sharing a band key become candidates. The
   default 64 x 2 makes a pair a candidate with probability 1-(1-J^2)^64:
   0.47 at Jaccard 0.1, 0.93 at 0.2, >0.99 at 0.3. Whole-text Jaccard is low
   for a short copy of a long story even when every word of the copy comes
   from the original (a 180-word copy of a 950-word story: J = 0.08), so each
   narrative sentence of at least `sentence_key_min_words` words outside
   quotes also gives a **sentence key** (`sentence_band_keys`: 3 MinHash
   values of its word 3-grams): two texts sharing one near-verbatim narrative
   sentence share a key whatever their lengths. On reprints.dev, bands and
   sentence keys make 3,668 candidate pairs, among them 2,092 of the 2,103
   pairs an exact all-pairs search finds at containment >= 0.35 and every one
   the verification accepts; bands alone miss 7 real ECB+ copy pairs (6
   points of real recall). A key
   shared by more than `max_bucket_size` articles is handled by
   `bucket_pairs`: a band bucket is linked through its first members (linear
   cost), a sentence bucket is boilerplate and dropped.

4. **Precise verification of a candidate pair** (matcher "narrative_alignment",
   the default; see `MATCHERS`). Two conditions, both on the shorter text
   (shorter by narrative words), which is what a trimmed copy keeps:

   - *shared wording*: containment of its 5-shingles in the other text,
     |A∩B| / min(|A|,|B|) >= `min_containment` (0.35). This is the README's
     containment baseline with a lower bar, because the second condition,
     not this one, now rejects same-event articles;
   - *shared narrative*: the share of its narrative words (words outside
     quotation marks, in sentences with at least `MIN_NARRATIVE_WORDS` of them)
     that lie in sentences with a counterpart in the other text,
     >= `min_narrative_coverage` (0.40). A sentence's counterpart is its most
     similar sentence of the other text by normalised word-level edit
     similarity (Indel: 2*LCS/(|a|+|b|)); the similarity earns credit linearly
     from `sentence_similarity_floor` (0.5, no credit) to
     `sentence_similarity_full` (0.9, full credit), so restyled and
     copy-edited sentences count in part and verbatim ones fully.

   Quotes are excluded because independent reports of one event quote the
   same statements (the five seed articles are exactly that case); what two
   independent reporters do not share is their own narrative sentences. This is
   the judgement rule of the labelled data put into numbers: "shared
   narrative sentences (not only quotes) making up about half or more of the
   shorter text". The credit ramp is fixed by what the similarity means, not
   fitted: a sentence's best match in an unrelated article scores 0.14 at the
   median and 0.29 at the 99th percentile (reprints.dev), so 0.5 is far from
   chance, and 0.9 allows about one changed word in ten. The two thresholds
   were chosen on one half of `reprints.dev` (halves by gold event, see
   `pipeline/eval_dedup.py --select`) and checked on the other: chosen on
   half b, held-out half a gives overall F1 0.992, real (ECB+) precision 0.946,
   recall 0.732, F1 0.825.

   Two plain matchers are registered too, for baselines and cheap runs:
   "containment" (shingle containment >= `min_containment`) and "jaccard"
   (shingle Jaccard >= `min_jaccard`).

5. **Groups and the canonical copy** (in dedup.py): connected components of
   the verified pairs; canonical = earliest `published_at` (unknown times sort
   last), ties broken by the smaller `article_id` (see `canonical_order_key`).

An article with no words cannot be signed: `build_profile` returns None and
the stage keeps it as its own singleton group.

    .venv/bin/pytest tests/test_dedup_matching.py
    newsbeam eval dedup --data ../shared/data/reprints/reprints.dev.jsonl.gz --select
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Optional, Sequence

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Indel

from transforms.text_cleaning import WIRE_AGENCIES

# Agencies whose credits are stripped before matching: the names the cleaning
# stage recognises when it fills `wire_agency` (one list, kept there).
AGENCY_NAMES: tuple[str, ...] = tuple(
    sorted({name for names in WIRE_AGENCIES.values() for name in names}, key=len, reverse=True)
)

# A sentence contributes to the narrative share only with at least this many
# words outside quotation marks: shorter pieces are headers, datelines,
# attributions ("he said.") or fragments.
MIN_NARRATIVE_WORDS = 5

_WORD = re.compile(r"\w+")
_AGENCY_ALT = "|".join(re.escape(name).replace(r"\ ", r"\s+") for name in AGENCY_NAMES)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
# "KUALA LUMPUR, Oct 31 (Reuters) -", "New Delhi, October 31 (IANS)", "NEW DELHI:",
# "Kuala Lumpur |", "Kuala Lumpur, Oct 31 " (a place followed by a date needs no
# separator). A place is one to four capitalised words; without a date or an
# agency it must be in capitals or followed by "|", so that a lead such as
# "Obama said: ..." is not taken for a dateline.
_PLACE = r"[A-Z][\w.'’-]*(?:,?[ ][A-Z][\w.'’-]*){0,3}"
_CAPS_PLACE = r"[A-Z][A-Z.'’-]+(?:,?[ ][A-Z][A-Z.'’-]*){0,3}"
_DATELINE = re.compile(
    rf"^\s*(?:"
    rf"{_PLACE},\s*{_MONTH}\s+\d{{1,2}}(?:,?\s+\d{{4}})?\s*(?:\((?:{_AGENCY_ALT})\))?\s*[-–—:|]?"
    rf"|{_PLACE}\s*\((?:{_AGENCY_ALT})\)\s*[-–—:|]?"
    rf"|{_CAPS_PLACE}\s*[-–—:|]"
    rf"|{_PLACE}\s+\|"
    rf")\s+"
)
_AGENCY_CREDIT = re.compile(
    rf"\((?:{_AGENCY_ALT})\)"  # "(IANS)"
    rf"|[-–—]+\s*(?:{_AGENCY_ALT})\b(?:\s*\(@\w+\))?"  # "— ANI", "— ANI (@ANI)"
    rf"|\(\s*with\s+inputs?\s+from[^)]*\)"  # "(With inputs from agencies)"
    r"|\bwith\s+inputs?\s+from\s+[\w ,&]+$",
    re.IGNORECASE | re.MULTILINE,
)
# Whole lines that are only a credit: a byline, an agency name, or Reuters'
# "Reporting by ...; Editing by ..." trailer.
_CREDIT_LINE = re.compile(
    rf"^\s*(?:by\s+[\w.'’ -]{{2,60}}"
    rf"|(?:{_AGENCY_ALT})"
    rf"|\(?(?:reporting|writing|editing|additional reporting)\s+by\b.*"
    rf")\s*$",
    re.IGNORECASE | re.MULTILINE,
)

# Sentence boundaries: after . ! ? (and a closing quote or bracket), before an
# opening quote, bracket, capital or digit; also every line break.
_SENTENCE_END = re.compile(r"[.!?][\"”’'»)\]]*\s+(?=[\"“‘'«(\[]*[A-Z0-9])")
# A period after these words does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof gen sen rep gov lt col capt sgt maj cmdr adm st jr sr inc co corp ltd "
    "no vs etc fig u.s u.k e.g i.e jan feb mar apr jun jul aug sep sept oct nov dec "
    "ala ariz calif colo conn fla ga ill ind kan ky la mass md mich minn miss mo nev okla "
    "ore pa tenn tex va wash wis".split()
)
# Quotation marks: these open, these close, these toggle (straight and TeX-style
# quotes, which the texts use both ways).
_QUOTE_OPEN = "“«„"
_QUOTE_CLOSE = "”»"
_QUOTE_MARK = re.compile(r"``|''|[\"“”«»„]")


# ---------------------------------------------------------------- normalising


def strip_credits(text: str) -> str:
    """The text without its leading dateline and agency credits (for matching only)."""
    text = unicodedata.normalize("NFKC", text)
    text = _CREDIT_LINE.sub(" ", text)
    text = _AGENCY_CREDIT.sub(" ", text)
    lead = text.lstrip()
    stripped = _DATELINE.sub("", lead, count=1)
    # A dateline is at most a line's head: never let it eat a whole first paragraph.
    if len(lead) - len(stripped) <= 80:
        text = stripped
    return text


def words_of(text: str) -> list[str]:
    """Case-folded `\\w+` words: the token stream everything here compares."""
    return _WORD.findall(text.casefold())


def normalise_for_matching(text: str) -> str:
    """Words of the text, datelines and credits removed, joined by single spaces."""
    return " ".join(words_of(strip_credits(text)))


# ---------------------------------------------------------------- sentences


def split_sentences(text: str) -> list[list[str]]:
    """Paragraphs (blank-line separated) of sentences; every line break ends a sentence."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        sentences: list[str] = []
        for line in block.split("\n"):
            sentences.extend(_split_line(line))
        if sentences:
            paragraphs.append(sentences)
    return paragraphs


def _split_line(line: str) -> list[str]:
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(line):
        words_before = line[start : match.start()].split()
        last_word = words_before[-1].casefold() if words_before else ""
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        pieces.append(line[start : match.end()].strip())
        start = match.end()
    pieces.append(line[start:].strip())
    return [p for p in pieces if p]


def narrative_parts(sentences: Sequence[str]) -> list[str]:
    """Each sentence's text outside quotation marks.

    Quote state carries from sentence to sentence within one line or paragraph
    (a quote may span sentences) and resets at its end, so one unbalanced mark
    cannot swallow the rest of an article.
    """
    parts, inside = [], False
    for sentence in sentences:
        kept, position = [], 0
        for mark in _QUOTE_MARK.finditer(sentence):
            if not inside:
                kept.append(sentence[position : mark.start()])
            token = mark.group()
            if token in _QUOTE_OPEN:
                inside = True
            elif token in _QUOTE_CLOSE:
                inside = False
            else:
                inside = not inside
            position = mark.end()
        if not inside:
            kept.append(sentence[position:])
        parts.append(" ".join(kept))
    return parts


# ---------------------------------------------------------------- analysis


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """An article's text taken apart once for signing and verification."""

    words: tuple[str, ...]  # all words, credits and dateline removed
    sentences: tuple[tuple[str, ...], ...]  # every sentence's words
    narrative: tuple[tuple[str, ...], ...]  # per sentence, its words outside quotes


def analyse_text(text: str) -> TextAnalysis:
    cleaned = strip_credits(text)
    sentences: list[tuple[str, ...]] = []
    narrative: list[tuple[str, ...]] = []
    for paragraph in split_sentences(cleaned):
        for sentence, outside in zip(paragraph, narrative_parts(paragraph)):
            tokens = tuple(words_of(sentence))
            if tokens:
                sentences.append(tokens)
                narrative.append(tuple(words_of(outside)))
    return TextAnalysis(
        words=tuple(word for sentence in sentences for word in sentence),
        sentences=tuple(sentences),
        narrative=tuple(narrative),
    )


# ---------------------------------------------------------------- signatures


def shingle_hashes(words: Sequence[str], size: int) -> np.ndarray:
    """Sorted unique 32-bit hashes of the word `size`-grams; a shorter text is one shingle."""
    if not words:
        return np.empty(0, dtype=np.uint32)
    count = max(1, len(words) - size + 1)
    digests = b"".join(
        hashlib.blake2b(" ".join(words[i : i + size]).encode("utf-8"), digest_size=4).digest()
        for i in range(count)
    )
    return np.unique(np.frombuffer(digests, dtype="<u4").astype(np.uint32))


class MinHasher:
    """MinHash signatures with `num_perm` multiply-shift hash functions from a fixed seed."""

    def __init__(self, num_perm: int, seed: int) -> None:
        rng = np.random.Generator(np.random.PCG64(seed))
        self.num_perm = num_perm
        self._a = rng.integers(0, 2**64, size=num_perm, dtype=np.uint64, endpoint=False) | np.uint64(1)
        self._b = rng.integers(0, 2**64, size=num_perm, dtype=np.uint64, endpoint=False)

    def signature(self, shingles: np.ndarray, num_perm: Optional[int] = None) -> np.ndarray:
        """The MinHash signature (uint32) of a non-empty shingle array, over the
        first `num_perm` functions (all of them by default)."""
        if shingles.size == 0:
            raise ValueError("cannot sign an empty shingle set")
        count = self.num_perm if num_perm is None else num_perm
        values = shingles.astype(np.uint64)[:, None]
        # uint64 arithmetic wraps modulo 2^64, which is what multiply-shift wants.
        hashed = (values * self._a[None, :count] + self._b[None, :count]) >> np.uint64(32)
        return hashed.min(axis=0).astype(np.uint32)


def band_keys(signature: np.ndarray, bands: int, rows: int) -> list[str]:
    """One key per band: the band's index and its `rows` signature values."""
    if bands * rows > signature.size:
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} values, signature has {signature.size}")
    return [
        f"b{band:03d}:{signature[band * rows : (band + 1) * rows].tobytes().hex()}"
        for band in range(bands)
    ]


def sentence_band_keys(
    analysis: TextAnalysis,
    hasher: MinHasher,
    rows: int,
    min_words: int,
    shingle_size: int,
) -> list[str]:
    """One key per long narrative sentence: `rows` MinHash values of its word shingles.

    Whole-text bands estimate Jaccard, which is low for a short copy of a long
    story (or a long story that grew around a short one) even when all of the
    shorter text is in the longer. Two texts that share one near-verbatim
    narrative sentence share that sentence's key, whatever their lengths.
    Quotes are left out, so shared quotations alone make no candidates.
    """
    keys = set()
    for narrative in analysis.narrative:
        if len(narrative) < min_words:
            continue
        signature = hasher.signature(shingle_hashes(narrative, shingle_size), num_perm=rows)
        keys.add(SENTENCE_KEY_PREFIX + signature.tobytes().hex())
    return sorted(keys)


SENTENCE_KEY_PREFIX = "s:"


def is_sentence_key(key: str) -> bool:
    return key.startswith(SENTENCE_KEY_PREFIX)


def bucket_pairs(key: str, members: Iterable[str], max_bucket_size: int) -> Iterator[tuple[str, str]]:
    """Candidate pairs (smaller id first) among the articles that share one key.

    Up to `max_bucket_size` members: every pair. A larger band bucket: its
    first `max_bucket_size` members (by id) pair with each other and with
    every other member, so a story carried by thousands of outlets costs
    linear, not quadratic, work and still ends in one connected group. A
    larger sentence bucket: no pairs (a sentence printed under that many
    stories is boilerplate, not evidence of copying).
    """
    ids = sorted(set(members))
    if len(ids) <= max_bucket_size:
        yield from itertools.combinations(ids, 2)
        return
    if is_sentence_key(key):
        return
    hubs = ids[:max_bucket_size]
    yield from itertools.combinations(hubs, 2)
    for other in ids[max_bucket_size:]:
        for hub in hubs:
            yield hub, other


def estimated_jaccard(first: np.ndarray, second: np.ndarray) -> float:
    """The share of equal MinHash values: an unbiased estimate of shingle Jaccard."""
    return float(np.count_nonzero(first == second)) / first.size


# ---------------------------------------------------------------- profiles


@dataclass(frozen=True, slots=True)
class MatchProfile:
    """What verification needs of one article (shipped with each candidate pair)."""

    article_id: str
    shingles: np.ndarray  # sorted unique uint32 hashes of the word shingles
    sentences: tuple[str, ...]  # every sentence, its words joined by spaces
    narrative_sentences: tuple[int, ...]  # indices into sentences
    narrative_weights: tuple[int, ...]  # each narrative sentence's words outside quotes

    @property
    def narrative_weight(self) -> int:
        """Narrative words in all: what "the shorter text" of a pair compares."""
        return sum(self.narrative_weights)


def build_profile(article_id: str, analysis: TextAnalysis, shingle_size: int) -> Optional[MatchProfile]:
    """The match profile of an article, or None when its text has no words to sign."""
    if not analysis.words:
        return None
    narrative_sentences = [
        index for index, narrative in enumerate(analysis.narrative) if len(narrative) >= MIN_NARRATIVE_WORDS
    ]
    narrative_weights = [len(analysis.narrative[index]) for index in narrative_sentences]
    if not narrative_sentences:
        # All quotes or all fragments (a headline-only item, a list): judge the
        # text by all of its sentences rather than not at all.
        narrative_sentences = list(range(len(analysis.sentences)))
        narrative_weights = [len(sentence) for sentence in analysis.sentences]
    return MatchProfile(
        article_id=article_id,
        shingles=shingle_hashes(analysis.words, shingle_size),
        sentences=tuple(" ".join(sentence) for sentence in analysis.sentences),
        narrative_sentences=tuple(narrative_sentences),
        narrative_weights=tuple(narrative_weights),
    )


# ---------------------------------------------------------------- verification


@dataclass(frozen=True, slots=True)
class MatchThresholds:
    """The numbers a matcher compares against (from DedupConfig)."""

    min_containment: float
    min_narrative_coverage: float
    sentence_similarity_floor: float
    sentence_similarity_full: float
    min_jaccard: float


@dataclass(frozen=True, slots=True)
class MatchDecision:
    """A matcher's verdict on one candidate pair, with the evidence it used."""

    is_copy: bool
    containment: float
    jaccard: float
    narrative_coverage: Optional[float]  # None when the matcher did not compute it
    reason: str  # stable code: "copy", "low_containment", "low_narrative_coverage", "low_jaccard"


def shingle_overlap(first: MatchProfile, second: MatchProfile) -> tuple[float, float]:
    """(containment of the smaller shingle set in the other, Jaccard) of two profiles."""
    shared = np.intersect1d(first.shingles, second.shingles, assume_unique=True).size
    smaller = min(first.shingles.size, second.shingles.size)
    union = first.shingles.size + second.shingles.size - shared
    return shared / smaller, shared / union


def narrative_coverage(
    shorter: MatchProfile,
    longer: MatchProfile,
    similarity_floor: float,
    similarity_full: float,
) -> float:
    """Share of the shorter text's narrative words whose sentence has a counterpart in the longer.

    Each narrative sentence of `shorter` is compared, whole, with every
    sentence of `longer` (word-level normalised Indel similarity); its best
    similarity earns credit 0 at `similarity_floor`, 1 at `similarity_full`,
    linear between; the result is that credit averaged over the narrative
    sentences, weighted by their words outside quotes (so a shared quote earns
    nothing by itself, and a sentence's own narrative counts by its length).
    """
    if not shorter.narrative_sentences or not longer.sentences:
        return 0.0
    scores = process.cdist(
        [shorter.sentences[i].split(" ") for i in shorter.narrative_sentences],
        [sentence.split(" ") for sentence in longer.sentences],
        scorer=Indel.normalized_similarity,
        dtype=np.float32,
        workers=1,
    )
    best = scores.max(axis=1)
    credit = np.clip((best - similarity_floor) / (similarity_full - similarity_floor), 0.0, 1.0)
    weights = np.asarray(shorter.narrative_weights, dtype=np.float64)
    return float((credit * weights).sum() / weights.sum())


def shorter_first(first: MatchProfile, second: MatchProfile) -> tuple[MatchProfile, MatchProfile]:
    """The pair ordered (shorter, longer) by narrative words, ties by article_id."""
    if (first.narrative_weight, first.article_id) <= (second.narrative_weight, second.article_id):
        return first, second
    return second, first


Matcher = Callable[[MatchProfile, MatchProfile, MatchThresholds], MatchDecision]
MATCHERS: dict[str, Matcher] = {}


def register_matcher(name: str) -> Callable[[Matcher], Matcher]:
    """Register a matcher under the name DedupConfig.method uses."""

    def add(function: Matcher) -> Matcher:
        if name in MATCHERS:
            raise ValueError(f"matcher {name!r} is already registered")
        MATCHERS[name] = function
        return function

    return add


def get_matcher(name: str) -> Matcher:
    try:
        return MATCHERS[name]
    except KeyError:
        raise ValueError(f"unknown dedup method {name!r}; known: {sorted(MATCHERS)}") from None


@register_matcher("narrative_alignment")
def match_narrative_alignment(
    first: MatchProfile, second: MatchProfile, thresholds: MatchThresholds
) -> MatchDecision:
    """Copy when the shorter text shares wording AND narrative sentences with the other."""
    containment, jaccard = shingle_overlap(first, second)
    if containment < thresholds.min_containment:
        return MatchDecision(False, containment, jaccard, None, "low_containment")
    shorter, longer = shorter_first(first, second)
    coverage = narrative_coverage(
        shorter, longer, thresholds.sentence_similarity_floor, thresholds.sentence_similarity_full
    )
    if coverage < thresholds.min_narrative_coverage:
        return MatchDecision(False, containment, jaccard, coverage, "low_narrative_coverage")
    return MatchDecision(True, containment, jaccard, coverage, "copy")


@register_matcher("containment")
def match_containment(first: MatchProfile, second: MatchProfile, thresholds: MatchThresholds) -> MatchDecision:
    """Copy when the smaller shingle set is contained in the other to `min_containment`."""
    containment, jaccard = shingle_overlap(first, second)
    ok = containment >= thresholds.min_containment
    return MatchDecision(ok, containment, jaccard, None, "copy" if ok else "low_containment")


@register_matcher("jaccard")
def match_jaccard(first: MatchProfile, second: MatchProfile, thresholds: MatchThresholds) -> MatchDecision:
    """Copy when the shingle sets' Jaccard similarity reaches `min_jaccard`."""
    containment, jaccard = shingle_overlap(first, second)
    ok = jaccard >= thresholds.min_jaccard
    return MatchDecision(ok, containment, jaccard, None, "copy" if ok else "low_jaccard")


# ---------------------------------------------------------------- groups


def canonical_order_key(published_at, article_id: str) -> tuple:
    """Sort key of the canonical rule: earliest publication first, unknown times last,
    then the smaller article_id (a stable tiebreak: ids derive from the input)."""
    if published_at is None:
        return (1, 0.0, article_id)
    return (0, published_at.timestamp(), article_id)


def group_id_for(article_id: str) -> str:
    """The dup_group_id naming the group after one of its articles: in batch the
    canonical copy, in streaming the copy the group was first seen with. The id
    embeds the article_id so that a reader can follow it to that article."""
    return "cg-" + article_id


def lag_seconds(published_at, canonical_published_at) -> Optional[int]:
    """Seconds this copy appeared after the canonical one; None if either time is unknown."""
    if published_at is None or canonical_published_at is None:
        return None
    return int(round((published_at - canonical_published_at).total_seconds()))


class UnionFind:
    """Disjoint sets over hashable ids, with path halving and union by size."""

    def __init__(self) -> None:
        self._parent: dict = {}
        self._size: dict = {}

    def find(self, item):
        parent = self._parent
        if item not in parent:
            parent[item] = item
            self._size[item] = 1
            return item
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, first, second) -> None:
        root_a, root_b = self.find(first), self.find(second)
        if root_a == root_b:
            return
        if self._size[root_a] < self._size[root_b]:
            root_a, root_b = root_b, root_a
        self._parent[root_b] = root_a
        self._size[root_a] += self._size[root_b]

    def groups(self) -> list[list]:
        members: dict = {}
        for item in list(self._parent):
            members.setdefault(self.find(item), []).append(item)
        return list(members.values())
