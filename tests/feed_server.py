"""A real HTTP server on 127.0.0.1 for the feed tests and the feed benchmark.

It serves, with no mocks anywhere:
- `/files/<path>`: the real feed files of ../shared/data/feeds/ byte for byte,
  with the HTTP headers their index lists (as feedparser's own suite does);
- `/pages/ae/<id>` and `/pages/utomo/<id>`: the real HTML pages of
  article_extraction/ and web_extraction_utomo/ (bytes as stored, the former
  declared UTF-8, the latter with no charset, as old servers did);
- `/synthetic/<n>.xml?items=K`: an RSS feed of K items whose links are those
  pages, with a strong ETag and Last-Modified and 304 answers (benchmark);
- `/fault/...`: one route per fault of the feed fault matrix (see `_routes`);
- `/robots.txt`: disallows `/private-pages/` for every agent;
- and, with no server at all, `closed_port()`: a loopback port that refuses.
Tests add their own routes with `FeedServer.route(path, responder)`.

Every request is logged (path, headers, time) so tests can check what the
client sent: conditional headers, User-Agent, how many tries.

Run alone (the benchmark does, so the server has its own GIL), until Ctrl-C:
    python -m tests.feed_server --port 8000  # prints "READY 8000"
    newsbeam run --feed http://127.0.0.1:8000/synthetic/1.xml --output out --allow-private-network
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import hashlib
import json
import pathlib
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable, Optional, Union
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
FEEDS_DIR = DATA / "feeds"
AE_DIR = DATA / "article_extraction"
UTOMO_DIR = DATA / "web_extraction_utomo"

LONG_SUMMARY = (
    "Defence ministers of India and the United States signed a ten-year framework for defence"
    " cooperation in Kuala Lumpur on Friday, promising closer coordination, information sharing"
    " and technological collaboration between the two militaries over the coming decade."
)
SHORT_SUMMARY = "Read more."
FIXED_DATE = "Fri, 31 Oct 2025 10:00:00 GMT"


@dataclass
class Request:
    method: str
    path: str  # with the query string
    headers: dict[str, str]
    at: float
    client_port: int = 0

    @property
    def route(self) -> str:
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Union[bytes, Iterable[bytes]] = b""
    delay_s: float = 0.0  # before the status line
    chunk_interval_s: float = 0.0  # between body chunks (streamed bodies)


Responder = Callable[[Request], Response]


def rss(title: str, items: Iterable[dict], *, link: str = "http://127.0.0.1/", language: str = "en") -> bytes:
    """An RSS 2.0 document; each item dict may have guid, link, title, summary, pubDate, content, source."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        f"<channel><title>{escape(title)}</title><link>{escape(link)}</link><language>{language}</language>",
    ]
    for item in items:
        parts.append("<item>")
        if "guid" in item:
            parts.append(f'<guid isPermaLink="false">{escape(item["guid"])}</guid>')
        for key in ("title", "link", "pubDate"):
            if key in item:
                parts.append(f"<{key}>{escape(item[key])}</{key}>")
        if "summary" in item:
            parts.append(f"<description>{escape(item['summary'])}</description>")
        if "content" in item:
            parts.append(f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>")
        if "source" in item:  # (publisher name, its URL), as aggregators list it
            name, url = item["source"]
            parts.append(f'<source url="{escape(url)}">{escape(name)}</source>')
        if "updated" in item:
            parts.append(f"<atom:updated xmlns:atom=\"http://www.w3.org/2005/Atom\">{escape(item['updated'])}</atom:updated>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


def closed_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (bound, then released): a connect there is refused at once."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _load_jsonl_gz(path: pathlib.Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


class FeedServer:
    """Start with `FeedServer().start()`; `stop()` when done."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._routes: dict[str, Responder] = {}
        self._prefix_routes: list[tuple[str, Responder]] = []
        self.requests: list[Request] = []
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._feed_index = {row["path"]: row for row in _load_jsonl_gz(FEEDS_DIR / "index.dev.jsonl.gz")}
        self.ae_pages = {row["id"]: row for row in _load_jsonl_gz(AE_DIR / "ground_truth.dev.jsonl.gz")}
        self.utomo_pages = {row["id"]: row for row in _load_jsonl_gz(UTOMO_DIR / "ground_truth.dev.jsonl.gz")}
        self._page_cache: dict[tuple[str, str], bytes] = {}
        self._bomb: Optional[bytes] = None
        self.log_requests = True
        self.in_flight = 0
        self.peak_in_flight = 0
        self._register_builtin_routes()
        handler = type("Handler", (_Handler,), {"server_app": self})
        self._httpd = _QuietServer((host, port), handler)
        self._thread: Optional[threading.Thread] = None

    # -------------------------------------------------------------- control

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> "FeedServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="feed-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def route(self, path: str, responder: Responder) -> None:
        """Serve `path` (exact) or, ending in '/', every path under it."""
        if path.endswith("/"):
            self._prefix_routes.insert(0, (path, responder))
        else:
            self._routes[path] = responder

    def hits(self, route: str) -> int:
        with self._lock:
            return self._counts.get(route, 0)

    def requests_to(self, route: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.route == route]

    def next_count(self, key: str) -> int:
        """1 on the first call for key, 2 on the second, ..."""
        with self._lock:
            self._counts["count:" + key] = self._counts.get("count:" + key, 0) + 1
            return self._counts["count:" + key]

    def _record(self, request: Request) -> None:
        with self._lock:
            if self.log_requests:
                self.requests.append(request)
            self._counts[request.route] = self._counts.get(request.route, 0) + 1

    def _responder_for(self, route: str) -> Optional[Responder]:
        if route in self._routes:
            return self._routes[route]
        for prefix, responder in self._prefix_routes:
            if route.startswith(prefix):
                return responder
        return None

    # -------------------------------------------------------------- content

    def feed_file(self, relative: str) -> tuple[bytes, dict[str, str]]:
        """The bytes of a feed file (`files/...` path) and the headers its index gives."""
        path = "files/" + relative if not relative.startswith("files/") else relative
        row = self._feed_index[path]
        return (FEEDS_DIR / path).read_bytes(), dict(row.get("http_headers") or {})

    def feed_rows(self) -> list[dict]:
        return list(self._feed_index.values())

    def page_bytes(self, collection: str, page_id: str) -> bytes:
        key = (collection, page_id)
        if key not in self._page_cache:
            rows, folder = (self.ae_pages, AE_DIR) if collection == "ae" else (self.utomo_pages, UTOMO_DIR)
            with gzip.open(folder / rows[page_id]["html_file"], "rb") as handle:
                self._page_cache[key] = handle.read()
        return self._page_cache[key]

    def page_url(self, collection: str, page_id: str, suffix: str = "") -> str:
        return self.url(f"/pages/{collection}/{page_id}{suffix}")

    def gzip_bomb(self) -> bytes:
        """gzip of 1 GiB of zeros (about 1 MiB on the wire): 64 gzip members of
        16 MiB each, which every gzip reader concatenates."""
        if self._bomb is None:
            self._bomb = gzip.compress(b"\0" * (16 * 2**20), compresslevel=9) * 64
        return self._bomb

    def synthetic_feed(self, number: int, items: int) -> bytes:
        page_ids = sorted(self.ae_pages)
        entries = []
        for index in range(items):
            page_id = page_ids[(number * items + index) % len(page_ids)]
            entries.append(
                {
                    "guid": f"synthetic-{number}-{index}",
                    "link": self.page_url("ae", page_id, f"?feed={number}&item={index}"),
                    "title": f"Item {index} of feed {number}",
                    "summary": SHORT_SUMMARY,
                    "pubDate": FIXED_DATE,
                }
            )
        return rss(f"Synthetic feed {number}", entries, link=self.base_url)

    # -------------------------------------------------------------- routes

    def _register_builtin_routes(self) -> None:
        self.route("/robots.txt", lambda r: Response(200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private-pages/\n"))
        self.route("/files/", self._serve_feed_file)
        self.route("/pages/", self._serve_page)
        self.route("/private-pages/", self._serve_page)
        self.route("/synthetic/", self._serve_synthetic)
        for path, responder in _fault_routes(self).items():
            self.route(path, responder)

    def _serve_feed_file(self, request: Request) -> Response:
        try:
            body, headers = self.feed_file(request.route[len("/files/"):])
        except KeyError:
            return Response(404, {"Content-Type": "text/plain"}, b"no such feed file")
        # As feedparser's own test server: application/xml unless the file says otherwise.
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/xml"
        return Response(200, headers, body)

    def _serve_page(self, request: Request) -> Response:
        parts = request.route.strip("/").split("/")
        collection, page_id = parts[1], parts[2]
        rows = self.ae_pages if collection == "ae" else self.utomo_pages
        if page_id not in rows:
            return Response(404, {"Content-Type": "text/html"}, b"<html><body>not found</body></html>")
        content_type = "text/html; charset=utf-8" if collection == "ae" else "text/html"
        return Response(200, {"Content-Type": content_type}, self.page_bytes(collection, page_id))

    def _serve_synthetic(self, request: Request) -> Response:
        number = int(request.route.rsplit("/", 1)[-1].split(".")[0])
        items = int(request.query.get("items", "20"))
        body = self.synthetic_feed(number, items)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        headers = {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": etag, "Last-Modified": FIXED_DATE}
        if request.headers.get("if-none-match") == etag or request.headers.get("if-modified-since") == FIXED_DATE:
            return Response(304, {"ETag": etag, "Last-Modified": FIXED_DATE})
        return Response(200, headers, body)


def _fault_routes(server: FeedServer) -> dict[str, Responder]:
    """The fault matrix, one route each."""
    ae_ids = sorted(server.ae_pages)
    xml = {"Content-Type": "application/rss+xml; charset=utf-8"}

    def page_items(count: int, summary: str = SHORT_SUMMARY, offset: int = 0) -> list[dict]:
        return [
            {
                "guid": f"item-{offset + i}",
                "link": server.page_url("ae", ae_ids[(offset + i) % len(ae_ids)]),
                "title": f"Story {offset + i}",
                "summary": summary,
                "pubDate": FIXED_DATE,
            }
            for i in range(count)
        ]

    def good_feed(count: int = 2) -> bytes:
        return rss("Good feed", page_items(count), link=server.base_url)

    def slow(request: Request) -> Response:
        return Response(200, xml, good_feed(), delay_s=float(request.query.get("delay", "3")))

    def drip(request: Request) -> Response:
        chunks = [b"<?xml version='1.0'?><rss version='2.0'><channel><title>drip</title>"] + [b" " * 16] * int(request.query.get("chunks", "50"))
        return Response(200, {"Content-Type": "application/rss+xml"}, iter(chunks), chunk_interval_s=float(request.query.get("interval", "0.1")))

    def status(request: Request) -> Response:
        code = int(request.route.rsplit("/", 1)[-1])
        return Response(code, {"Content-Type": "text/plain"}, f"status {code}".encode())

    def retry_after(request: Request) -> Response:
        key = request.query.get("key", "default")
        fails = int(request.query.get("fails", "1"))
        if server.next_count("retry-after:" + key) <= fails:
            code = int(request.query.get("status", "429"))
            return Response(code, {"Retry-After": request.query.get("after", "1"), "Content-Type": "text/plain"}, b"slow down")
        return Response(200, xml, good_feed())

    def retry_after_date(request: Request) -> Response:
        key = request.query.get("key", "default")
        if server.next_count("retry-after-date:" + key) <= 1:
            when = email.utils.formatdate(time.time() + float(request.query.get("after", "1")) + 1, usegmt=True)
            return Response(503, {"Retry-After": when, "Content-Type": "text/plain"}, b"unavailable")
        return Response(200, xml, good_feed())

    def flaky(request: Request) -> Response:
        key = request.query.get("key", "default")
        if server.next_count("flaky:" + key) <= int(request.query.get("fails", "1")):
            return Response(500, {"Content-Type": "text/plain"}, b"oops")
        return Response(200, xml, good_feed())

    def oversized(request: Request) -> Response:
        size = int(request.query.get("bytes", str(3 * 2**20)))
        body = b"<?xml version='1.0'?><rss version='2.0'><channel><title>big</title>" + b" " * size + b"</channel></rss>"
        if request.query.get("declare", "1") == "1":
            return Response(200, {"Content-Type": "application/rss+xml"}, body)
        return Response(200, {"Content-Type": "application/rss+xml"}, (body[i : i + 65536] for i in range(0, len(body), 65536)))

    def bomb(request: Request) -> Response:
        return Response(200, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}, server.gzip_bomb())

    def redirect_loop(request: Request) -> Response:
        target = "/fault/redirect-loop/b" if request.route.endswith("/a") else "/fault/redirect-loop/a"
        return Response(302, {"Location": target}, b"")

    def redirect_chain(request: Request) -> Response:
        remaining = int(request.route.rsplit("/", 1)[-1])
        if remaining == 0:
            return Response(200, xml, good_feed())
        return Response(301, {"Location": f"/fault/redirect-chain/{remaining - 1}"}, b"")

    def redirect_to(request: Request) -> Response:
        return Response(302, {"Location": request.query["to"]}, b"")

    def malformed(request: Request) -> Response:
        body = good_feed(2).replace(b"</channel></rss>", b"<item><title>broken & unescaped <b>tag</title></item>")
        return Response(200, xml, body)

    def garbage(request: Request) -> Response:
        return Response(200, {"Content-Type": "application/rss+xml"}, b"<rss><channel><title>x</tit\x00le><<<>>> \xff\xfe not xml at all")

    def wrong_charset(request: Request) -> Response:
        body = rss("Caf\u00e9 news", page_items(2)).replace(b'encoding="utf-8"', b'encoding="windows-1252"')
        body = body.decode("utf-8").encode("cp1252")
        return Response(200, {"Content-Type": "application/rss+xml; charset=utf-8"}, body)

    def damaged_declaration(request: Request) -> Response:
        # one byte of the encoding's name flipped: feedparser 6 raised UnicodeDecodeError on it
        body = rss("News", page_items(2)).replace(b'encoding="utf-8"', b'encoding="utf\xd0\x38"')
        return Response(200, {"Content-Type": "application/rss+xml"}, body)

    def no_charset(request: Request) -> Response:
        body = rss("Caf\u00e9 news", page_items(2)).replace(b' encoding="utf-8"', b"")
        return Response(200, {"Content-Type": "text/xml"}, body)

    def html_as_feed(request: Request) -> Response:
        page = server.page_bytes("ae", ae_ids[0])
        page = page.replace(b"<head>", b'<head><link rel="alternate" type="application/rss+xml" href="/fault/good.xml">', 1)
        return Response(200, {"Content-Type": "text/html; charset=utf-8"}, page)

    def private_links(request: Request) -> Response:
        links = ["http://10.0.0.1/story", "http://192.168.1.10/story", "http://169.254.169.254/latest/meta-data/", "http://[::1]/story"]
        items = [
            {"guid": f"private-{i}", "link": link, "title": f"Internal {i}", "summary": LONG_SUMMARY, "pubDate": FIXED_DATE}
            for i, link in enumerate(links)
        ]
        return Response(200, xml, rss("Private links", items))

    def pages_failing(request: Request) -> Response:
        """Items whose pages fail, with and without a real summary to fall back on."""
        items = [
            {"guid": "fallback", "link": server.url("/fault/status/404"), "title": "Has summary", "summary": LONG_SUMMARY, "pubDate": FIXED_DATE},
            {"guid": "no-fallback", "link": server.url("/fault/status/500"), "title": "No summary", "summary": SHORT_SUMMARY, "pubDate": FIXED_DATE},
            {"guid": "robots", "link": server.url("/private-pages/ae/" + ae_ids[1]), "title": "Robots", "summary": LONG_SUMMARY, "pubDate": FIXED_DATE},
            {"guid": "not-html", "link": server.url("/fault/pdf"), "title": "PDF", "summary": SHORT_SUMMARY, "pubDate": FIXED_DATE},
            {"guid": "no-article", "link": server.url("/fault/empty-page"), "title": "Empty page", "summary": SHORT_SUMMARY, "pubDate": FIXED_DATE},
            {"guid": "javascript", "link": "javascript:alert(1)", "title": "Script link", "summary": LONG_SUMMARY, "pubDate": FIXED_DATE},
            {"guid": "no-link", "title": "No link", "summary": LONG_SUMMARY, "pubDate": FIXED_DATE},
        ]
        return Response(200, xml, rss("Failing pages", items))

    def growing(request: Request) -> Response:
        """Each poll lists more items (newest first) and drops the oldest beyond `window`."""
        key = request.query.get("key", "default")
        poll = server.next_count("growing:" + key)
        start, step, window = (int(request.query.get(k, d)) for k, d in (("start", "3"), ("step", "2"), ("window", "6")))
        total = start + step * (poll - 1)
        newest_first = list(reversed(page_items(total, LONG_SUMMARY)))[:window]
        return Response(200, xml, rss(f"Growing {key}", newest_first))

    def etag_constant(request: Request) -> Response:
        """A broken ETag: the same one for every version, and 304 whenever it matches."""
        key = request.query.get("key", "default")
        if request.headers.get("if-none-match") == '"same"':
            return Response(304, {"ETag": '"same"'})
        version = server.next_count("etag-constant:" + key)
        return Response(200, {**xml, "ETag": '"same"'}, rss("Constant ETag", page_items(version, LONG_SUMMARY)))

    def etag_random(request: Request) -> Response:
        """A new ETag on every response for the same bytes, and no 304 ever."""
        key = request.query.get("key", "default")
        count = server.next_count("etag-random:" + key)
        return Response(200, {**xml, "ETag": f'"v{count}"', "Last-Modified": email.utils.formatdate(time.time(), usegmt=True)}, good_feed(2))

    def etag_good(request: Request) -> Response:
        body = good_feed(2)
        etag = '"' + hashlib.sha1(body).hexdigest()[:12] + '"'
        if request.headers.get("if-none-match") == etag:
            return Response(304, {"ETag": etag})
        return Response(200, {**xml, "ETag": etag, "Last-Modified": FIXED_DATE}, body)

    def always_304(request: Request) -> Response:
        return Response(304, {})

    def local_path_body(request: Request) -> Response:
        return Response(200, {"Content-Type": "application/rss+xml"}, str(pathlib.Path(__file__).resolve()).encode())

    def billion_laughs(request: Request) -> Response:
        declarations = "".join(f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">\n' for i in range(1, 10))
        body = f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol0 "lol">\n{declarations}]>\n<rss version="2.0"><channel><title>&lol9;</title><item><title>a</title><link>http://127.0.0.1/a</link></item></channel></rss>'
        return Response(200, xml, body.encode())

    def quadratic(request: Request) -> Response:
        body = (
            '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "' + "x" * 50_000 + '">\n]>\n<rss version="2.0"><channel><title>'
            + "&a;" * 50_000 + "</title><item><title>a</title><link>http://127.0.0.1/a</link></item></channel></rss>"
        )
        return Response(200, xml, body.encode())

    return {
        "/fault/good.xml": lambda r: Response(200, xml, good_feed()),
        "/fault/slow": slow,
        "/fault/drip": drip,
        "/fault/status/": status,
        "/fault/retry-after": retry_after,
        "/fault/retry-after-date": retry_after_date,
        "/fault/flaky": flaky,
        "/fault/oversized": oversized,
        "/fault/gzip-bomb": bomb,
        "/fault/redirect-loop/": redirect_loop,
        "/fault/redirect-chain/": redirect_chain,
        "/fault/redirect-to": redirect_to,
        "/fault/malformed.xml": malformed,
        "/fault/garbage.xml": garbage,
        "/fault/wrong-charset.xml": wrong_charset,
        "/fault/no-charset.xml": no_charset,
        "/fault/damaged-declaration.xml": damaged_declaration,
        "/fault/html-as-feed": html_as_feed,
        "/fault/private-links.xml": private_links,
        "/fault/pages-failing.xml": pages_failing,
        "/fault/pdf": lambda r: Response(200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 not a page"),
        "/fault/empty-page": lambda r: Response(200, {"Content-Type": "text/html"}, b"<html><body><nav>Home</nav></body></html>"),
        "/fault/empty": lambda r: Response(200, xml, b""),
        "/fault/growing.xml": growing,
        "/fault/etag-constant.xml": etag_constant,
        "/fault/etag-random.xml": etag_random,
        "/fault/etag-good.xml": etag_good,
        "/fault/always-304": always_304,
        "/fault/local-path-body": local_path_body,
        "/fault/billion-laughs.xml": billion_laughs,
        "/fault/quadratic.xml": quadratic,
    }


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """Clients that hang up mid-response (timeouts, caps) are part of the tests."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY the body
    # waits for the client's delayed ACK (about 40 ms per response).
    disable_nagle_algorithm = True
    server_app: FeedServer

    def log_message(self, format, *args):  # keep test output clean
        pass

    def do_GET(self):
        app = self.server_app
        request = Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, time.time(), self.client_address[1])
        app._record(request)
        with app._lock:
            app.in_flight += 1
            app.peak_in_flight = max(app.peak_in_flight, app.in_flight)
        try:
            responder = app._responder_for(request.route)
            response = responder(request) if responder else Response(404, {"Content-Type": "text/plain"}, b"no route")
            if response.delay_s:
                time.sleep(response.delay_s)
            self._send(response)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True
        finally:
            with app._lock:
                app.in_flight -= 1

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if isinstance(response.body, (bytes, bytearray)):
            if response.status != 304:
                self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if response.status != 304:
                self.wfile.write(response.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in response.body:
            if response.chunk_interval_s:
                time.sleep(response.chunk_interval_s)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the feed test data on 127.0.0.1 until Ctrl-C.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--until-stdin-closes", action="store_true", help="stop when standard input closes (for a parent process)")
    args = parser.parse_args(argv)
    server = FeedServer(port=args.port)
    server.log_requests = False
    server.start()
    print(f"READY {server.port}", flush=True)
    try:
        if args.until_stdin_closes:
            while sys.stdin.buffer.read(1):
                pass
        else:
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
