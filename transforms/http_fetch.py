"""The polite HTTP client newsbeam uses for feeds, article pages and robots.txt.

Library: urllib3 (2.6 or later), used directly. It pools connections per host,
streams bodies, and since 2.6 its decoders never inflate more than the amount
asked for, so the byte cap below holds after decompression while the body is
still arriving (a gzip bomb stops at the cap, it never reaches memory). Using
it directly, rather than through requests or httpx, gives the one hook the
safety rules need: the connection class can vet the address a socket is about
to connect to, for every hop of every redirect, with no second DNS lookup
between the check and the connect. It also keeps proxies out of the picture
(no environment proxy is picked up behind the run's back).

Rules, in the order a request meets them:

- Only `http` and `https` URLs (`unsupported_scheme`), with a host
  (`invalid_url`); the same check on every redirect target.
- The host's addresses are resolved once; if any is not a public address
  (private, loopback, link-local, multicast, reserved, shared, unspecified;
  IPv4-mapped IPv6 judged as IPv4) the request is refused before any packet is
  sent (`private_address`), unless `allow_private_network` is set or the
  address lies in one of `allowed_networks`. The socket then connects to the
  vetted addresses themselves, so DNS cannot answer differently later.
- Per-host politeness, shared by every client in the process: at most
  `max_connections_per_host` requests in flight to one host, and successive
  requests to one host start at least `min_host_delay_s` apart (raised to the
  host's robots.txt Crawl-delay, capped at `max_crawl_delay_s`).
- Timeouts: `connect_timeout_s` to connect, `read_timeout_s` for each read,
  and `total_timeout_s` for the whole body (a server that drips one byte
  at a time under the read timeout still ends, with `total_timeout`).
  `connect_timeout` is only a connect that waited that long; one refused or
  unroutable is `connection_failed` ("cannot reach URL: connection refused").
- A body larger than the cap is refused: by its Content-Length before reading
  (`body_too_large`), or while streaming, counted after decompression
  (`body_too_large`, or `decompressed_too_large` when the server compressed it).
- Redirects are followed by hand up to `max_redirects` (`too_many_redirects`);
  a URL met twice in one chain is `redirect_loop`.
- Conditional GET: the caller passes the ETag / Last-Modified it remembers;
  they are echoed verbatim (If-None-Match / If-Modified-Since) and a 304 comes
  back as `FetchResult.not_modified`, with no body.
- Retries: connection failures, timeouts and HTTP 429/500/502/503/504 are tried
  again up to `max_attempts` in all, after an exponential backoff with jitter
  (`backoff_base_s * 2**(n-1)`, capped at `backoff_max_s`, half of it fixed and
  half random). A Retry-After header (seconds or HTTP date) on 429/503 sets the
  wait instead; one longer than `max_retry_after_s` is not waited for: the
  error is raised at once with `retry_after_s` set, so a feed poller can skip
  that feed until then.
- robots.txt (RFC 9309, parsed by Protego, which implements its longest-match
  and wildcard rules): fetched once per host and cached `robots_cache_s`;
  4xx means no rules (allowed), 5xx or an unreachable server means everything
  is disallowed for now (cached for at most `robots_error_cache_s`); only the
  first `max_robots_bytes` are read. The caller decides which URLs consult it
  (newsbeam: article pages, not the feeds a user subscribed to).

Every failure is a `FetchError` with a stable `reason` code and a detail that
names the URL and the problem; nothing else escapes `HttpClient.get`.

Command lines: this module has none of its own; `newsbeam run --feed URL`
exercises it, and `python bench/bench_feeds.py` measures it.
"""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import random
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from importlib import metadata
from typing import Callable, Iterator, Mapping, Optional
from urllib.parse import urljoin, urlsplit

import urllib3
from protego import Protego
from pydantic import BaseModel, ConfigDict, Field
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    LocationParseError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util.connection import create_connection

try:
    _VERSION = metadata.version("newsbeam")
except metadata.PackageNotFoundError:  # running from a checkout that is not installed
    _VERSION = "0"

ROBOTS_AGENT_TOKEN = "newsbeam"
DEFAULT_USER_AGENT = f"newsbeam/{_VERSION} (news feed reader; robots.txt token: newsbeam)"

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRYABLE_REASONS = frozenset({"connect_timeout", "read_timeout", "connection_failed", "truncated_body"})
# Failures that the request itself caused or that no retry can change: the
# robots.txt lookup passes them on instead of reading them as "no rules".
POLICY_REASONS = frozenset({"private_address", "unsupported_scheme", "invalid_url", "dns_failure"})

_CHUNK_BYTES = 64 * 1024
_ERROR_BODY_BYTES = 2048


class HttpConfig(BaseModel):
    """How newsbeam talks to web servers (section `feeds.http` of the config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_agent: str = Field(
        DEFAULT_USER_AGENT,
        description="User-Agent header; keep 'newsbeam' in it and add a contact URL for your deployment.",
    )
    connect_timeout_s: float = Field(5.0, gt=0, description="Seconds allowed to open a connection.")
    read_timeout_s: float = Field(15.0, gt=0, description="Seconds allowed between two reads of a response.")
    total_timeout_s: float = Field(60.0, gt=0, description="Seconds allowed to read one whole body.")
    max_feed_bytes: int = Field(10 * 2**20, gt=0, description="Largest feed body accepted, after decompression.")
    max_page_bytes: int = Field(5 * 2**20, gt=0, description="Largest article page accepted, after decompression.")
    max_robots_bytes: int = Field(500 * 2**10, gt=0, description="Bytes of robots.txt read (RFC 9309 asks for at least 500 KiB).")
    max_redirects: int = Field(5, ge=0, description="Redirects followed for one request.")
    max_attempts: int = Field(3, ge=1, description="Tries of one request when it fails in a way a retry can fix.")
    backoff_base_s: float = Field(1.0, ge=0, description="Backoff before the second try; doubles each try.")
    backoff_max_s: float = Field(30.0, ge=0, description="Longest backoff between two tries.")
    max_retry_after_s: float = Field(
        60.0, ge=0, description="Longest Retry-After waited for inside one request; a longer one fails the request at once."
    )
    max_connections_per_host: int = Field(2, ge=1, description="Requests in flight to one host from one worker process.")
    min_host_delay_s: float = Field(1.0, ge=0, description="Least time between the starts of two requests to one host.")
    max_crawl_delay_s: float = Field(10.0, ge=0, description="Cap on a robots.txt Crawl-delay taken as the host delay.")
    robots_cache_s: float = Field(3600.0, ge=0, description="Seconds a host's robots.txt is reused.")
    robots_error_cache_s: float = Field(
        300.0, ge=0, description="Seconds a robots.txt that could not be read (5xx, network) counts as 'disallow all'."
    )


class FetchError(Exception):
    """A request that gave no usable response; `reason` is a stable code."""

    def __init__(
        self,
        reason: str,
        detail: str,
        url: str,
        *,
        status: Optional[int] = None,
        retry_after_s: Optional[float] = None,
        body: bytes = b"",
    ):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.url = url
        self.status = status
        self.retry_after_s = retry_after_s
        self.body = body

    @property
    def retryable(self) -> bool:
        return self.reason in RETRYABLE_REASONS or (self.status in RETRYABLE_STATUSES)


@dataclass(frozen=True)
class FetchResult:
    """A response worth reading: 2xx with its body, or 304 with none."""

    url: str  # the URL that answered, after redirects
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    attempts: int = 1
    redirects: tuple[str, ...] = ()

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> Optional[str]:
        return self.headers.get("etag") or None

    @property
    def last_modified(self) -> Optional[str]:
        return self.headers.get("last-modified") or None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


# ---------------------------------------------------------------- addresses


@dataclass(frozen=True)
class AddressPolicy:
    """Which IP addresses a request may connect to."""

    allow_private_network: bool = False
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_settings(cls, allow_private_network: bool, allowed_networks: tuple[str, ...] | list[str]) -> "AddressPolicy":
        return cls(
            allow_private_network=allow_private_network,
            allowed_networks=tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks),
        )

    def refusal(self, address: str) -> Optional[str]:
        """Why this address may not be contacted, or None when it may."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if self.allow_private_network or ip.is_global:
            return None
        if any(ip in network for network in self.allowed_networks):
            return None
        for kind in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
            if getattr(ip, f"is_{kind}"):
                return kind.replace("_", "-")
        return "not-global"


class PrivateAddressRefused(Exception):
    """Raised inside the connection (not an OSError, so urllib3 passes it through)."""

    def __init__(self, host: str, address: str, kind: str):
        where = f"{host} is" if host.strip("[]") == address else f"{host} resolves to {address},"
        super().__init__(f"{where} a {kind} address")
        self.host, self.address, self.kind = host, address, kind


class _VettedConnectionMixin:
    """Resolve once, refuse non-public addresses, connect to the vetted ones."""

    address_policy: AddressPolicy = AddressPolicy()

    def _new_conn(self) -> socket.socket:
        host = self._dns_host  # type: ignore[attr-defined]
        try:
            infos = socket.getaddrinfo(host, self.port, type=socket.SOCK_STREAM)  # type: ignore[attr-defined]
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error  # type: ignore[attr-defined]
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        for address in addresses:
            kind = self.address_policy.refusal(address)
            if kind is not None:
                raise PrivateAddressRefused(host, address, kind)
        last_error: Optional[OSError] = None
        for address in addresses:
            try:
                return create_connection(
                    (address, self.port),  # type: ignore[attr-defined]
                    self.timeout,  # type: ignore[attr-defined]
                    source_address=self.source_address,  # type: ignore[attr-defined]
                    socket_options=self.socket_options,  # type: ignore[attr-defined]
                )
            except socket.timeout as error:
                raise ConnectTimeoutError(self, f"Connection to {host} timed out") from error
            except OSError as error:
                last_error = error
        # The OSError stays the cause: _transport_error names what happened from it.
        raise NewConnectionError(self, f"Failed to connect to {host}: {last_error}") from last_error


def _pool_manager(policy: AddressPolicy, config: HttpConfig) -> urllib3.PoolManager:
    """A PoolManager whose every connection goes through the address check."""

    class VettedHTTPConnection(_VettedConnectionMixin, HTTPConnection):
        address_policy = policy

    class VettedHTTPSConnection(_VettedConnectionMixin, HTTPSConnection):
        address_policy = policy

    class VettedHTTPPool(HTTPConnectionPool):
        ConnectionCls = VettedHTTPConnection

    class VettedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = VettedHTTPSConnection

    manager = urllib3.PoolManager(
        num_pools=256,
        maxsize=config.max_connections_per_host,
        block=False,
    )
    manager.pool_classes_by_scheme = {"http": VettedHTTPPool, "https": VettedHTTPSPool}
    return manager


# ---------------------------------------------------------------- politeness


class HostGate:
    """Per-host concurrency limit and minimum delay between request starts."""

    def __init__(self, max_concurrent: int, min_delay_s: float):
        self.max_concurrent = max_concurrent
        self.min_delay_s = min_delay_s
        self._lock = threading.Lock()
        self._hosts: dict[str, _HostSlot] = {}

    def _slot(self, host: str) -> "_HostSlot":
        with self._lock:
            slot = self._hosts.get(host)
            if slot is None:
                slot = self._hosts[host] = _HostSlot(threading.BoundedSemaphore(self.max_concurrent), self.min_delay_s)
            return slot

    def raise_delay(self, host: str, delay_s: float) -> None:
        """Use a longer delay for this host (a robots.txt Crawl-delay); never shortens."""
        slot = self._slot(host)
        with slot.lock:
            slot.delay_s = max(slot.delay_s, delay_s)

    def delay_for(self, host: str) -> float:
        return self._slot(host).delay_s

    @contextlib.contextmanager
    def turn(self, host: str) -> Iterator[None]:
        """Hold one of the host's slots; returns once its start is polite."""
        slot = self._slot(host)
        slot.semaphore.acquire()
        try:
            with slot.lock:
                wait = slot.next_start - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                slot.next_start = time.monotonic() + slot.delay_s
            yield
        finally:
            slot.semaphore.release()


@dataclass
class _HostSlot:
    semaphore: threading.BoundedSemaphore
    delay_s: float
    next_start: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


_SHARED_GATES: dict[tuple[int, float], HostGate] = {}
_SHARED_GATES_LOCK = threading.Lock()


def shared_host_gate(max_concurrent: int, min_delay_s: float) -> HostGate:
    """The process-wide gate for these settings: every DoFn instance (thread) of a
    worker process shares it, so the per-host limits hold across threads."""
    with _SHARED_GATES_LOCK:
        key = (max_concurrent, min_delay_s)
        gate = _SHARED_GATES.get(key)
        if gate is None:
            gate = _SHARED_GATES[key] = HostGate(max_concurrent, min_delay_s)
        return gate


# ---------------------------------------------------------------- helpers


def check_url(url: str) -> tuple[str, str]:
    """(scheme, host) of an http(s) URL, or FetchError naming what is wrong."""
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise FetchError("invalid_url", f"cannot parse URL {url!r}: {error}", url) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        detail = (
            f"only http and https URLs are fetched, not {scheme}: {url}"
            if scheme
            else f"not a URL (no http:// or https:// in front): {url}"
        )
        raise FetchError("unsupported_scheme", detail, url)
    try:
        host = parts.hostname
    except ValueError:
        host = None
    if not host:
        raise FetchError("invalid_url", f"URL has no host: {url}", url)
    return scheme, host.lower()


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def backoff_delay(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with equal jitter before try number attempt+1."""
    ceiling = min(max_s, base_s * (2 ** (attempt - 1)))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def _reason_for_status(status: int) -> str:
    return f"http_{status}"


def _connect_failure(error: NewConnectionError) -> str:
    """What went wrong in a failed connect, in words: "connection refused", "no route to host"."""
    cause = error.__cause__
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror[:1].lower() + cause.strerror[1:]
    return str(cause or error)


# ---------------------------------------------------------------- client


@dataclass
class _RobotsEntry:
    expires: float
    rules: Optional[Protego]  # None: disallow everything (robots.txt unreachable)
    allow_all: bool = False


class HttpClient:
    """One worker's HTTP client: pooled connections, shared host politeness.

    Create it in `DoFn.setup()` and `close()` it in `teardown()`.
    """

    def __init__(
        self,
        config: Optional[HttpConfig] = None,
        *,
        allow_private_network: bool = False,
        allowed_networks: tuple[str, ...] | list[str] = (),
        gate: Optional[HostGate] = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Optional[random.Random] = None,
    ):
        self.config = config or HttpConfig()
        self.address_policy = AddressPolicy.from_settings(allow_private_network, tuple(allowed_networks))
        self.gate = gate or shared_host_gate(self.config.max_connections_per_host, self.config.min_host_delay_s)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._pools = _pool_manager(self.address_policy, self.config)
        self._robots: OrderedDict[str, _RobotsEntry] = OrderedDict()
        self._robots_lock = threading.Lock()
        self.requests_sent = 0

    def close(self) -> None:
        self._pools.clear()

    def vet_url(self, url: str) -> None:
        """Refuse a URL before any request: scheme, host, and where it resolves.

        The connection repeats the address check (the answer used is the one
        connected to); this only lets a caller refuse before other lookups
        (such as robots.txt) are made on the URL's behalf.
        """
        _, host = check_url(url)
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise FetchError("dns_failure", f"cannot resolve the host of {url}", url) from None
        for info in infos:
            kind = self.address_policy.refusal(info[4][0])
            if kind is not None:
                refused = PrivateAddressRefused(host, info[4][0], kind)
                raise FetchError(
                    "private_address",
                    f"refused {url}: {refused}; private, loopback and link-local targets need allow_private_network",
                    url,
                )

    # -------------------------------------------------------------- GET

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        etag: Optional[str] = None,
        last_modified: Optional[str] = None,
        accept: Optional[str] = None,
        truncate: bool = False,
    ) -> FetchResult:
        """GET with retries, redirects, caps and conditional headers.

        `truncate=True` keeps the first `max_bytes` of an oversized body
        instead of failing (robots.txt is read that way).
        """
        check_url(url)
        headers = {"User-Agent": self.config.user_agent, "Accept-Encoding": urllib3.util.request.ACCEPT_ENCODING}
        if accept:
            headers["Accept"] = accept
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            attempt += 1
            try:
                result = self._follow_redirects(url, headers, max_bytes, truncate)
                return FetchResult(
                    url=result.url,
                    status=result.status,
                    headers=result.headers,
                    body=result.body,
                    attempts=attempt,
                    redirects=result.redirects,
                )
            except FetchError as error:
                if not error.retryable or attempt >= self.config.max_attempts:
                    raise
                wait = self._wait_before_retry(error, attempt)
                self._sleep(wait)

    def _wait_before_retry(self, error: FetchError, attempt: int) -> float:
        jittered = backoff_delay(attempt, self.config.backoff_base_s, self.config.backoff_max_s, self._rng)
        if error.retry_after_s is None:
            return jittered
        if error.retry_after_s > self.config.max_retry_after_s:
            error.detail += (
                f"; Retry-After {error.retry_after_s:.0f} s is longer than the"
                f" {self.config.max_retry_after_s:.0f} s this client waits"
            )
            raise error
        # Honour the server's wait; a little jitter keeps many workers from
        # coming back in the same instant.
        return error.retry_after_s + self._rng.uniform(0, max(self.config.backoff_base_s, 0.01))

    def _follow_redirects(self, url: str, headers: dict, max_bytes: int, truncate: bool) -> FetchResult:
        chain = [url]
        current = url
        while True:
            result = self._request_once(current, headers, max_bytes, truncate)
            if result.status not in REDIRECT_STATUSES:
                return FetchResult(result.url, result.status, result.headers, result.body, redirects=tuple(chain[1:]))
            location = result.headers.get("location")
            if not location:
                raise FetchError(
                    "redirect_without_location", f"HTTP {result.status} from {current} has no Location header", url, status=result.status
                )
            target = urljoin(current, location.strip())
            try:
                check_url(target)
            except FetchError as error:
                error.detail = f"redirect from {current} to a refused URL: {error.detail}"
                raise
            if target in chain:
                raise FetchError("redirect_loop", f"redirect loop: {' -> '.join(chain + [target])}", url, status=result.status)
            if len(chain) > self.config.max_redirects:
                raise FetchError(
                    "too_many_redirects",
                    f"more than {self.config.max_redirects} redirects: {' -> '.join(chain[:4])} -> ...",
                    url,
                    status=result.status,
                )
            chain.append(target)
            current = target

    def _request_once(self, url: str, headers: dict, max_bytes: int, truncate: bool) -> FetchResult:
        _, host = check_url(url)
        timeout = urllib3.Timeout(connect=self.config.connect_timeout_s, read=self.config.read_timeout_s)
        with self.gate.turn(host):
            self.requests_sent += 1
            try:
                response = self._pools.urlopen(
                    "GET",
                    url,
                    headers=headers,
                    redirect=False,
                    retries=False,
                    preload_content=False,
                    decode_content=True,
                    timeout=timeout,
                )
            except PrivateAddressRefused as refused:
                raise FetchError(
                    "private_address",
                    f"refused {url}: {refused}; private, loopback and link-local targets need allow_private_network",
                    url,
                ) from None
            except HTTPError as error:
                raise self._transport_error(error, url) from None
            except (LocationParseError, ValueError, UnicodeError) as error:
                raise FetchError("invalid_url", f"cannot request {url}: {error}", url) from None
            except OSError as error:
                raise FetchError("connection_failed", f"cannot reach {url}: {error}", url) from None
            try:
                return self._read_response(response, url, max_bytes, truncate)
            finally:
                response.release_conn()

    def _transport_error(self, error: Exception, url: str) -> FetchError:
        if isinstance(error, NameResolutionError):
            return FetchError("dns_failure", f"cannot resolve the host of {url}", url)
        # Before ConnectTimeoutError: urllib3 2.x derives NewConnectionError from it, but
        # it is raised when the connect attempt failed (refused, no route), often at
        # once, and reading it as a timeout reported a refused port as 5 s of waiting.
        if isinstance(error, NewConnectionError):
            return FetchError("connection_failed", f"cannot reach {url}: {_connect_failure(error)}", url)
        if isinstance(error, ConnectTimeoutError):
            return FetchError("connect_timeout", f"no connection to {url} within {self.config.connect_timeout_s} s", url)
        if isinstance(error, ReadTimeoutError):
            return FetchError("read_timeout", f"{url} sent nothing for {self.config.read_timeout_s} s", url)
        if isinstance(error, SSLError):
            return FetchError("tls_error", f"TLS failed for {url}: {error}", url)
        if isinstance(error, ProtocolError):
            return FetchError("connection_failed", f"connection to {url} broke: {error}", url)
        return FetchError("connection_failed", f"cannot reach {url}: {error}", url)

    def _read_response(self, response, url: str, max_bytes: int, truncate: bool) -> FetchResult:
        status = response.status
        headers = {name.lower(): value for name, value in response.headers.items()}
        if status in REDIRECT_STATUSES or status == 304:
            # Read a short body so the connection can be reused; a long one
            # closes the connection instead of being read.
            self._read_capped(response, url, _ERROR_BODY_BYTES, headers, truncate=True)
            return FetchResult(url, status, headers, b"")
        if status >= 400 or status < 200:
            snippet = self._read_capped(response, url, _ERROR_BODY_BYTES, headers, truncate=True)
            retry_after = parse_retry_after(headers.get("retry-after")) if status in (429, 503) else None
            detail = f"HTTP {status} from {url}"
            if retry_after is not None:
                detail += f" (Retry-After {retry_after:.0f} s)"
            raise FetchError(_reason_for_status(status), detail, url, status=status, retry_after_s=retry_after, body=snippet)
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > max_bytes and not truncate:
            response.close()
            raise FetchError(
                "body_too_large", f"{url} declares {int(declared)} bytes, more than the {max_bytes}-byte cap", url, status=status
            )
        body = self._read_capped(response, url, max_bytes, headers, truncate)
        return FetchResult(url, status, headers, body)

    def _read_capped(self, response, url: str, max_bytes: int, headers: Mapping[str, str], truncate: bool) -> bytes:
        deadline = time.monotonic() + self.config.total_timeout_s
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in response.stream(min(_CHUNK_BYTES, max_bytes + 1), decode_content=True):
                total += len(chunk)
                if total > max_bytes:
                    response.close()
                    if truncate:
                        chunks.append(chunk[: len(chunk) - (total - max_bytes)])
                        return b"".join(chunks)
                    encoding = headers.get("content-encoding", "").strip().lower()
                    if encoding and encoding != "identity":
                        raise FetchError(
                            "decompressed_too_large",
                            f"{url} ({encoding}) inflates past the {max_bytes}-byte cap",
                            url,
                            status=response.status,
                        )
                    raise FetchError("body_too_large", f"{url} sent more than the {max_bytes}-byte cap", url, status=response.status)
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    response.close()
                    raise FetchError(
                        "total_timeout", f"{url} took more than {self.config.total_timeout_s} s to send its body", url, status=response.status
                    )
        except ReadTimeoutError:
            response.close()
            raise FetchError("read_timeout", f"{url} stalled for {self.config.read_timeout_s} s mid-body", url, status=response.status) from None
        except DecodeError as error:
            response.close()
            raise FetchError("bad_content_encoding", f"{url} body does not decode: {error}", url, status=response.status) from None
        except (ProtocolError, SSLError, OSError) as error:
            response.close()
            raise FetchError("truncated_body", f"{url} body cut short: {error}", url, status=response.status) from None
        return b"".join(chunks)

    # -------------------------------------------------------------- robots.txt

    def robots_allows(self, url: str) -> bool:
        """Whether robots.txt of the URL's host lets newsbeam fetch it.

        Raises FetchError only for POLICY_REASONS (the page itself would fail
        the same way); every other robots.txt failure follows RFC 9309.
        """
        scheme, host = check_url(url)
        parts = urlsplit(url)
        origin = f"{scheme}://{parts.netloc.rsplit('@', 1)[-1].lower()}"
        entry = self._robots_entry(origin, host)
        if entry.allow_all:
            return True
        if entry.rules is None:
            return False
        return entry.rules.can_fetch(url, ROBOTS_AGENT_TOKEN)

    def _robots_entry(self, origin: str, host: str) -> _RobotsEntry:
        now = time.monotonic()
        with self._robots_lock:
            entry = self._robots.get(origin)
            if entry is not None and entry.expires > now:
                self._robots.move_to_end(origin)
                return entry
        entry = self._load_robots(origin, host, now)
        with self._robots_lock:
            self._robots[origin] = entry
            while len(self._robots) > 10_000:
                self._robots.popitem(last=False)
        return entry

    def _load_robots(self, origin: str, host: str, now: float) -> _RobotsEntry:
        try:
            result = self.get(f"{origin}/robots.txt", max_bytes=self.config.max_robots_bytes, truncate=True)
        except FetchError as error:
            if error.reason in POLICY_REASONS:
                raise
            if error.status is not None and 400 <= error.status < 500:
                return _RobotsEntry(now + self.config.robots_cache_s, None, allow_all=True)
            return _RobotsEntry(now + min(self.config.robots_cache_s, self.config.robots_error_cache_s), None)
        rules = Protego.parse(result.body.decode("utf-8", errors="replace"))
        delay = rules.crawl_delay(ROBOTS_AGENT_TOKEN)
        if delay:
            self.gate.raise_delay(host, min(float(delay), self.config.max_crawl_delay_s))
        return _RobotsEntry(now + self.config.robots_cache_s, rules)
