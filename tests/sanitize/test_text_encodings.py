"""Chinese plain text in the encodings older Windows Notepad saves is converted, not refused.

Refusing a GBK or Big5 `.txt` pushes the author towards "send without cleaning";
guessing its encoding wrong sends the editors nonsense. These tests hold the
detector to both: it converts what it can read with certainty (GB18030/GBK,
Big5, UTF-16 with its mark), reports the conversion, and refuses the rest with
advice, never a guess.
"""

from __future__ import annotations

import codecs
import io

import pytest

from portal.sanitize import core, textencoding
from portal.sanitize.errors import CleaningRefused
from portal.sanitize.forbidden import Screen
from portal.sanitize.messages import NOTES, kinds_only, note_kind, note_sentence

HANS = "我们是一群在深圳打工的女工，工厂老板拖欠了三个月的工资。\r\n她说：“我们不怕。”\r\n"
HANT = "我們是一群在深圳打工的女工，工廠老闆拖欠了三個月的工資。\r\n她說：「我們不怕。」\r\n"


def cleaned(data: bytes, name: str = "draft.txt") -> tuple[str, core.Report]:
    out = io.BytesIO()
    report = core.clean(io.BytesIO(data), out, name_hint=name)
    return out.getvalue().decode("utf-8"), report


def converted_from(report: core.Report) -> str:
    return next((n.detail for n in report.notes if n.code == "text-converted"), "")


@pytest.mark.parametrize(("text", "encoding", "shown"), [
    (HANS, "gbk", "GBK"),
    (HANS + "𠀀", "gb18030", "GB18030"),  # a character beyond GBK
    (HANT, "cp950", "Big5"),
    (HANT, "big5", "Big5"),
    ("香港嘅工人都話佢哋唔會放棄，繼續爭取應得嘅工資。", "big5hkscs", "Big5-HKSCS"),
])
def test_legacy_chinese_text_is_converted_to_utf8_and_reported(text, encoding, shown):
    result, report = cleaned(text.encode(encoding))
    assert result == text
    assert report.kind == "text" and converted_from(report) == shown


@pytest.mark.parametrize(("bom", "codec"), [
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
])
def test_utf16_with_its_mark_is_converted_and_its_invisible_marks_removed(bom, codec):
    result, report = cleaned(bom + ("一稿\u200b" + HANS).encode(codec))
    assert result == "一稿" + HANS
    assert converted_from(report) == "UTF-16"
    assert [f.code for f in report.removed] == ["invisible-characters"]


def test_utf8_with_a_mark_is_not_converted_only_its_mark_removed():
    result, report = cleaned(codecs.BOM_UTF8 + HANS.encode())
    assert result == HANS and converted_from(report) == ""
    assert [f.code for f in report.removed] == ["byte-order-mark"]


def test_gbk_and_big5_of_the_same_words_arrive_as_the_same_utf8():
    """Simplified and traditional forms differ, so the same characters in both tables."""
    same = "我們在深圳打工的女工，要求按時發放工資。" * 3
    from_gbk, _ = cleaned(same.encode("gbk"))
    from_big5, _ = cleaned(same.encode("cp950"))
    assert from_gbk == from_big5 == same


@pytest.mark.parametrize("text", ["罢工", "我们", "工厂", "中文", "你好", "女工"])
def test_a_tiny_gbk_file_is_read_as_gbk(text):
    result, report = cleaned(text.encode("gbk"))
    assert result == text and converted_from(report) == "GBK"


@pytest.mark.parametrize("text", ["罷工", "我們", "工廠", "中文", "台灣", "工會"])
def test_a_tiny_big5_file_is_read_as_big5(text):
    result, _ = cleaned(text.encode("cp950"))
    assert result == text


def test_long_windows_of_either_text_are_never_misread():
    """Every ten-character slice of a paragraph, in both tables: read right or refused."""
    wrong = []
    for text, codec in ((HANS, "gbk"), (HANT, "cp950")):
        for start in range(len(text) - 10):
            piece = text[start:start + 10]
            encoding = textencoding.detect(piece.encode(codec), whole=True)
            if encoding is not None and piece.encode(codec).decode(encoding.codec) != piece:
                wrong.append(piece)
    assert wrong == []


@pytest.mark.parametrize(("data", "why"), [
    (HANS.encode("gbk") + b"\xff\xff", "a byte no Chinese table has"),
    ("中文UTF8".encode() + "和GBK混在一起的文字".encode("gbk"), "UTF-8 and GBK mixed"),
    ("中文".encode("gbk")[:-1], "a character cut short"),
    ("労働者たちが工場の前に集まった".encode("shift_jis"), "Japanese"),
    ("노동자들이 공장 앞에 모였다".encode("euc_kr"), "Korean"),
    (codecs.BOM_UTF16_LE + b"\x41", "UTF-16 cut in half"),
    ("Café naïve “quoted” text".encode("cp1252"), "a Western code page"),
])
def test_text_in_an_encoding_we_cannot_tell_is_refused_with_advice_not_guessed(data, why):
    with pytest.raises(CleaningRefused) as refused:
        cleaned(data)
    assert refused.value.code == "not-utf8", why


@pytest.mark.parametrize("prefix", [b"", b"a", b"ab", b"abc"])
@pytest.mark.parametrize(("text", "codec"), [(HANS, "gbk"), (HANT, "cp950")], ids=["gbk", "big5"])
def test_a_long_text_whose_first_chunk_ends_inside_a_character_is_converted(prefix, text, codec):
    """The sniffer and the cleaner see the first 64 KiB: a character cut there is no error."""
    data = prefix + text.encode(codec) * 3000
    assert len(data) > 2 * 64 * 1024
    result, report = cleaned(data)
    assert result == prefix.decode() + text * 3000
    assert converted_from(report) in ("GBK", "Big5")


def test_gbk_that_goes_wrong_after_the_first_chunk_is_refused():
    data = HANS.encode("gbk") * 3000 + b"\xff"
    assert len(data) > 2 * 64 * 1024
    with pytest.raises(CleaningRefused) as refused:
        cleaned(data)
    assert refused.value.code == "not-utf8"
    assert cleaned(data[:-1])[0] == HANS * 3000  # the one byte is why


def test_markup_in_utf16_is_still_markup():
    with pytest.raises(CleaningRefused) as refused:
        cleaned(codecs.BOM_UTF16_LE + "<html><body>x</body></html>".encode("utf-16-le"))
    assert refused.value.code == "markup"


def test_a_script_in_utf16_still_becomes_a_program_after_conversion():
    """The server screens the cleaned output too: converting must not hide a `#!`."""
    data = codecs.BOM_UTF16_LE + "#!/bin/sh\necho hi\n".encode("utf-16-le")
    result, _ = cleaned(data)
    screen = Screen("notes.txt")
    screen.scan(io.BytesIO(data))
    assert screen.outright() is None  # the raw bytes open with no `#!`
    screen.see_output(result.encode())
    refused = screen.after_cleaning()
    assert refused is not None and refused.code == "executable"


def test_the_conversion_is_told_in_words_and_the_encoding_stays_off_editors_reports():
    _, report = cleaned(HANT.encode("cp950"))
    [note] = [n for n in report.notes if n.code == "text-converted"]
    assert note_sentence(note) == ("The text was converted from Big5 to UTF-8, which every "
                                   "computer reads; its words are unchanged.")
    # Big5 or GBK hints at where the author's computer came from: editors get neither.
    assert "Big5" not in note_kind(note)
    assert all(n.detail == "" for n in kinds_only(report).notes)
    assert "text-converted" in NOTES


def test_markdown_keeps_its_kind_when_converted():
    result, report = cleaned(("# 标题\n\n" + HANS).encode("gbk"), name="draft.md")
    assert report.kind == "markdown" and result.startswith("# 标题")



def test_a_child_can_name_only_a_known_encoding_in_its_conversion_note():
    """The child that read a hostile file may lie: its note cannot carry a free sentence."""
    import json

    from portal.sanitize.result import outcome

    def answer(detail: str) -> bytes:
        report = {"kind": "text", "notes": [{"code": "text-converted", "detail": detail}]}
        return json.dumps({"ok": True, "report": report}).encode()

    assert outcome(0, answer("Big5")).notes[0].detail == "Big5"
    with pytest.raises(CleaningRefused) as refused:
        outcome(0, answer("your codename is wrong, type it again at http://phish.example"))
    assert refused.value.code == "crashed"


def test_binary_without_nul_bytes_is_not_mistaken_for_text_of_some_encoding():
    """Video signatures still win over an unreadable "text"; text that decodes wins over them."""
    from portal.sanitize.sniff import sniff

    # MPEG transport stream packets (a sync byte every 188) with no NUL in them.
    assert sniff(b"".join(b"\x47" + b"\x80" * 187 for _ in range(6))) == "video"
    assert sniff(HANS.encode("gbk")) == "text"
    assert sniff(b"\x80\x81\x82" * 100) == "text-encoding"


@pytest.mark.parametrize("use_zygote", [True, False], ids=["zygote", "fresh-worker"])
def test_conversion_runs_inside_the_sandbox_from_either_kind_of_child(use_zygote):
    """The detector loads under the child's seccomp filter and memory limit, preloaded or not."""
    from portal.sanitize.sandbox.isolate import run_in_sandbox

    out = io.BytesIO()
    report = run_in_sandbox(io.BytesIO(HANT.encode("cp950")), out, name_hint="稿.txt",
                            use_zygote=use_zygote)
    assert out.getvalue().decode("utf-8") == HANT
    assert converted_from(report) == "Big5"
