"""What a file's name gives away, and the neutral name editors get instead."""

from __future__ import annotations

import pytest

from portal.sanitize.filenames import neutral_name, revealed


@pytest.mark.parametrize(("name", "expected"), [
    ("流水线上的她们-初稿-陈晓梅.docx", {"words": "流水线上的她们 初稿 陈晓梅"}),
    ("IMG_20250214_182205.jpg",
     {"device-pattern": "IMG_20250214", "date": "20250214", "time": "182205"}),
    ("PXL_20250214_182205123.jpg",
     {"device-pattern": "PXL_20250214", "date": "20250214", "time": "182205123"}),
    ("微信图片_20250214182205.jpg",
     {"device-pattern": "微信图片_20250214182205", "date-time": "20250214182205"}),
    ("mmexport1612345678901.jpg",
     {"device-pattern": "mmexport1612345678901", "timestamp": "1612345678901"}),
    ("IMG-20250214-WA0003.jpg", {"device-pattern": "IMG-20250214", "date": "20250214"}),
    ("Screenshot 2025-02-14 at 18.22.05.png",
     {"device-pattern": "Screenshot 2025-02-14", "date": "2025-02-14", "time": "18.22.05"}),
    ("2025年2月14日 会议记录.docx", {"date": "2025年2月14日", "words": "会议记录"}),
    ("Chen Xiaomei essay 14-02-2025.odt",
     {"date": "14-02-2025", "words": "Chen Xiaomei essay"}),
    ("IMG_1234.HEIC", {"device-pattern": "IMG_1234"}),
    ("draft.docx", {}),
    ("1.docx", {}),
])
def test_a_name_says_what_it_gives_away(name: str, expected: dict[str, str]) -> None:
    assert {r.code: r.piece for r in revealed(name)} == expected


@pytest.mark.parametrize(("position", "kind", "original", "expected"), [
    (1, "docx", "陈晓梅.docx", "1.docx"),
    (2, "jpeg", "IMG_20250214_182205.JPG", "2.jpg"),
    (3, "text", "notes.md", "3.txt"),  # the kind found in the bytes, not the name's
    (4, "", "setup.EXE", "4.exe"),  # not cleaned: the name's extension, if it is one
    (5, "", "no extension", "5"),
    (6, "", ".bashrc", "6"),
    (7, "", "a.<script>", "7"),
])
def test_the_neutral_name_keeps_only_place_and_kind(position, kind, original, expected) -> None:
    assert neutral_name(position, kind, original) == expected
