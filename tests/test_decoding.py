"""Pure tests of transforms.decoding: bytes -> text, or the reason there is none."""

from __future__ import annotations

import codecs
import gzip
import json
import random

import pytest

from tests.conftest import FIXTURES, SHARED, require_shared
from transforms.decoding import (
    RefusedInput,
    binary_signature,
    declared_charset,
    decode_bytes,
    gunzip,
    line_decoder_for,
    wide_encoding,
)

BAD_INPUT = FIXTURES / "bad_input"
ARTICLE = (
    "Defence Minister Rajnath Singh on Friday met US Secretary of War Pete Hegseth in Kuala Lumpur, "
    "where the two leaders signed a 10-year ‘Framework for the US-India Major Defence Partnership’ "
    "– “This will usher in a new era,” Singh said.\n"
)


def refusal(data: bytes, **kwargs) -> RefusedInput:
    with pytest.raises(RefusedInput) as caught:
        decode_bytes(data, **kwargs)
    return caught.value


# --- byte-order marks and wide encodings ------------------------------------


@pytest.mark.parametrize(
    "bom, codec, expected",
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    ],
)
def test_byte_order_mark_is_honoured_and_dropped(bom, codec, expected):
    decoded = decode_bytes(bom + ARTICLE.encode(codec))
    assert decoded.encoding == expected
    assert decoded.text == ARTICLE
    assert decoded.replaced == 0


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_wide_encoding_without_bom_is_recognised_by_its_nul_pattern(codec):
    data = ARTICLE.encode(codec)
    assert wide_encoding(data) == codec
    assert decode_bytes(data).text == ARTICLE


def test_utf16_fixture_with_bom_decodes():
    decoded = decode_bytes((BAD_INPUT / "utf16_bom.txt").read_bytes())
    assert decoded.encoding == "utf-16-le"
    assert decoded.text.startswith("Three people have died during protests in Bolivia")
    assert "\ufeff" not in decoded.text and "\ufffd" not in decoded.text
    assert "“" in decoded.text  # the curly quotes survived


# --- UTF-8, damaged UTF-8, single-byte code pages -----------------------------


def test_strict_utf8():
    decoded = decode_bytes(ARTICLE.encode("utf-8"))
    assert (decoded.encoding, decoded.text, decoded.replaced) == ("utf-8", ARTICLE, 0)


def test_mostly_valid_utf8_keeps_utf8_and_marks_the_damage():
    data = bytearray(ARTICLE.encode("utf-8"))
    data[40:40] = b"\xff"
    decoded = decode_bytes(bytes(data))
    assert decoded.encoding == "utf-8"
    assert decoded.replaced == 1
    assert decoded.text.replace("\ufffd", "", 1) == ARTICLE
    assert "“This will usher" in decoded.text


def test_invalid_utf8_fixture_has_two_replacements():
    decoded = decode_bytes((BAD_INPUT / "invalid_utf8.txt").read_bytes())
    assert decoded.encoding == "utf-8"
    assert decoded.replaced == 2
    assert decoded.text.count("\ufffd") == 2
    assert "’" in decoded.text  # the undamaged apostrophes are still UTF-8


def test_literal_replacement_characters_are_not_counted_as_damage():
    decoded = decode_bytes("a \ufffd b — c".encode("utf-8") + b"\xff")
    assert decoded.replaced == 1


def test_windows_1252_smart_quotes_decode_not_refuse():
    decoded = decode_bytes(ARTICLE.encode("cp1252"))
    assert decoded.encoding == "cp1252"
    assert decoded.text == ARTICLE


def test_windows_1252_fixture():
    decoded = decode_bytes((BAD_INPUT / "cp1252_smart_quotes.txt").read_bytes())
    assert decoded.encoding == "cp1252"
    assert decoded.text.startswith("South Dakota Gov. Kristi Noem (R) is defending the state’s")
    assert "“" in decoded.text and "—" in decoded.text


def test_short_windows_1252_text_is_not_guessed_as_cjk():
    # charset_normalizer alone calls these bytes Big5-HKSCS.
    assert decode_bytes("It’s fine".encode("cp1252")).text == "It’s fine"


def test_latin1_text_reads_the_same_as_windows_1252():
    text = "Le garçon a mangé une crème brûlée à la française.\n"
    assert decode_bytes(text.encode("latin-1")).text == text


def test_cyrillic_code_page_goes_to_charset_normalizer():
    text = "Москва — столица России. " * 5
    decoded = decode_bytes(text.encode("cp1251"))
    assert decoded.encoding == "cp1251"
    assert decoded.text == text


# --- declared charsets (HTML) -----------------------------------------------------


def test_declared_charset_is_used_when_the_bytes_are_not_utf8():
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>café “quoted”</p></body></html>'
    decoded = decode_bytes(page.encode("cp1252"), honour_declaration=True)
    assert decoded.encoding == "cp1252"  # iso-8859-1 means windows-1252 on the web
    assert "café “quoted”" in decoded.text


def test_valid_utf8_wins_over_a_wrong_declaration():
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head>'
    page += "<body>café — naïve</body></html>"
    decoded = decode_bytes(page.encode("utf-8"), honour_declaration=True)
    assert decoded.encoding == "utf-8"
    assert "café — naïve" in decoded.text


@pytest.mark.parametrize(
    "head, expected",
    [
        (b'<meta charset="UTF-8">', "utf-8"),
        (b"<meta http-equiv='Content-Type' content='text/html; charset=Shift_JIS'>", "shift_jis"),
        (b'<?xml version="1.0" encoding="ISO-8859-15"?>', "iso8859-15"),
        (b'<meta charset="latin1">', "cp1252"),
        (b'<meta charset="no-such-codec">', None),
        (b"<html><body>no declaration</body></html>", None),
    ],
)
def test_declared_charset(head, expected):
    assert declared_charset(head) == expected


def test_real_non_utf8_pages_decode_to_their_gold_characters():
    """Old pages of the Utomo extraction set served in windows-1252 (declared or not)."""
    folder = require_shared(SHARED / "data" / "web_extraction_utomo")
    with gzip.open(folder / "ground_truth.dev.jsonl.gz", "rt", encoding="utf-8") as lines:
        gold = {r["id"]: r for r in map(json.loads, lines)}
    checked = 0
    for page_id in ("60bb480158d55cfc", "5217a12ba3cbde75", "20bb055fadff700b", "218903041260eeef"):
        page = gold[page_id]
        raw = gzip.decompress((folder / page["html_file"]).read_bytes())
        decoded = decode_bytes(raw, honour_declaration=True)
        assert decoded.encoding == "cp1252", page_id
        accented = {ch for ch in page["gold_text"] if ord(ch) > 127}
        assert accented and accented <= set(decoded.text), page_id
        checked += 1
    assert checked == 4


# --- refusals ----------------------------------------------------------------------


def test_empty_and_whitespace_files_are_empty_file():
    assert refusal(b"").reason == "empty_file"
    assert refusal(b" \n\t\r\n ").reason == "empty_file"
    assert refusal((BAD_INPUT / "blank.txt").read_bytes()).reason == "empty_file"
    assert refusal("  \n".encode("utf-16")).reason == "empty_file"


@pytest.mark.parametrize(
    "data, named",
    [
        ((BAD_INPUT / "photo.png").read_bytes(), "PNG"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "ZIP"),
        (b"\x7fELF\x02\x01\x01", "ELF"),
    ],
)
def test_magic_numbers_are_binary(data, named):
    refused = refusal(data)
    assert refused.reason == "binary_file"
    assert named in refused.detail


def test_nul_bytes_outside_utf16_are_binary():
    refused = refusal((BAD_INPUT / "scrambled.txt").read_bytes())
    assert refused.reason == "binary_file"
    assert "NUL" in refused.detail


def test_control_heavy_bytes_without_nul_are_binary():
    rng = random.Random(3)
    data = bytes(rng.choice(b"\x01\x02\x03\x04abcdefgh ") for _ in range(4000))
    assert b"\x00" not in data
    assert "control bytes" in binary_signature(data)
    assert refusal(data).reason == "binary_file"


def test_text_with_a_few_form_feeds_and_escapes_is_text():
    data = ("Page one.\x0cPage two with \x1b[1mbold\x1b[0m.\n" * 20).encode()
    assert binary_signature(data) is None
    assert decode_bytes(data).encoding == "utf-8"


# --- gzip -------------------------------------------------------------------------


def test_gunzip_roundtrip_and_limits():
    data = ARTICLE.encode("utf-8") * 10
    packed = gzip.compress(data)
    assert gunzip(packed, max_bytes=len(data)) == data
    with pytest.raises(RefusedInput) as too_large:
        gunzip(packed, max_bytes=len(data) - 1)
    assert too_large.value.reason == "file_too_large"
    with pytest.raises(RefusedInput) as corrupt:
        gunzip(packed[: len(packed) // 2], max_bytes=10**6)
    assert corrupt.value.reason == "corrupt_gzip"
    with pytest.raises(RefusedInput) as not_gzip:
        gunzip(b"\x1f\x8b not really gzip", max_bytes=10**6)
    assert not_gzip.value.reason == "corrupt_gzip"


# --- line decoding (JSONL) -------------------------------------------------------------


def test_line_decoder_for_utf8_file_falls_back_to_windows_1252_per_line():
    decoder = line_decoder_for(b'{"text": "plain ascii head"}\n')
    assert decoder.stream_encoding is None
    assert decoder.decode('{"text": "café —"}\n'.encode("utf-8")).text == '{"text": "café —"}\n'
    line = decoder.decode('{"text": "It’s “fine”"}'.encode("cp1252"))
    assert line.encoding == "cp1252" and line.text == '{"text": "It’s “fine”"}'


def test_line_decoder_uses_the_head_encoding_as_fallback():
    russian = "Москва — столица России, крупнейший по численности населения город страны."
    head = ('{"text": "' + russian + '"}\n').encode("cp1251")
    decoder = line_decoder_for(head)
    assert decoder.fallback_encoding == "cp1251"
    assert decoder.decode(head).text == '{"text": "' + russian + '"}\n'


def test_line_decoder_for_utf16_asks_for_a_stream_codec():
    assert line_decoder_for('{"text": "x"}\n'.encode("utf-16")).stream_encoding == "utf-16-le"
    assert line_decoder_for('{"text": "x"}\n'.encode("utf-16-be")).stream_encoding == "utf-16-be"
