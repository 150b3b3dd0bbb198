"""Bytes of a dump file -> text, with the encoding that was found, or a refusal.

Pure functions (no Beam), used by `transforms.read_files`. A file is refused
(raising `RefusedInput` with a stable reason code) only when it holds no text:

- `empty_file`: no bytes, or only whitespace once decoded;
- `binary_file`: a known binary magic number at offset 0 (PNG, JPEG, GIF,
  PDF, ZIP, 7z, RAR, xz, zstd, bzip2, ELF, OLE2, Parquet, SQLite), or NUL bytes
  that are not the NUL pattern of UTF-16/UTF-32, or more than
  `MAX_CONTROL_SHARE` (5 %) of control bytes other than tab, line feed,
  vertical tab, form feed, carriage return and escape in the first
  `SNIFF_BYTES` (64 KiB);
- `corrupt_gzip`: a `.gz` file (or gzip-magic data) that does not decompress;
- `file_too_large`: more than the caller's byte limit, counted after
  decompression;
- `unknown_encoding`: not UTF-8 and no encoding charset_normalizer trusts.

Everything else is decoded, never refused, in this order (the first rule that
applies wins):

1. A byte-order mark: UTF-32 LE/BE, UTF-8, UTF-16 LE/BE (the BOM is dropped).
2. UTF-16/UTF-32 without a BOM, recognised by its NUL pattern: in the sample,
   at least 40 % of the bytes at one parity (even or odd offsets) are NUL and at
   most 5 % at the other.
3. Strict UTF-8.
4. A charset declared in the document (HTML `<meta charset>`, the
   `http-equiv` content type, or an XML declaration), when it decodes the
   bytes strictly. `iso-8859-1`, `latin1` and `ascii` are read as
   windows-1252, as browsers do (WHATWG Encoding Standard). A declared UTF-8 is
   not trusted over the bytes: rule 5 decides.
5. Mostly-valid UTF-8: the bytes hold valid multi-byte UTF-8 sequences, and
   they are at least `UTF8_MIN_VALID_SHARE` (20 %) of all non-ASCII sequences,
   valid ones plus invalid runs (a stray byte, or a sequence cut short). Valid
   multi-byte sequences almost never arise by chance in single-byte code pages
   (a windows-1252 text with a hundred accented letters has at most one or
   two), so this is UTF-8 with a few damaged bytes: each invalid run becomes
   U+FFFD and `Decoded.replaced` counts them.
6. Western single-byte text: at most `WESTERN_MAX_NON_ASCII_SHARE` (20 %) of
   the bytes are non-ASCII and windows-1252 decodes every byte -> windows-1252
   (a superset of the printable Latin-1 range). charset_normalizer's guesses on
   short, mostly-ASCII texts are unreliable (it calls "It’s fine" in
   windows-1252 Big5-HKSCS), while a Latin-script text in a single-byte code
   page is mostly ASCII. Known limit: an undeclared Central European
   (windows-1250) text is read as windows-1252, so a few letters (ś, ź, ł) come
   out wrong; HTML pages usually declare their charset (rule 4).
7. charset_normalizer's best guess (Cyrillic, Greek, CJK... code pages).
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import re
import zlib
from dataclasses import dataclass
from typing import IO, Optional

import charset_normalizer
import zstandard

SNIFF_BYTES = 64 * 1024
MAX_CONTROL_SHARE = 0.05
UTF8_MIN_VALID_SHARE = 0.2
WESTERN_MAX_NON_ASCII_SHARE = 0.20
WIDE_NUL_SHARE = 0.40
WIDE_OTHER_NUL_SHARE = 0.05
DECLARATION_SCAN_BYTES = 4096

GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_CHUNK = 256 * 1024
# The compressions dumps of text corpora come in besides gzip (dolma's and the Pile's .zst,
# Wikipedia's and news archives' .bz2, .xz), by the magic number their data opens with.
COMPRESSION_MAGIC: dict[str, bytes] = {
    "gzip": GZIP_MAGIC,
    "bzip2": b"BZh",
    "xz": b"\xfd7zXZ\x00",
    "zstd": b"\x28\xb5\x2f\xfd",
}

BINARY_MAGIC_NUMBERS: dict[bytes, str] = {
    b"\x89PNG\r\n\x1a\n": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF87a": "GIF image",
    b"GIF89a": "GIF image",
    b"%PDF-": "PDF document",
    b"PK\x03\x04": "ZIP archive (also docx/xlsx/epub; an archive of dumps is read when named .zip)",
    b"PK\x05\x06": "empty ZIP archive",
    b"7z\xbc\xaf\x27\x1c": "7z archive",
    b"Rar!\x1a\x07": "RAR archive",
    b"\xfd7zXZ\x00": "xz archive",
    b"\x28\xb5\x2f\xfd": "zstd archive",
    b"BZh91AY&SY": "bzip2 archive",
    b"\x7fELF": "ELF executable",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "OLE2 document (doc/xls)",
    b"PAR1": "Parquet file",
    b"SQLite format 3\x00": "SQLite database",
}

# Checked longest first: the UTF-32 LE BOM begins with the UTF-16 LE BOM.
BYTE_ORDER_MARKS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Control bytes that do not occur in text (tab, LF, VT, FF, CR and ESC do).
_CONTROL_BYTES = bytes(b for b in range(0x20) if b not in b"\t\n\x0b\x0c\r\x1b") + b"\x7f"
_HIGH_BYTES = bytes(range(0x80, 0x100))
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")

_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)"""
    rb"""|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""",
    re.IGNORECASE,
)

# WHATWG: these labels mean windows-1252 on the web.
_WINDOWS_1252_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "ascii", "us-ascii", "cp819"}


def error_message(error: BaseException) -> str:
    """An exception's message on one line, cut to 300 characters, for a dead letter's detail."""
    return " ".join(str(error).split())[:300] or type(error).__name__


class RefusedInput(Exception):
    """An input that cannot become an article, with a stable reason code."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text decoded from bytes, with how it was decoded."""

    text: str
    encoding: str  # Python codec name, e.g. "utf-8", "cp1252", "utf-16-le"
    replaced: int = 0  # invalid byte runs replaced by U+FFFD



def decompressing_reader(stream: IO[bytes], codec: str) -> IO[bytes]:
    """A readable, line-reading stream of `stream` decompressed with `codec` (COMPRESSION_MAGIC's names)."""
    if codec == "gzip":
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if codec == "bzip2":
        return bz2.BZ2File(stream, mode="rb")
    if codec == "xz":
        return lzma.LZMAFile(stream, mode="rb")
    if codec == "zstd":
        return io.BufferedReader(_ZstdFrames(stream))
    raise ValueError(f"unknown compression {codec!r}")


class _ZstdFrames(io.RawIOBase):
    """zstd frames, one after another, that refuse to end in the middle of a frame.

    zstandard's own stream reader returns what it has when its input stops mid-frame,
    so a truncated download would read as a shorter, complete-looking file.
    """

    def __init__(self, source: IO[bytes]):
        self._source = source
        self._context = zstandard.ZstdDecompressor()
        self._frame = None
        self._pending = b""
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending and not self._ended:
            chunk = self._source.read(_ZSTD_CHUNK)
            if not chunk:
                if self._frame is not None and not self._frame.eof:
                    raise zstandard.ZstdError("the data ends in the middle of a zstd frame (truncated)")
                self._ended = True
                break
            self._inflate(chunk)
        taken = min(len(buffer), len(self._pending))
        buffer[:taken] = self._pending[:taken]
        self._pending = self._pending[taken:]
        return taken

    def _inflate(self, data: bytes) -> None:
        while data:
            if self._frame is None or self._frame.eof:
                self._frame = self._context.decompressobj()
            self._pending += self._frame.decompress(data)
            data = self._frame.unused_data if self._frame.eof else b""


# What a decompressor raises on data that is not what it claims to be, or that ends early.
DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, zstandard.ZstdError)


def read_up_to(stream: IO[bytes], limit: int) -> tuple[bytes, Optional[BaseException]]:
    """Up to `limit` bytes, piece by piece (`read1` where the stream has it), and the error that
    stopped the reading short, if one did. A decompressor asked for more than a cut file holds
    raises, and one large read that fails takes what it had decompressed with it."""
    data = bytearray()
    read_some = getattr(stream, "read1", stream.read)
    try:
        while len(data) < limit:
            piece = read_some(limit - len(data))
            if not piece:
                break
            data += piece
    except DECOMPRESSION_ERRORS as error:
        return bytes(data), error
    return bytes(data), None


def corrupt_compression(codec: str, error: BaseException) -> RefusedInput:
    """The refusal of data that does not decompress (gzip's reason kept as it always was)."""
    reason = "corrupt_gzip" if codec == "gzip" else "corrupt_compression"
    return RefusedInput(reason, f"{codec} data does not decompress: {error}")


def decompress(data: bytes, codec: str, max_bytes: int) -> bytes:
    """Decompress whole `data`, refusing corrupt or oversized input."""
    if codec == "gzip":
        return gunzip(data, max_bytes)
    try:
        with decompressing_reader(io.BytesIO(data), codec) as stream:
            out = stream.read(max_bytes + 1)
    except DECOMPRESSION_ERRORS as error:
        raise corrupt_compression(codec, error) from error
    if len(out) > max_bytes:
        raise RefusedInput("file_too_large", f"decompresses to more than the limit of {max_bytes} bytes")
    return out


def gunzip(data: bytes, max_bytes: int) -> bytes:
    """Decompress gzip data (all members), refusing corrupt or oversized input."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            out = stream.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise RefusedInput("corrupt_gzip", f"gzip data does not decompress: {error}") from error
    if len(out) > max_bytes:
        raise RefusedInput(
            "file_too_large", f"decompresses to more than the limit of {max_bytes} bytes"
        )
    return out


def binary_signature(head: bytes) -> Optional[str]:
    """Why these leading bytes are binary, or None when they may be text."""
    for magic, kind in BINARY_MAGIC_NUMBERS.items():
        if head.startswith(magic):
            return f"starts with the magic number of a {kind}"
    sample = head[:SNIFF_BYTES]
    if not sample or bom_encoding(sample) or wide_encoding(sample):
        return None
    if b"\x00" in sample:
        return f"holds NUL bytes ({sample.count(0)} in the first {len(sample)} bytes) outside UTF-16/32"
    controls = sum(sample.count(b) for b in _CONTROL_BYTES)
    if controls > MAX_CONTROL_SHARE * len(sample):
        return (
            f"{controls / len(sample):.0%} of the first {len(sample)} bytes are control bytes "
            f"(limit {MAX_CONTROL_SHARE:.0%})"
        )
    return None


def bom_encoding(data: bytes) -> Optional[str]:
    return _bom(data)[0]


def _bom(data: bytes) -> tuple[Optional[str], int]:
    """(encoding, BOM length) of a leading byte-order mark, or (None, 0)."""
    for bom, encoding in BYTE_ORDER_MARKS:
        if data.startswith(bom):
            return encoding, len(bom)
    return None, 0


def wide_encoding(sample: bytes) -> Optional[str]:
    """UTF-16/32 without a BOM, from where the NUL bytes sit (ASCII-heavy text)."""
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    for width, names in ((4, ("utf-32-le", "utf-32-be")), (2, ("utf-16-le", "utf-16-be"))):
        usable = len(sample) - len(sample) % width
        if usable == 0:
            continue
        units = usable // width
        # Share of code units whose high (LE) or low (BE) bytes are all NUL.
        le_high = sum(1 for i in range(0, usable, width) if sample[i + 1 : i + width] == bytes(width - 1))
        be_high = sum(1 for i in range(0, usable, width) if sample[i : i + width - 1] == bytes(width - 1))
        le_low_nul = sample[0:usable:width].count(0)
        be_low_nul = sample[width - 1 : usable : width].count(0)
        if le_high >= WIDE_NUL_SHARE * units and le_low_nul <= WIDE_OTHER_NUL_SHARE * units:
            return names[0]
        if be_high >= WIDE_NUL_SHARE * units and be_low_nul <= WIDE_OTHER_NUL_SHARE * units:
            return names[1]
    return None


def declared_charset(data: bytes) -> Optional[str]:
    """The codec named by an HTML meta tag or XML declaration, if Python knows it."""
    match = _DECLARED_CHARSET.search(data[:DECLARATION_SCAN_BYTES])
    if not match:
        return None
    label = (match.group(1) or match.group(2)).decode("ascii").strip().lower()
    if label in _WINDOWS_1252_LABELS:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def utf8_damage(data: bytes) -> tuple[int, int]:
    """(valid multi-byte UTF-8 sequences, invalid byte runs) in the data.

    An invalid run is what one U+FFFD replaces: a stray byte, or a multi-byte
    sequence cut short.
    """
    valid = data.decode("utf-8", errors="ignore")
    valid_multibyte = len(valid) - len(valid.encode("ascii", errors="ignore"))
    replaced = data.decode("utf-8", errors="replace").count("\ufffd")
    return valid_multibyte, replaced - valid.count("\ufffd")


def _strict(data: bytes, encoding: str) -> Optional[str]:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _with_replacement(data: bytes, encoding: str) -> Decoded:
    text = data.decode(encoding, errors="replace")
    # U+FFFD characters already present in the data survive errors="ignore".
    literal = data.decode(encoding, errors="ignore").count("\ufffd")
    return Decoded(text, encoding, replaced=text.count("\ufffd") - literal)


def _mostly_utf8(data: bytes) -> bool:
    """Rule 5: valid multi-byte sequences, enough of them beside the invalid runs."""
    valid_multibyte, invalid = utf8_damage(data)
    return valid_multibyte > 0 and valid_multibyte >= UTF8_MIN_VALID_SHARE * (valid_multibyte + invalid)


def decode_bytes(data: bytes, *, honour_declaration: bool = False) -> Decoded:
    """Decode a whole document by the module's rules, or raise RefusedInput.

    `honour_declaration` turns on rule 4 (for HTML and XML documents).
    """
    if not data:
        raise RefusedInput("empty_file", "the file has no bytes")
    binary = binary_signature(data[:SNIFF_BYTES])
    if binary:
        raise RefusedInput("binary_file", f"not text: {binary}")

    decoded = _decode_text(data, honour_declaration)
    if _CONTROL_CHARS.search(decoded.text[:SNIFF_BYTES]):
        controls = len(_CONTROL_CHARS.findall(decoded.text[:SNIFF_BYTES]))
        sample_chars = min(len(decoded.text), SNIFF_BYTES)
        if controls > MAX_CONTROL_SHARE * sample_chars:
            raise RefusedInput(
                "binary_file",
                f"not text: decoded as {decoded.encoding}, {controls} of {sample_chars} characters are control characters",
            )
    if not decoded.text.strip():
        raise RefusedInput("empty_file", f"the file holds only whitespace ({len(data)} bytes)")
    return decoded


def _decode_text(data: bytes, honour_declaration: bool) -> Decoded:
    bom, bom_length = _bom(data)
    if bom:
        body = data[bom_length:]
        text = _strict(body, bom)
        return Decoded(text, bom) if text is not None else _with_replacement(body, bom)

    wide = wide_encoding(data[:SNIFF_BYTES])
    if wide:
        text = _strict(data, wide)
        return Decoded(text, wide) if text is not None else _with_replacement(data, wide)

    text = _strict(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8")

    if honour_declaration:
        declared = declared_charset(data)
        if declared and declared != "utf-8":
            text = _strict(data, declared)
            if text is not None:
                return Decoded(text, declared)

    if _mostly_utf8(data):
        return _with_replacement(data, "utf-8")

    non_ascii = len(data) - len(data.translate(None, _HIGH_BYTES))
    if non_ascii <= WESTERN_MAX_NON_ASCII_SHARE * len(data):
        text = _strict(data, "cp1252")
        if text is not None:
            return Decoded(text, "cp1252")

    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise RefusedInput(
            "unknown_encoding",
            f"not UTF-8 ({utf8_damage(data)[1]} invalid bytes) and no other text encoding fits the bytes",
        )
    return Decoded(str(best), codecs.lookup(best.encoding).name)


def line_decoder_for(head: bytes) -> "LineDecoder":
    """How to decode the lines of a line-oriented file (JSONL) from its first bytes.

    For ASCII-compatible encodings each line is decoded on its own: strict
    UTF-8, then mostly-valid UTF-8 (rule 5), then the file's fallback code page
    (what rules 6-7 find for the head sample, windows-1252 when the head is
    UTF-8), with replacement characters.
    """
    wide = bom_encoding(head) or wide_encoding(head[:SNIFF_BYTES])
    if wide and wide != "utf-8":
        return LineDecoder(stream_encoding=wide, fallback_encoding=wide)
    sample = head[len(codecs.BOM_UTF8) :] if head.startswith(codecs.BOM_UTF8) else head
    fallback = "cp1252"
    if _incremental_utf8(sample) is None and not _mostly_utf8(sample):
        try:
            fallback = _decode_text(sample, honour_declaration=False).encoding
        except RefusedInput:
            fallback = "cp1252"
    return LineDecoder(stream_encoding=None, fallback_encoding=fallback)


def _incremental_utf8(sample: bytes) -> Optional[str]:
    """Strict UTF-8 decode of a sample that may end inside a character."""
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True, slots=True)
class LineDecoder:
    """Decodes a file line by line.

    `stream_encoding` is set for UTF-16/32 files, whose lines cannot be split
    on the byte b"\\n": the reader then wraps the whole stream in that codec.
    """

    stream_encoding: Optional[str]
    fallback_encoding: str

    def decode(self, line: bytes) -> Decoded:
        if line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        text = _strict(line, "utf-8")
        if text is not None:
            return Decoded(text, "utf-8")
        if _mostly_utf8(line):
            return _with_replacement(line, "utf-8")
        return _with_replacement(line, self.fallback_encoding)
