"""CSV and TSV news dumps ("All the News", spreadsheet exports), read row by row by
ReadFileDumps in real pipelines: each row a record by its column names, every row counted."""

from __future__ import annotations

import gzip
import zipfile

from tests.test_read_files import keyed, letter_key, ref_name, run_read
from transforms.read_files import ReadConfig

STORY = "The harbour reopened on Friday after the storm, officials said, and ships came in."


def row_key(article):
    published = article.published_at.date().isoformat() if article.published_at else None
    return (ref_name(article.source_ref), article.source_kind, article.title, article.outlet, published, article.url)


def test_csv_and_tsv_rows_are_records_named_by_their_header(tmp_path):
    # "All the News" layout: an unnamed index column, a quoted body over several lines, a BOM.
    (tmp_path / "all-the-news.csv").write_text(
        ",title,publication,author,date,content,url\n"
        f'0,Harbour reopens,Wire,Ann,2016-12-31,"{STORY}\n\nA second paragraph, with ""quotes""."\n'
        '1,Bridge reopens,Desk,Bob,2017-01-02,"The bridge reopened, and traffic came back.",https://desk.example/bridge\n',
        encoding="utf-8-sig",
    )
    # A European export: semicolons, Windows-1252, trailing empty cells left out.
    # column names in any case
    (tmp_path / "export.csv").write_bytes(f"Title;Source;Text;Published At\nCafé reopens;Le Monde;{STORY.replace('harbour', 'café')}\n".encode("cp1252"))
    (tmp_path / "wire.tsv.gz").write_bytes(gzip.compress(f"TITLE\tTEXT\tSOURCE\nTab story\t{STORY}\tWire\n\n".encode()))
    # trafilatura's field names written as a spreadsheet's headers: "Source Hostname" is source-hostname
    (tmp_path / "extracted.csv").write_text(f'Title,Source Hostname,Text\nExtracted,The Desk,"{STORY}"\n', encoding="utf-8")
    # a member of an archive is read whole, to the same rows
    with zipfile.ZipFile(tmp_path / "desk.zip", "w") as archive:
        archive.writestr("rows.csv", f'title,content,publication,date\nZipped,"{STORY}",Desk,2017-01-03\n')
    records = run_read(
        [tmp_path / "*"],
        keyed(
            row_key,
            [
                ("all-the-news.csv:2", "csv", "Harbour reopens", "Wire", "2016-12-31", None),
                ("all-the-news.csv:5", "csv", "Bridge reopens", "Desk", "2017-01-02", "https://desk.example/bridge"),
                ("export.csv:2", "csv", "Café reopens", "Le Monde", None, None),
                ("wire.tsv.gz:2", "csv", "Tab story", "Wire", None, None),
                ("rows.csv:2", "csv", "Zipped", "Desk", "2017-01-03", None),
                ("extracted.csv:2", "csv", "Extracted", "The Desk", None, None),
            ],
        ),
        keyed(letter_key, []),
    )
    assert records == 6


def test_broken_rows_are_dead_letters_one_each_and_the_rows_after_them_are_read(tmp_path):
    (tmp_path / "desk.csv").write_text(
        "title,text\n"
        f'Stray,"{STORY}",extra cell\n'  # more fields than the header
        "No text,\n"  # a row, but nothing to read
        f'Long,"{"word " * 400}"\n'  # over max_record_bytes
        f'Fine,"{STORY}"\n',
        encoding="utf-8",
    )
    (tmp_path / "header-only.csv").write_text("title,text\n\n", encoding="utf-8")
    (tmp_path / "open-quote.csv").write_text(f'title,text\nA,"never closed {STORY}\nB,"{STORY}"\n', encoding="utf-8")
    records = run_read(
        [tmp_path / "*.csv"],
        keyed(lambda article: (ref_name(article.source_ref), article.title), [("desk.csv:5", "Fine"), ("open-quote.csv:3", "B")]),
        keyed(
            letter_key,
            [
                ("desk.csv:2", "read.csv", "invalid_csv"),
                ("desk.csv:3", "read.csv", "missing_text"),
                ("desk.csv:4", "read.csv", "record_too_large"),
                ("header-only.csv", "read.csv", "empty_file"),
                # the quote runs to the end of the file: its line is the dead letter, the row after it is read
                ("open-quote.csv:2", "read.csv", "invalid_csv"),
            ],
        ),
        config=ReadConfig(max_record_bytes=1000),
    )
    assert records == 7


def test_a_stray_quote_costs_its_own_row_only_and_a_quoted_text_over_many_lines_stays_whole(tmp_path):
    """A field that opens with a quote it never closes (`"Unclosed ...` in a hand-made file) ran
    on over the rows after it: to the end of the file, those rows became the text of one
    article; to the next quote, one invalid_csv for both rows. Now the stray row is the dead
    letter and every other row is read. A quoted text over several lines is one field, also
    with a literal quote in another cell or a trailing cell left out."""
    def rows(stray: int, quoted: bool) -> str:
        lines = ["title,text,url"]
        for n in range(6):
            text = f'"Story {n}, about the harbour, said officials."' if quoted else f"Story {n} about the harbour"
            opening = '"Unclosed ' if n == stray else ""
            lines.append(f"Title {n},{opening}{text},https://desk.example/{n}")
        return "\n".join(lines) + "\n"

    (tmp_path / "to-the-end.csv").write_text(rows(2, quoted=False), encoding="utf-8")
    (tmp_path / "to-the-next-quote.csv").write_text(rows(2, quoted=True), encoding="utf-8")
    (tmp_path / "paragraphs.csv").write_text(
        "title,text,url\n"
        'Screens,"A 5"" screen, the maker said,\nand a second paragraph, with commas, here.\n\nA third.",https://desk.example/s\n'
        'Inches,12" of rain fell,"and more, said the office,\nover two days"\n'  # a literal quote in an unquoted cell
        'Trailing,"One paragraph, then,\nanother one, then"\n',  # its url cell left out
        encoding="utf-8",
    )
    expected = [(f"to-the-end.csv:{n + 2}", f"Title {n}") for n in range(6) if n != 2]
    expected += [(f"to-the-next-quote.csv:{n + 2}", f"Title {n}") for n in range(6) if n != 2]
    expected += [("paragraphs.csv:2", "Screens"), ("paragraphs.csv:6", "Inches"), ("paragraphs.csv:8", "Trailing")]
    records = run_read(
        [tmp_path / "*.csv"],
        keyed(lambda article: (ref_name(article.source_ref), article.title), expected),
        keyed(letter_key, [("to-the-end.csv:4", "read.csv", "invalid_csv"), ("to-the-next-quote.csv:4", "read.csv", "invalid_csv")]),
    )
    assert records == 15


def test_a_table_under_a_name_that_gives_no_format_is_read_as_rows_and_an_article_with_commas_stays_text(tmp_path):
    # an export named by its tool (.dat, no extension, gzipped .out): its header names news fields
    (tmp_path / "export.dat").write_text(f'headline;Body;source\nSemicolons;"{STORY}";Wire\n', encoding="utf-8")
    (tmp_path / "NEWS_EXPORT").write_text(f'Title,Content,Publication\nNo name,"{STORY}",Desk\nSecond,"{STORY}",Desk\n', encoding="utf-8")
    (tmp_path / "rows.out.gz").write_bytes(gzip.compress(f"url\ttext\nhttps://a.example/x\t{STORY}\n".encode()))
    # the first line of an article holds commas and a field's name, but is no header
    (tmp_path / "column.dat").write_text(f"Rain, wind and text: the week ahead\n\n{STORY}\n", encoding="utf-8")
    records = run_read(
        [tmp_path / "*"],
        keyed(
            lambda article: (ref_name(article.source_ref), article.source_kind, article.title, article.outlet),
            [
                ("export.dat:2", "csv", "Semicolons", "Wire"),
                ("NEWS_EXPORT:2", "csv", "No name", "Desk"),
                ("NEWS_EXPORT:3", "csv", "Second", "Desk"),
                ("rows.out.gz:2", "csv", None, "a.example"),
                ("column.dat", "text", None, tmp_path.name),  # a plain text: untitled, its folder's outlet
            ],
        ),
        keyed(letter_key, []),
    )
    assert records == 5


def test_an_archive_member_table_under_a_name_that_gives_no_format_is_read_as_rows(tmp_path):
    with zipfile.ZipFile(tmp_path / "desk.zip", "w") as archive:
        archive.writestr("table", f'title|text|outlet\nPiped|"{STORY}"|Desk\n')
    records = run_read(
        [tmp_path / "desk.zip"],
        keyed(lambda article: (ref_name(article.source_ref), article.source_kind, article.title), [("table:2", "csv", "Piped")]),
        keyed(letter_key, []),
    )
    assert records == 1
