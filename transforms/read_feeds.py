"""ReadFeeds: RSS, Atom and JSON feeds and their article pages, polled once or forever.

    feeds -> PollFeeds (state per feed) -> SpreadItems -> FetchPages -> (articles, dead letters)

Batch (`newsbeam run --feed URL`): every feed is polled once. Streaming
(`newsbeam run --streaming`): a `PeriodicImpulse`, rebased to the moment the
pipeline starts (not the moment this module was imported), ticks every
`min(poll_interval_s)` seconds; at each tick every feed whose own interval has
passed since its last poll (by tick time, so the schedule does not drift) is
polled again. `run_for_s` bounds a streaming run (tests, demos).
`ReadFeedsAtTicks` is the same graph behind any tick source. A local
streaming run (`newsbeam run --streaming` on the in-process runner) is a
sequence of bounded rounds, one tick each, with the per-feed state below
carried from round to round in the output folder (`pipeline/rounds.py`).

Runners for streaming (Beam 2.77, checked here): the legacy local streaming
runner (BundleBasedDirectRunner) cannot run a splittable DoFn such as
PeriodicImpulse (its SDF path fails `check_done`); the in-process portable
runner (FnApiRunner) runs it with `--streaming`, but stage by stage, so items
reach the writer only when the impulse stops: fine for bounded runs
(`run_for_s`), never for a run without end. Polling forever needs a runner
that streams (Dataflow, Flink, Prism). The legacy runner does run
`ReadFeedsAtTicks` behind a TestStream, which is how the exactly-once test
drives it.

PollFeeds is a stateful DoFn keyed by feed URL. Its state per feed:
- ETag and Last-Modified of the last full response, sent back on the next poll
  (a 304 costs no parse); the validators are dropped every
  `revalidate_after_s` so a server that answers 304 wrongly (an ETag that does
  not change with the content) delays new items by at most that long;
- a digest of the last body: a server that ignores the validators, or sends a
  new ETag for the same bytes, costs no parse either;
- the identity and last sighting (declared date, content digest) of the items
  already emitted, least recently sighted first, at most `seen_items_per_feed`
  (the bound on state): an item is emitted once however many polls list it,
  and again only as a new version (`feed_items.is_new_version`). An item that
  drops out of the feed and comes back after that many newer items is emitted
  again;
- failures in a row and a not-before time: a failing feed is polled again
  after `poll_interval_s * 2**(failures-1)` (at most `max_poll_backoff_s`), or
  after the server's Retry-After when that is longer.
State and outputs of a bundle commit together, so a retried bundle neither
loses nor doubles items.

FetchPages fetches each item's link (robots.txt honoured unless
`respect_robots_txt` is off) and extracts the article with trafilatura in a
helper process that is killed past `extraction_timeout_s` (a thread cannot be
stopped; a process can). The page text is used unless the item's own text
(content, else summary) is longer, which is what a paywalled or truncated
page looks like. When the page fails, the item's own text stands in if it
has at least `min_summary_words` words (`content_source="feed_summary"`);
otherwise the item becomes a dead letter naming the page's failure. A link
that is refused rather than failed (a private address, a non-http scheme) is
a dead letter even when the item has text: a feed pointing at internal
addresses is not trusted for its summary either.

What a record is (so rows in = rows written + dead letters holds):
- a poll that fails (fetch error, unparseable body) is one record and one
  dead letter (`feeds.fetch` or `feeds.parse`);
- a poll whose feed parsed with a flaw but yielded items is one record and one
  dead letter (`feeds.parse`, reason `<kind>_items_kept`), plus its items;
- each new item is one record and becomes one article or one dead letter
  (`feeds.page`);
- polls answered 304, polls of an unchanged body, and items already emitted
  are not records (Beam counters `newsbeam/feeds.*` count them).

Updated versions: see `transforms.feed_items` (a new row when an item's declared
date and its content both change).

Command lines:
    newsbeam run --feed https://example.com/rss.xml --output out/
    newsbeam run --opml subscriptions.opml --output out/     (a feed reader's export)
    newsbeam run --config configs/feeds.example.yaml --streaming --output out/
    newsbeam run --config configs/feeds.example.yaml --runner DataflowRunner \\
        --project P --region R --temp_location gs://B/tmp --output gs://B/out
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import datetime as dt
import hashlib
import ipaddress
import pickle
import select
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Annotated, Iterable, Iterator, NamedTuple, Optional, Sequence, Union

try:
    import fcntl
except ImportError:  # not on POSIX
    fcntl = None

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms.periodicsequence import PeriodicImpulse, RebaseMode
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec
from apache_beam.utils.timestamp import Timestamp
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from transforms.config_paths import resolved_path
from transforms.dead_letters import DEAD_LETTER_TAG, METRICS_NAMESPACE, dead_letter_output
from transforms.feed_items import (
    FeedItem,
    FeedRejected,
    PageExtract,
    article_from_item,
    decode_page,
    feed_item,
    is_new_version,
    is_real_text,
    parse_feed,
    read_message,
    word_count,
    write_message,
)
from transforms.http_fetch import FetchError, HttpClient, HttpConfig, check_url
from transforms.schema import Article, DeadLetter
from transforms.subscription_lists import fetched_feed_urls, subscribed_feed_urls

UTC = dt.timezone.utc
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9,"
    " application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
# A link refused for what it is, not for how its fetch went: no fallback.
REFUSED_LINK_REASONS = frozenset({"private_address", "unsupported_scheme", "invalid_url"})


# ---------------------------------------------------------------- config


class FeedSpec(BaseModel):
    """One subscribed feed; unset overrides take the section's defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(..., description="The feed's http(s) URL.")
    outlet: Optional[str] = Field(None, description="Outlet name for its articles; default: each item's <source> title, else the feed's title, else its host.")
    poll_interval_s: Optional[float] = Field(None, gt=0, description="Seconds between polls in streaming; default feeds.poll_interval_s.")
    fetch_pages: Optional[bool] = Field(None, description="Fetch each item's page; false uses the item's own text.")
    respect_robots_txt: Optional[bool] = Field(None, description="Honour robots.txt for this feed's article pages.")
    max_feed_bytes: Optional[int] = Field(None, gt=0, description="Body cap for this feed; default feeds.http.max_feed_bytes.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        try:
            check_url(value)
        except FetchError as error:
            raise ValueError(error.detail) from None
        return value


def _readable_subscription_list(path: str, info: ValidationInfo) -> str:
    """The list's path resolved against the config's folder, read and checked now, so a bad
    list is a config error naming the key (SubscriptionListError names file and entries).
    A list at an http(s) URL is only checked as a URL here: loading a config fetches nothing."""
    if path.strip().lower().startswith(("http://", "https://")):
        try:
            check_url(path.strip())
        except FetchError as error:
            raise ValueError(error.detail) from None
        return path.strip()
    resolved = str(resolved_path(path, info))
    subscribed_feed_urls(resolved)
    return resolved


class FeedsConfig(BaseModel):
    """Settings of ReadFeeds (config section `feeds`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: tuple[FeedSpec, ...] = Field((), description="Feeds to read: a URL string or a mapping with url, outlet and overrides.")
    opml: tuple[Annotated[str, AfterValidator(_readable_subscription_list)], ...] = Field(
        (),
        description=(
            "Subscription lists (OPML, as feed readers export them): every feed they list is read, "
            "after `sources` and with the section's settings (a feed also in `sources` keeps its "
            "overrides there). A file is read and checked when the configuration is loaded (a relative "
            "path is resolved against the config file's folder); a list at an http(s) URL is fetched "
            "once when the run starts, with the `http` settings."
        ),
    )
    poll_interval_s: float = Field(300.0, gt=0, description="Seconds between two polls of a feed in streaming runs.")
    fetch_pages: bool = Field(True, description="Fetch and extract each item's article page.")
    respect_robots_txt: bool = Field(True, description="Honour robots.txt for article pages (feeds are fetched as subscribed).")
    allow_private_network: bool = Field(
        False, description="Allow private, loopback and link-local targets (--allow-private-network); for local servers and tests."
    )
    allowed_networks: tuple[str, ...] = Field(
        (), description="CIDR ranges allowed even when allow_private_network is off, e.g. ['127.0.0.0/8'] for a local server."
    )
    min_summary_words: int = Field(25, ge=1, description="Words an item's own text needs to stand in for a failed page.")
    min_page_words: int = Field(
        25, ge=1, description="Words a page's extracted text needs to count as an article (menus and error pages have fewer)."
    )
    extraction_timeout_s: float = Field(30.0, gt=0, description="Time limit for extracting one page.")
    seen_items_per_feed: int = Field(5000, ge=1, description="Items remembered per feed to emit each once (bounds streaming state).")
    revalidate_after_s: float = Field(
        3600.0, ge=0, description="Poll without ETag/Last-Modified at least this often, in case a server answers 304 wrongly."
    )
    max_poll_backoff_s: float = Field(3600.0, gt=0, description="Longest wait before polling a failing feed again.")
    run_for_s: Optional[float] = Field(None, gt=0, description="Streaming only: stop polling after this many seconds (default: never).")
    http: HttpConfig = Field(default_factory=HttpConfig, description="HTTP client settings.")

    @field_validator("allowed_networks")
    @classmethod
    def _cidr_ranges(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad range
        return value

    @field_validator("opml", mode="before")
    @classmethod
    def _one_list_alone(cls, value):
        return (value,) if isinstance(value, str) else value

    @property
    def has_feeds(self) -> bool:
        """Whether any feed is configured, told without reading (or fetching) a subscription list."""
        return bool(self.sources or self.opml)

    def with_lists_read(self) -> "FeedsConfig":
        """This section with its `opml` lists read once, now (a list at a URL is fetched), and their
        feeds moved into `sources`. `subscribed` reads every list each time it is asked; a caller
        that asks more than once (a graph checks for feeds and then resolves them, a streaming run
        builds a graph every round) takes this copy first and fetches each list once per run."""
        if not self.opml:
            return self
        return self.model_copy(update={"sources": self.subscribed, "opml": ()})

    @property
    def subscribed(self) -> tuple[FeedSpec, ...]:
        """Every configured feed: `sources`, then the feeds of the `opml` lists not already there.
        Reads the lists on every call: see `with_lists_read`."""
        listed = {spec.url for spec in self.sources}
        from_lists: list[str] = []
        client: Optional[HttpClient] = None
        try:
            for location in self.opml:
                if "://" in location:  # validated: an http(s) URL
                    client = client or HttpClient(
                        self.http,
                        allow_private_network=self.allow_private_network,
                        allowed_networks=self.allowed_networks,
                    )
                    urls = fetched_feed_urls(location, client)
                else:
                    urls = subscribed_feed_urls(location)
                from_lists.extend(url for url in urls if url not in listed)
        finally:
            if client is not None:
                client.close()
        return (*self.sources, *(FeedSpec(url=url) for url in dict.fromkeys(from_lists)))

    @field_validator("sources", mode="before")
    @classmethod
    def _urls_as_specs(cls, value):
        if isinstance(value, (list, tuple)):
            return tuple({"url": item} if isinstance(item, str) else item for item in value)
        return value


@dataclass(frozen=True)
class ResolvedFeed:
    """A feed with every override settled (what flows through the graph)."""

    url: str
    outlet: Optional[str]
    poll_interval_s: float
    fetch_pages: bool
    respect_robots_txt: bool
    max_feed_bytes: int


def resolve_feeds(feeds: Iterable[Union[str, FeedSpec]], config: FeedsConfig) -> list[ResolvedFeed]:
    """The config's sources then the given feeds, one per URL (first wins)."""
    resolved: dict[str, ResolvedFeed] = {}
    for spec in (*config.subscribed, *feeds):
        if isinstance(spec, str):
            try:
                spec = FeedSpec(url=spec)
            except ValidationError as error:
                problem = error.errors()[0]
                # pydantic prefixes a validator's own message with "Value error, "; show the message.
                reason = str(problem["ctx"]["error"]) if problem["type"] == "value_error" else problem["msg"]
                raise ValueError(f"feed {spec!r} refused: {reason}") from None
        if spec.url in resolved:
            continue
        resolved[spec.url] = ResolvedFeed(
            url=spec.url,
            outlet=spec.outlet,
            poll_interval_s=spec.poll_interval_s or config.poll_interval_s,
            fetch_pages=config.fetch_pages if spec.fetch_pages is None else spec.fetch_pages,
            respect_robots_txt=config.respect_robots_txt if spec.respect_robots_txt is None else spec.respect_robots_txt,
            max_feed_bytes=spec.max_feed_bytes or config.http.max_feed_bytes,
        )
    return list(resolved.values())


def make_http_client(config: FeedsConfig) -> HttpClient:
    return HttpClient(
        config.http,
        allow_private_network=config.allow_private_network,
        allowed_networks=config.allowed_networks,
    )


# ---------------------------------------------------------------- polling


class Refusal(NamedTuple):
    """A dead letter to be emitted (the DoFn counts it)."""

    step: str
    reason: str
    detail: str
    source_ref: str
    raw: Union[str, bytes, None]


@dataclass
class FeedState:
    """What PollFeeds remembers about one feed between polls."""

    etag: Optional[str] = None
    last_modified: Optional[str] = None
    body_digest: Optional[str] = None
    last_full_fetch_s: Optional[float] = None
    last_poll_tick_s: Optional[float] = None
    not_before_s: float = 0.0
    failures: int = 0
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)  # identity -> last sighting, least recently sighted first

    def is_due(self, tick_s: float, interval_s: float) -> bool:
        if tick_s < self.not_before_s:
            return False
        return self.last_poll_tick_s is None or tick_s - self.last_poll_tick_s >= interval_s

    def copy(self) -> "FeedState":
        return dataclasses.replace(self, seen=dict(self.seen))


@dataclass
class PollOutcome:
    status: str  # fetched, not_modified, unchanged, failed, rejected
    state: FeedState
    items: list[FeedItem] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    already_seen: int = 0


def poll_feed(
    client: HttpClient,
    feed: ResolvedFeed,
    state: FeedState,
    config: FeedsConfig,
    *,
    tick_s: float,
    now: Optional[dt.datetime] = None,
) -> PollOutcome:
    """Poll one feed once: conditional GET, parse, and the items not emitted before."""
    now = now or dt.datetime.now(UTC)
    now_s = now.timestamp()
    state = state.copy()
    state.last_poll_tick_s = tick_s
    fresh_validators = state.last_full_fetch_s is not None and now_s - state.last_full_fetch_s < config.revalidate_after_s
    try:
        result = client.get(
            feed.url,
            max_bytes=feed.max_feed_bytes,
            etag=state.etag if fresh_validators else None,
            last_modified=state.last_modified if fresh_validators else None,
            accept=FEED_ACCEPT,
        )
    except FetchError as error:
        state.failures += 1
        wait = min(config.max_poll_backoff_s, feed.poll_interval_s * 2 ** (state.failures - 1))
        state.not_before_s = tick_s + max(wait, error.retry_after_s or 0.0)
        raw = error.body or feed.url
        return PollOutcome("failed", state, refusals=[Refusal("feeds.fetch", error.reason, error.detail, feed.url, raw)])
    state.failures = 0
    state.not_before_s = 0.0
    if result.not_modified:
        if fresh_validators and (state.etag or state.last_modified):
            return PollOutcome("not_modified", state)
        return PollOutcome(
            "failed",
            state,
            refusals=[Refusal("feeds.fetch", "unexpected_not_modified", f"{feed.url} answered 304 to a request without validators", feed.url, feed.url)],
        )
    state.etag, state.last_modified = result.etag, result.last_modified
    state.last_full_fetch_s = now_s
    digest = hashlib.sha256(result.body).hexdigest()
    if digest == state.body_digest:
        return PollOutcome("unchanged", state)
    state.body_digest = digest
    try:
        parsed = parse_feed(
            result.body,
            url=result.url,
            content_type=result.content_type,
            content_location=result.headers.get("content-location"),
            content_language=result.headers.get("content-language"),
            max_expansion_bytes=feed.max_feed_bytes,
        )
    except FeedRejected as rejected:
        return PollOutcome("rejected", state, refusals=[Refusal("feeds.parse", rejected.reason, rejected.detail, feed.url, result.body)])
    except Exception as error:  # feedparser or lxml failing on a hostile body: this feed's poll only
        detail = f"parsing {result.url} failed: {type(error).__name__}: {error}"
        return PollOutcome("rejected", state, refusals=[Refusal("feeds.parse", "parser_error", detail, feed.url, result.body)])
    outcome = PollOutcome("fetched", state)
    if parsed.problem is not None:
        outcome.refusals.append(Refusal("feeds.parse", parsed.problem.reason, parsed.problem.detail, feed.url, result.body))
    for entry in parsed.entries:
        identity = entry.identity
        previous = state.seen.pop(identity, None)  # re-inserted below: sighted again, so evicted last
        new_version = is_new_version(entry, previous)
        state.seen[identity] = entry.sighting if new_version else previous
        if not new_version:
            outcome.already_seen += 1
            continue
        outcome.items.append(
            feed_item(
                entry,
                parsed,
                feed_url=feed.url,
                outlet=feed.outlet,
                polled_at=now,
                fetch_page=feed.fetch_pages,
                respect_robots_txt=feed.respect_robots_txt,
            )
        )
    while len(state.seen) > config.seen_items_per_feed:
        del state.seen[next(iter(state.seen))]
    return outcome


# ---------------------------------------------------------------- extraction


class ExtractionTimeout(Exception):
    pass


class ExtractionFailed(Exception):
    pass


_PIPE_BYTES = 2**20


def _widen_pipe(stream) -> None:
    """Let a whole page (up to 1 MiB) go into the pipe in one write on Linux,
    instead of 64 KiB at a time in step with the helper's reads."""
    set_pipe_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl else None
    if set_pipe_size is None:
        return
    try:
        fcntl.fcntl(stream.fileno(), set_pipe_size, _PIPE_BYTES)
    except OSError:
        pass  # a lower system limit: the default size still works, just in smaller steps


def start_extraction_helper(stderr=None) -> subprocess.Popen:
    """`python -m transforms.feed_items --serve-extractions`, with pipes on its stdin and
    stdout; its stderr is this process's unless `stderr` says otherwise (tests read it).

    SIGINT stays blocked in this thread while the child starts, and the child
    inherits the mask: a Ctrl-C that lands during its start-up (imports take a
    fraction of a second; helpers start early in a run and again after each
    timeout) waits until it has set SIGINT to ignored, which drops it. The
    parent loses nothing: the signal is delivered to another thread at once,
    or to this one when the mask is restored.
    """
    blocking = hasattr(signal, "pthread_sigmask")
    if blocking:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "transforms.feed_items", "--serve-extractions"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            close_fds=True,
        )
    finally:
        if blocking:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class TimeLimitedExtractor:
    """trafilatura in a helper process, killed and restarted past the time limit.

    A thread cannot be stopped; a process can. The helper is a plain
    `python -m transforms.feed_items --serve-extractions` child (no
    multiprocessing, so the parent's main module is never re-imported), and it
    runs outside the worker's GIL: several helpers extract on several cores.
    It ignores Ctrl-C; this side decides when it stops (`close`, or a kill).
    """

    STARTUP_TIMEOUT_S = 120.0

    def __init__(self, timeout_s: float):
        self.timeout_s = timeout_s
        self._process: Optional[subprocess.Popen] = None
        self._starting: Optional[threading.Thread] = None

    def start_in_background(self) -> None:
        """Start the helper now, on a thread, so its start-up overlaps other work."""
        self._starting = threading.Thread(target=self._start, name="newsbeam-extract-start", daemon=True)
        self._starting.start()

    def _start(self) -> None:
        self._process = start_extraction_helper()
        _widen_pipe(self._process.stdin)
        if self._await_reply(self.STARTUP_TIMEOUT_S) != "ready":
            self._stop()
            raise ExtractionFailed("the extraction helper process did not start")

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(5)
            for stream in (self._process.stdin, self._process.stdout):
                stream.close()
        self._process = None

    def _await_reply(self, timeout_s: float):
        ready, _, _ = select.select([self._process.stdout], [], [], timeout_s)
        if not ready:
            raise ExtractionTimeout(f"extraction took longer than {self.timeout_s:g} s")
        return read_message(self._process.stdout)

    def extract(self, html: Union[str, bytes], url: Optional[str]) -> Optional[PageExtract]:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        if self._process is None or self._process.poll() is not None:
            self._stop()
            self._start()
        try:
            write_message(self._process.stdin, (html, url))
            status, payload = self._await_reply(self.timeout_s)
        except ExtractionTimeout:
            self._stop()
            raise
        except (EOFError, OSError, pickle.UnpicklingError):
            self._stop()
            raise ExtractionFailed("the extraction helper process died") from None
        except BaseException:
            # Interrupted mid-page (Ctrl-C: the helper ignores it and carries on). Its reply
            # would answer the next page, and a polite close would wait for it: stop it now.
            self._stop()
            raise
        if status == "error":
            raise ExtractionFailed(payload)
        return payload

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            try:
                write_message(self._process.stdin, None)
                self._process.wait(2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._stop()


class ExtractorPool:
    """Helpers shared by the DoFn instances of a worker process.

    Runners create and drop DoFn instances freely (the legacy direct runner
    does so for every bundle); borrowing a helper per page keeps one warm
    helper per concurrent thread instead of starting one per instance.
    """

    def __init__(self):
        self._idle: dict[float, list[TimeLimitedExtractor]] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def borrow(self, timeout_s: float) -> Iterator[TimeLimitedExtractor]:
        with self._lock:
            idle = self._idle.setdefault(timeout_s, [])
            extractor = idle.pop() if idle else TimeLimitedExtractor(timeout_s)
        try:
            yield extractor
        finally:
            with self._lock:
                self._idle[timeout_s].append(extractor)

    def prewarm(self, timeout_s: float) -> None:
        """Have one helper starting for this time limit before pages arrive."""
        with self._lock:
            idle = self._idle.setdefault(timeout_s, [])
            if idle:
                return
            extractor = TimeLimitedExtractor(timeout_s)
            idle.append(extractor)
        extractor.start_in_background()

    def close_all(self) -> None:
        with self._lock:
            helpers = [e for idle in self._idle.values() for e in idle]
            self._idle.clear()
        for extractor in helpers:
            extractor.close()


EXTRACTORS = ExtractorPool()
atexit.register(EXTRACTORS.close_all)

_CLIENTS: dict[str, HttpClient] = {}
_CLIENTS_LOCK = threading.Lock()


def shared_http_client(config: FeedsConfig) -> HttpClient:
    """One client per configuration and worker process: its connection pools
    and robots.txt cache outlive the DoFn instances that use it."""
    key = config.model_dump_json(exclude={"sources"})
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = make_http_client(config)
        return client


class PageFailure(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def _is_html_like(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return not media or media.startswith("text/") or "html" in media or "xml" in media


def _item_raw(item: FeedItem) -> str:
    return f"link: {item.link}\ntitle: {item.title}\nfeed: {item.feed_url}\n\n{item.text}"


def article_for_item(
    client: HttpClient,
    extractor: TimeLimitedExtractor,
    item: FeedItem,
    config: FeedsConfig,
    *,
    ingested_at: Optional[dt.datetime] = None,
) -> tuple[Optional[Article], Optional[Refusal], str]:
    """(article, None, how) or (None, refusal, how) for one item; `how` names the path taken."""
    ingested_at = ingested_at or dt.datetime.now(UTC)
    try:
        if not item.link:
            raise PageFailure("no_link", "the item has no link to fetch")
        if not item.fetch_page:
            raise PageFailure("page_fetch_disabled", "fetch_pages is off for this feed")
        client.vet_url(item.link)
        if item.respect_robots_txt and not client.robots_allows(item.link):
            raise PageFailure("robots_disallowed", f"robots.txt disallows {item.link} for newsbeam")
        result = client.get(item.link, max_bytes=config.http.max_page_bytes, accept=PAGE_ACCEPT)
        if not _is_html_like(result.content_type):
            raise PageFailure("not_html", f"{result.url} is {result.content_type}, not an HTML page")
        try:
            page = extractor.extract(decode_page(result.body, result.content_type), result.url)
        except ExtractionTimeout as error:
            raise PageFailure("extraction_timeout", f"{result.url}: {error}") from None
        except ExtractionFailed as error:
            raise PageFailure("extraction_failed", f"{result.url}: {error}") from None
        if page is None or word_count(page.text) < config.min_page_words:
            words = 0 if page is None else word_count(page.text)
            raise PageFailure(
                "no_article_text", f"trafilatura found {words} words of main text in {result.url} (minimum {config.min_page_words})"
            )
        if is_real_text(item.text, config.min_summary_words) and len(item.text) > len(page.text):
            article = article_from_item(item, text=item.text, content_source="feed_summary", ingested_at=ingested_at, page=page, page_url=result.url)
            return article, None, "item_text_longer_than_page"
        article = article_from_item(item, text=page.text, content_source="page", ingested_at=ingested_at, page=page, page_url=result.url)
        return article, None, "page"
    except FetchError as error:
        failure = PageFailure(error.reason, error.detail)
        if error.reason in REFUSED_LINK_REASONS:
            return None, Refusal("feeds.page", failure.reason, failure.detail, item.source_ref, _item_raw(item)), "refused"
    except PageFailure as error:
        failure = error
    except Exception as error:  # a library failing on one hostile page: this item only
        failure = PageFailure("page_error", f"{item.link}: {type(error).__name__}: {error}")
    if is_real_text(item.text, config.min_summary_words):
        article = article_from_item(item, text=item.text, content_source="feed_summary", ingested_at=ingested_at)
        return article, None, f"fallback.{failure.reason}"
    words = word_count(item.text)
    detail = (
        f"{failure.detail}; the item's own text has {words} words, fewer than the"
        f" {config.min_summary_words} needed to stand in for the page"
    )
    return None, Refusal("feeds.page", failure.reason, detail, item.source_ref, _item_raw(item)), "dead_letter"


# ---------------------------------------------------------------- DoFns


def _count(name: str, value: int = 1) -> None:
    if value:
        Metrics.counter(METRICS_NAMESPACE, name).inc(value)


FEED_STATE_NAME = "feeds"
STATE_TAG = "state"


class PollFeedsFn(beam.DoFn):
    """Polls each due feed; state keyed by feed URL (see the module docstring).

    `carried_state` (url -> FeedState, from an earlier round of a local
    streaming run) seeds the state of a feed that has none yet; when it is
    given, each poll's new state also leaves on the `state` output as
    `("feeds", url, FeedState)` for the next round.
    """

    FEED_STATE = ReadModifyWriteStateSpec("feed_state", PickleCoder())

    def __init__(self, config: FeedsConfig, carried_state: Optional[dict] = None):
        self.config = config
        self.carried_state = carried_state

    def setup(self):
        self.client = shared_http_client(self.config)
        if self.config.fetch_pages:
            # The extraction helper takes a second or two to start: let it start
            # while feeds are polled rather than when the first page arrives.
            EXTRACTORS.prewarm(self.config.extraction_timeout_s)

    def process(self, element, state=beam.DoFn.StateParam(FEED_STATE)):
        _, (feed, tick_s) = element
        current = state.read() or (self.carried_state or {}).get(feed.url) or FeedState()
        if not current.is_due(tick_s, feed.poll_interval_s):
            return
        outcome = poll_feed(self.client, feed, current, self.config, tick_s=tick_s)
        state.write(outcome.state)
        if self.carried_state is not None:
            yield beam.pvalue.TaggedOutput(STATE_TAG, (FEED_STATE_NAME, feed.url, outcome.state))
        _count("feeds.polls")
        _count(f"feeds.polls_{outcome.status}")
        _count("feeds.items_new", len(outcome.items))
        _count("feeds.items_already_seen", outcome.already_seen)
        for refusal in outcome.refusals:
            yield dead_letter_output(*refusal)
        yield from outcome.items


class FetchPagesFn(beam.DoFn):
    """Item -> Article (page, or the item's own text) or a dead letter."""

    def __init__(self, config: FeedsConfig, ingested_at: Optional[dt.datetime]):
        self.config = config
        self.ingested_at = ingested_at

    def setup(self):
        self.client = shared_http_client(self.config)

    def process(self, item: FeedItem):
        with EXTRACTORS.borrow(self.config.extraction_timeout_s) as extractor:
            article, refusal, how = article_for_item(self.client, extractor, item, self.config, ingested_at=self.ingested_at)
        _count(f"feeds.pages_{how}")
        if refusal is not None:
            yield dead_letter_output(*refusal)
        else:
            yield article


def _feeds_at_tick(tick: Union[float, Timestamp], feeds: Sequence[ResolvedFeed]):
    tick_s = float(tick)  # PeriodicImpulse emits its fire time, in seconds
    return [(feed.url, (feed, tick_s)) for feed in feeds]


class ReadFeedsAtTicks(beam.PTransform):
    """Polls every due feed at each tick: PCollection[float seconds] -> (articles, dead letters).

    The tick source is the caller's: `ReadFeeds` uses one tick in batch and a
    `PeriodicImpulse` in streaming; tests drive it with a `TestStream`.
    """

    def __init__(
        self,
        feeds: Sequence[ResolvedFeed],
        config: FeedsConfig,
        ingested_at: Optional[dt.datetime] = None,
        carried_state: Optional[dict] = None,
    ):
        super().__init__()
        self.feeds = list(feeds)
        self.config = config
        self.ingested_at = ingested_at
        self.carried_state = carried_state

    def expand(self, ticks):
        polled = (
            ticks
            | "FeedsAtTick" >> beam.FlatMap(_feeds_at_tick, self.feeds).with_output_types(tuple[str, tuple[ResolvedFeed, float]])
            | "PollFeeds"
            >> beam.ParDo(PollFeedsFn(self.config, self.carried_state))
            .with_input_types(tuple[str, tuple[ResolvedFeed, float]])
            .with_output_types(FeedItem)
            .with_outputs(DEAD_LETTER_TAG, STATE_TAG, main="items")
        )
        pages = (
            polled.items
            | "SpreadItems" >> beam.Reshuffle()
            | "FetchPages"
            >> beam.ParDo(FetchPagesFn(self.config, self.ingested_at))
            .with_input_types(FeedItem)
            .with_output_types(Article)
            .with_outputs(DEAD_LETTER_TAG, main="articles")
        )
        dead_letters = (polled[DEAD_LETTER_TAG], pages[DEAD_LETTER_TAG]) | "FeedDeadLetters" >> beam.Flatten().with_output_types(
            DeadLetter
        )
        if self.carried_state is not None:
            return pages.articles, dead_letters, polled[STATE_TAG]
        return pages.articles, dead_letters


class ReadFeeds(beam.PTransform):
    """Reads feeds and their pages into (articles, dead letters).

    `feeds` (URLs or FeedSpecs, e.g. from `--feed`) are read after
    `config.subscribed` (its `sources` and `opml` lists); a URL listed twice is
    read once. `ingested_at` stamps
    every article of a batch run; streaming runs stamp the fetch time.

    Rounds of a local streaming run (`pipeline/rounds.py`) are bounded runs:
    `tick_s` is the round's scheduled time (a feed is polled when its interval
    has passed since its last poll), and `carried_state` (url -> FeedState, as
    the previous round published it) makes the transform return a third
    PCollection, each polled feed's new state, `("feeds", url, FeedState)`.
    """

    def __init__(
        self,
        feeds: Sequence[Union[str, FeedSpec]] = (),
        config: Optional[FeedsConfig] = None,
        *,
        ingested_at: Optional[dt.datetime] = None,
        streaming: bool = False,
        tick_s: float = 0.0,
        carried_state: Optional[dict] = None,
    ):
        super().__init__()
        self.config = config or FeedsConfig()
        self.feeds = resolve_feeds(feeds, self.config)
        self.ingested_at = None if streaming else ingested_at
        self.streaming = streaming
        self.tick_s = tick_s
        self.carried_state = carried_state

    @property
    def tick_interval_s(self) -> float:
        """The shortest poll interval of the feeds (at least 1 s)."""
        return max(1.0, min((feed.poll_interval_s for feed in self.feeds), default=self.config.poll_interval_s))

    def _ticks(self, pbegin):
        if not self.streaming:
            return pbegin | "OneTick" >> beam.Create([self.tick_s])
        if self.config.run_for_s is None:
            return pbegin | "PollTicks" >> PeriodicImpulse(fire_interval=self.tick_interval_s, rebase=RebaseMode.REBASE_START)
        return pbegin | "PollTicks" >> PeriodicImpulse(
            start_timestamp=Timestamp(0),
            stop_timestamp=Timestamp(self.config.run_for_s),
            fire_interval=self.tick_interval_s,
            rebase=RebaseMode.REBASE_ALL,
        )

    def expand(self, pbegin):
        return self._ticks(pbegin) | "PollAtTicks" >> ReadFeedsAtTicks(
            self.feeds, self.config, self.ingested_at, self.carried_state
        )
