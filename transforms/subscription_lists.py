"""Subscription lists (OPML, as feed readers export them) as lists of feeds.

Newsrooms and researchers keep the feeds they follow in a feed reader, and
every reader exports them as OPML. `feeds.opml` in the config (and `--opml` on
the command line) names such files; each outline with an `xmlUrl` becomes a
feed to read, as if listed in `feeds.sources` without overrides.

Parsing is listparser's (by feedparser's author): OPML 1.0 and 2.0, nested
folders, and the RDF/FOAF and iGoogle lists some readers export. The file is
read here and its bytes handed over, because listparser would fetch a string
that looks like a URL itself, outside the feeds' HTTP rules.

A list published at an http(s) URL (a desk's shared list, a directory's
export) is fetched by `fetched_feed_urls` with the feeds' own HTTP client:
their timeouts, byte cap (`max_feed_bytes`), retries with backoff and
private-network policy. It is fetched once, when the run starts
(`FeedsConfig.with_lists_read`; the CLI and streaming rounds take that copy
once, a direct caller of `FeedsConfig.subscribed` fetches on every call), not
at configuration time, so that loading a
config never touches the network.

What is not taken from the list: an outline's title. It is the reader's label
for the feed, which for an aggregator's feed (Google News) names the
aggregator, so the outlet rule of the feeds applies (the item's `<source>`,
else the feed's title, else its host); give a feed an `outlet` in
`feeds.sources` to override it there.

A file that cannot be read, is no subscription list, lists no feed, or lists
a feed whose URL the feeds refuse (not http(s), no host) is refused as a
whole with a message naming the file and the entries: a subscription list is
configuration, and a run that silently read fewer feeds than subscribed would
look complete.
"""

from __future__ import annotations

import functools
from pathlib import Path

import listparser

from transforms.http_fetch import FetchError, HttpClient, check_url

# What a subscription list is served as (OPML has no registered type; servers use these).
OPML_ACCEPT = "text/x-opml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"

# Refused entries named in the error message (a list exported with many
# broken entries is still refused whole; the count says how many).
_NAMED_REFUSALS = 3


class SubscriptionListError(ValueError):
    """A subscription list that cannot be used, with a message naming the problem."""


def subscribed_feed_urls(path: str | Path) -> tuple[str, ...]:
    """The feed URLs of the subscription list at `path`, in the list's order, each once."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as error:
        raise SubscriptionListError(f"cannot read subscription list {path}: {error.strerror}") from None
    return _parsed(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _parsed(path: str, _mtime_ns: int, _size: int) -> tuple[str, ...]:
    # Keyed by modification time and size too, so an edited list is read again.
    try:
        content = Path(path).read_bytes()
    except OSError as error:
        raise SubscriptionListError(f"cannot read subscription list {path}: {error.strerror}") from None
    return _feed_urls(path, content)


def fetched_feed_urls(url: str, client: HttpClient) -> tuple[str, ...]:
    """The feed URLs of the subscription list served at `url`, fetched with the feeds' client."""
    try:
        client.vet_url(url)
        fetched = client.get(url, max_bytes=client.config.max_feed_bytes, accept=OPML_ACCEPT)
    except FetchError as error:
        raise SubscriptionListError(f"cannot fetch subscription list {url}: {error.reason}: {error.detail}") from None
    return _feed_urls(url, fetched.body)


def _feed_urls(path: str, content: bytes) -> tuple[str, ...]:
    """`path` (a file or URL) names the list in messages."""
    result = listparser.parse(content)
    if not result.version:
        reason = f" ({result.bozo_exception})" if result.bozo_exception else ""
        raise SubscriptionListError(f"{path} is not an OPML subscription list{reason}")
    urls: dict[str, None] = {}
    refused: list[str] = []
    for feed in result.feeds:
        url = (feed.get("url") or "").strip()
        try:
            check_url(url)
        except FetchError as error:
            label = feed.get("title") or url or "(no xmlUrl)"
            refused.append(f"{label!r}: {error.detail}")
            continue
        urls.setdefault(url, None)
    if refused:
        named = "; ".join(refused[:_NAMED_REFUSALS])
        more = f" and {len(refused) - _NAMED_REFUSALS} more" if len(refused) > _NAMED_REFUSALS else ""
        raise SubscriptionListError(f"{path}: {len(refused)} feed(s) refused: {named}{more}")
    if not urls:
        raise SubscriptionListError(f"{path} lists no feed (no outline with an xmlUrl)")
    return tuple(urls)
