"""No programs reach the editors: not cleaned, not "without cleaning", not by a forged form.

Threat: a state actor posing as an author uploads a program, a script, a
shortcut, a document with macros or an archive of them, and ticks "send without
cleaning" (or forges that tick) so that it lands in an editor's NOT-CLEANED/.
Each is refused with a sentence saying why and what to send instead; the review
page offers no tick; the server keeps none of its bytes, and a confirm that
names it anyway stores nothing for it. A cleaner that lies about such a file
cannot change that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from portal.authors import pending as pending_uploads
from portal.sanitize import CleaningRefused, Report
from portal.submissions.models import Submission, SubmissionFile
from tests.authoring import Review, confirm, new_author, review_of, upload
from tests.sanitize import program_samples as samples
from tests.storage import blob_files, blob_path

pytestmark = pytest.mark.django_db

NEVER_SENT = {
    "linux-program": ("tool", samples.elf(), "executable"),
    "windows-program": ("setup.exe", samples.pe(), "executable"),
    "mac-program": ("photo.jpg", samples.mach_o(), "executable"),
    "shell-script": ("install.sh", samples.shell_script(), "executable"),
    "batch-file": ("run.bat", samples.batch_script(), "executable"),
    "powershell": ("get.ps1", samples.powershell_script(), "executable"),
    "shortcut": ("draft.lnk", samples.shortcut(), "executable"),
    "doc-with-vba": ("draft.doc", samples.ole_document(macros=True), "macros"),
    "damaged-docm": ("draft.docm", samples.docm(cleanable=False), "macros"),
    "zip": ("chapters.zip", samples.zip_of_programs(), "archive"),
}
WORDS = {
    "executable": "Programs and scripts cannot be sent at all",
    "macros": "Documents with macros (small programs) cannot be sent",
    "archive": "Please take the files out of it and send them, one by one.",
}
NOTHING = "None of these files can be sent, not even without cleaning"


def pending_files(review: Review, spool: Path) -> list[pending_uploads.PendingFile]:
    return pending_uploads.load(review.pending, review.key, spool / "pending" / review.pending).files


def spool_dir(data_dir: Path) -> Path:
    return data_dir / "spool"


@pytest.mark.parametrize("sample", NEVER_SENT, ids=list(NEVER_SENT))
def test_a_program_macro_document_or_archive_is_never_sent_even_by_a_forged_tick(
    sample: str, client, editor, editor_keypair, data_dir
) -> None:
    name, data, code = NEVER_SENT[sample]
    new_author(client)
    review = review_of(upload(client, [("draft.txt", "工人的故事\n".encode()), (name, data)]))
    assert WORDS[code] in review.html.replace("&#x27;", "'")
    assert "send_uncleaned_1" not in review.html, "no tick for it"
    assert "keep_name_1" not in review.html, "nor a name to keep"
    assert "send_uncleaned_0" not in review.html and 'type="submit">Send' in review.html
    [text, forbidden] = pending_files(review, spool_dir(data_dir))
    assert text.status == "cleaned"
    assert forbidden.status == "refused" and forbidden.refusal["code"] == code
    assert forbidden.never_sent and not forbidden.may_send_uncleaned
    assert not (spool_dir(data_dir) / "pending" / review.pending / "file-1").exists(), \
        "none of its bytes are kept"

    response = confirm(client, review, send_uncleaned_1="yes", keep_name_1="yes")
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.file_count == 1 and submission.uncleaned_count == 0
    row = SubmissionFile.objects.get()
    assert row.cleaned is True
    assert editor_keypair.decrypt(blob_path(data_dir, row.blob)) == "工人的故事\n".encode()
    assert len(blob_files(data_dir)) == 2  # the text and the manifest, nothing else
    manifest = json.loads(editor_keypair.decrypt(blob_path(data_dir, submission.manifest_blob)))
    assert [entry["name"] for entry in manifest["files"]] == ["1.txt"]
    for blob in blob_files(data_dir):
        assert data not in editor_keypair.decrypt(blob)


def test_an_upload_of_nothing_but_such_files_sends_nothing_and_says_why(
    client, editor, data_dir
) -> None:
    new_author(client)
    files = [(name, data) for name, data, _ in NEVER_SENT.values()]
    review = review_of(upload(client, files))
    page = review.html.replace("&#x27;", "'")
    assert NOTHING in page
    for code in ("executable", "macros", "archive"):
        assert WORDS[code] in page
    assert "send_uncleaned_" not in page
    assert 'type="submit">Send' not in page, "no send button when nothing can be sent"
    forged = {f"send_uncleaned_{i}": "yes" for i in range(len(files))}
    response = confirm(client, review, **forged)
    assert response.status_code == 400
    assert NOTHING in response.content.decode()
    assert Submission.objects.count() == 0 and SubmissionFile.objects.count() == 0
    assert blob_files(data_dir) == []
    # The pending upload keeps only its manifest: not one byte of the files.
    assert [p.name for p in (spool_dir(data_dir) / "pending" / review.pending).iterdir()] == [
        "manifest"]


def test_a_script_renamed_txt_is_cleaned_as_text_and_arrives_as_1_txt(
    client, editor, editor_keypair, data_dir
) -> None:
    new_author(client)
    assert confirm(client, review_of(upload(client, [("run.txt", samples.batch_script())]))
                   ).status_code == 302
    row = SubmissionFile.objects.get()
    assert row.cleaned is True and row.kind == "text"
    manifest = json.loads(editor_keypair.decrypt(
        blob_path(data_dir, Submission.objects.get().manifest_blob)))
    assert manifest["files"][0]["name"] == "1.txt"


def test_a_docm_the_cleaner_can_read_arrives_as_a_docx_without_macros(
    client, editor, editor_keypair, data_dir
) -> None:
    new_author(client)
    review = review_of(upload(client, [("draft.docm", samples.docm())]))
    assert "macros (small programs) stored in the document" in review.html  # removed
    assert confirm(client, review).status_code == 302
    row = SubmissionFile.objects.get()
    assert row.cleaned is True and row.kind == "docx"
    cleaned = editor_keypair.decrypt(blob_path(data_dir, row.blob))
    assert cleaned.startswith(b"PK") and b"vbaProject" not in cleaned
    manifest = json.loads(editor_keypair.decrypt(
        blob_path(data_dir, Submission.objects.get().manifest_blob)))
    assert manifest["files"][0]["name"] == "1.docx"


@pytest.mark.parametrize("name, data, code", [
    ("draft.doc", samples.ole_document(macros=False), "legacy-office"),
    ("draft.rtf", b"{\\rtf1\\ansi {\\info{\\author Someone}} Draft text.}", "rtf"),
], ids=["doc-without-macros", "rtf"])
def test_a_harmless_refusal_can_still_be_sent_uncleaned(
    name: str, data: bytes, code: str, client, editor, editor_keypair, data_dir
) -> None:
    new_author(client)
    review = review_of(upload(client, [(name, data)]))
    assert 'name="send_uncleaned_0"' in review.html
    assert confirm(client, review, send_uncleaned_0="yes").status_code == 302
    row = SubmissionFile.objects.get()
    assert row.cleaned is False
    assert editor_keypair.decrypt(blob_path(data_dir, row.blob)) == data
    manifest = json.loads(editor_keypair.decrypt(
        blob_path(data_dir, Submission.objects.get().manifest_blob)))
    assert manifest["files"][0]["refusal"]["code"] == code


# --- A cleaner that lies -----------------------------------------------------------------


def lying_cleaner(calls: list[str], answer: Callable[[bytes, BinaryIO], Report]) -> Any:
    """Stands in for the sandboxed cleaner as the server sees it: whatever the child did,
    this is the answer that comes back."""
    def clean_isolated(src: BinaryIO, dst: BinaryIO, *, name_hint: str = "",
                       **_: Any) -> Report:
        calls.append(name_hint)
        return answer(src.read(), dst)
    return clean_isolated


def says(code: str) -> Callable[[bytes, BinaryIO], Report]:
    def answer(data: bytes, dst: BinaryIO) -> Report:
        raise CleaningRefused(code)
    return answer


def passes_through(kind: str) -> Callable[[bytes, BinaryIO], Report]:
    def answer(data: bytes, dst: BinaryIO) -> Report:
        dst.write(data)
        return Report(kind=kind)
    return answer


@pytest.mark.parametrize("answer", [says("unknown-type"), says("legacy-office"),
                                    passes_through("text"), passes_through("pdf")],
                         ids=["unknown-type", "legacy-office", "cleaned-text", "cleaned-pdf"])
@pytest.mark.parametrize("sample", ["linux-program", "batch-file", "doc-with-vba"])
def test_a_cleaner_that_lies_about_a_program_cannot_make_it_sendable(
    sample: str, answer: Callable[[bytes, BinaryIO], Report], client, editor, data_dir,
    monkeypatch
) -> None:
    """What the server sees for itself (a program's first bytes, a script's name, a VBA
    project's storage names) is decided before any cleaner runs: none is even asked."""
    name, data, code = NEVER_SENT[sample]
    calls: list[str] = []
    monkeypatch.setattr(pending_uploads, "clean_isolated", lying_cleaner(calls, answer))
    new_author(client)
    review = review_of(upload(client, [(name, data)]))
    assert calls == []
    [refused] = pending_files(review, spool_dir(data_dir))
    assert refused.refusal["code"] == code and refused.never_sent
    assert confirm(client, review, send_uncleaned_0="yes").status_code == 400
    assert Submission.objects.count() == 0 and blob_files(data_dir) == []


@pytest.mark.parametrize("answer, name", [
    (says("malformed"), "draft.docm"), (says("unknown-type"), "draft.docx"),
    (passes_through("docx"), "draft.docm"), (passes_through("docx"), "draft.docx"),
], ids=["refused-docm", "refused-as-unknown", "passed-through", "passed-through-as-docx"])
def test_a_cleaner_that_lies_about_a_macro_document_cannot_make_it_sendable(
    answer: Callable[[bytes, BinaryIO], Report], name: str, client, editor, data_dir,
    monkeypatch
) -> None:
    """A macro document goes to the cleaner (which can remove the macros); if it is
    refused, or comes back still carrying its VBA project, it is never sent."""
    calls: list[str] = []
    monkeypatch.setattr(pending_uploads, "clean_isolated", lying_cleaner(calls, answer))
    new_author(client)
    review = review_of(upload(client, [(name, samples.docm(cleanable=False))]))
    assert calls == [name]
    [refused] = pending_files(review, spool_dir(data_dir))
    assert refused.refusal["code"] == "macros" and refused.never_sent
    assert "send_uncleaned_0" not in review.html
    assert confirm(client, review, send_uncleaned_0="yes").status_code == 400
    assert Submission.objects.count() == 0


def test_the_real_cleaner_is_asked_only_about_files_the_server_cannot_decide(
    client, editor, data_dir, monkeypatch
) -> None:
    calls: list[str] = []
    real = pending_uploads.clean_isolated

    def counting(src: BinaryIO, dst: BinaryIO, **options: Any) -> Report:
        calls.append(options["name_hint"])
        return real(src, dst, **options)

    monkeypatch.setattr(pending_uploads, "clean_isolated", counting)
    new_author(client)
    files = [NEVER_SENT[sample][:2] for sample in
             ("linux-program", "batch-file", "doc-with-vba", "damaged-docm", "zip")]
    review_of(upload(client, [*files, ("draft.txt", b"words")]))
    assert calls == ["draft.docm", "draft.txt"]


def test_sending_never_includes_such_a_file_even_if_asked_directly(
    client, editor, data_dir
) -> None:
    """The promise holds below the view too: `send` leaves it out whatever it is given."""
    from portal.authors.sending import send
    from portal.submissions.models import Author

    new_author(client)
    review = review_of(upload(client, [("a.txt", b"words"), ("setup.exe", samples.pe())]))
    pending = pending_uploads.load(review.pending, review.key)
    claimed = pending_uploads.claim(pending.id)
    submission = send(Author.objects.get(), pending, claimed, include_refused={0, 1})
    assert submission.file_count == 1
    with pytest.raises(FileNotFoundError):
        pending_uploads.open_file(claimed, pending, pending.files[1])


def test_the_review_page_names_the_kind_of_refusal(client, editor, data_dir) -> None:
    new_author(client)
    review = review_of(upload(client, [("setup.exe", samples.pe()), ("a.doc",
                                        samples.ole_document(macros=False))]))
    sections = re.findall(r'<section class="file".*?</section>', review.html, re.S)
    assert "Cannot be sent" in sections[0] and "Not cleaned" in sections[1]
