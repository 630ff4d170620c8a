"""A delimited text file before DuckDB reads it: what it is (empty, gzip, a zip or Parquet file
renamed), its line endings, its header as written, and, when DuckDB cannot make sense of it, which
line breaks the shape (a field count that differs from the header's, a quote left open, a field too
large). Also the line of the file a data row starts on, for messages."""

from __future__ import annotations

import codecs
import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from .options import CSV_EXTENSIONS, EXCEL_EXTENSIONS

#: DuckDB's largest line by default (bytes); a longer one is reported here with its line and column
MAX_LINE_BYTES = 2_000_000
_MAGIC = {
    b"\x1f\x8b": "gzip-compressed; decompress it first (gunzip), then load the .csv",
    b"PK\x03\x04": "a zip archive (or an Excel workbook renamed); unzip it, or name it .xlsx if it is a workbook",
    b"PAR1": "a Parquet file; name it .parquet",
}
_DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class Shape:
    """The byte-level facts of a text file."""

    size: int
    crlf: int
    lf: int
    quotes: bool

    @property
    def mixed_line_endings(self) -> bool:
        return 0 < self.crlf < self.lf


def scan(path: Path, table: str) -> Shape:
    """Count the line endings; raise on an empty file or one that is not text (gzip, zip, Parquet)."""
    crlf = lf = size = 0
    blank, quotes = True, False
    carry = b""
    with open(path, "rb") as fh:
        head = fh.read(4)
        for magic, what in _MAGIC.items():
            if head.startswith(magic):
                raise SourceError(f"the file is {what}", file=str(path), table=table)
        fh.seek(0)
        while chunk := fh.read(1 << 20):
            size += len(chunk)
            joined = carry + chunk
            crlf += joined.count(b"\r\n") - carry.count(b"\r\n")
            lf += chunk.count(b"\n")
            quotes = quotes or b'"' in chunk
            if blank and joined.strip(b" \t\r\n\xef\xbb\xbf"):
                blank = False
            carry = chunk[-1:]
    if blank:
        raise SourceError(
            "the file is empty: no header row and no data" if size == 0 else "the file holds only blank lines",
            file=str(path),
            table=table,
            hint="export the table again with its header row (the column names) on the first line",
        )
    return Shape(size, crlf, lf, quotes)


def guess_delimiter(path: Path, encoding: str) -> str:
    """The delimiter of the header line: the most frequent of , ; tab | (',' if none)."""
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        for line in fh:
            if line.strip():
                counts = {d: line.count(d) for d in _DELIMITERS}
                best = max(counts, key=lambda d: counts[d])
                return best if counts[best] else ","
    return ","


def _records(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, fields) per non-blank record; the header is the first."""
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        if encoding in ("utf-8", "utf-8-sig"):
            first = fh.read(1)
            if first != "\ufeff":
                fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter)
        start = 1
        for rec in reader:
            end = reader.line_num
            if rec:
                yield start, end, rec
            start = end + 1


def header(path: Path, encoding: str, delimiter: str) -> list[str]:
    """The header row as written (DuckDB renames a repeated name; this does not)."""
    for _, _, rec in _records(path, encoding, delimiter):
        return [h.strip().lstrip("\ufeff") for h in rec]
    return []


def diagnose(path: Path, encoding: str, delimiter: str, table: str, file: str) -> SourceError | None:
    """The first record whose shape breaks the file, as an error naming its line; None if all fit."""
    names: list[str] | None = None
    row = 0
    where = f"revbook.toml [sources.{table}]"
    try:
        for start, end, rec in _records(path, encoding, delimiter):
            if names is None:
                names = rec
                continue
            row += 1
            big = max(range(len(rec)), key=lambda j: len(rec[j]))
            spans = end > start or any("\n" in f or "\r" in f for f in rec)
            if spans and (len(rec) != len(names) or len(rec[big]) > MAX_LINE_BYTES):
                return SourceError(
                    f"a quote opened on line {start} is not closed"
                    + (f" before line {end}, so {end - start + 1} lines read as one row" if end > start else ""),
                    file=file,
                    row=row,
                    line=start,
                    table=table,
                    hint='close the quote, or double a quote inside a quoted value ("")',
                )
            if len(rec) != len(names):
                return SourceError(
                    f"line {start} has {len(rec)} fields; the header has {len(names)} "
                    f"(delimiter {delimiter!r}: a stray delimiter or a missing quote?)",
                    file=file,
                    row=row,
                    line=start,
                    table=table,
                    hint=f"quote values that contain {delimiter!r}, or set delimiter in {where}",
                )
            if len(rec[big].encode("utf-8")) > MAX_LINE_BYTES:
                column = names[big] if big < len(names) else f"field {big + 1}"
                return SourceError(
                    f"a value of {len(rec[big]):,} characters; revbook reads values up to {MAX_LINE_BYTES:,} bytes",
                    file=file,
                    row=row,
                    line=start,
                    column=column,
                    table=table,
                    hint="shorten the value or leave that column out of the export",
                )
    except csv.Error as exc:
        return SourceError(f"the file is not valid CSV: {exc}", file=file, table=table)
    return None


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), UTF-16 by its BOM, else the most likely 8-bit encoding."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(head) - 3:
            return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    western = from_bytes(head, cp_isolation=["cp1252"]).best()
    if western is not None and (best is None or western.chaos <= best.chaos):
        return "cp1252"
    return codecs.lookup(best.encoding).name if best is not None else "cp1252"


def lines_of(file: str, rows: set[int], *, encoding: str | None = None, delimiter: str | None = None) -> dict[int, int]:
    """The line each data row (1-based, header not counted) starts on: for a text file its record's
    first line (blank lines and quoted line breaks counted), for a workbook the sheet's row; none
    for Parquet."""
    path = Path(file)
    suffix = path.suffix.lower()
    if not rows or not path.is_file():
        return {}
    if suffix in EXCEL_EXTENSIONS:
        return {r: r + 1 for r in rows}
    if suffix not in CSV_EXTENSIONS:
        return {}
    try:
        enc = encoding or detect_encoding(path)
        delim = delimiter or ("\t" if suffix == ".tsv" else guess_delimiter(path, enc))
        out: dict[int, int] = {}
        last = max(rows)
        for i, (start, _, _) in enumerate(_records(path, enc, delim)):
            if i in rows:
                out[i] = start
            if i >= last:
                break
        return out
    except (OSError, LookupError, csv.Error, UnicodeError):
        return {}
