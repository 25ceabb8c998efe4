"""Nothing that names or dates an author leaves the author's own screen, end to end.

An author sends, through the real pages of a live server, one file of every
kind the cleaner supports, each with a distinct token planted in every
identifying field it has, under file names that carry a name, a date and a
phone-camera pattern. The review page shows the author what was found,
masked. Then every place the system keeps or writes anything is searched for
every token: the decrypted manifests and files, everything `portal-editor
sync` writes on the editor's machine, the database, every file under the data
directory, the server's log and Redis. The body text, and the one file name
the author chose to keep, are still there.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.httpauthor import HttpAuthor
from tests.leaks import encodings, found_in_files
from tests.liveserver import live_server
from tests.sanitize import dirty_audio, dirty_media, dirty_odf, dirty_office, dirty_pptx, dirty_workbook
from tests.sanitize import test_jpeg_multi_picture as multi_picture
from tests.sanitize import test_odf_fields as odf_fields
from tests.sanitize import test_ogg_chained as ogg_chained
from tests.sanitize import test_pdf_colour_and_comments as pdf_colour
from tests.sanitize.scan import find_tokens, pieces
from tests.services import Service
from tests.storage import blob_files
from tests.test_editor_client_live import login, run_editor

pytestmark = pytest.mark.slow
SURNAME = "陈晓梅"  # what the file names give away, if they were kept
KEPT_NAME = "流水线上的她们-我选择保留.md"


def with_tokens(build: Callable[[], bytes], tokens: dict[str, str]
                ) -> Callable[[], tuple[bytes, dict[str, str]]]:
    return lambda: (build(), tokens)


BUILDERS: dict[str, Callable[[], tuple[bytes, dict[str, str]]]] = {
    "docx": dirty_office.dirty_docx, "xlsx": dirty_office.dirty_xlsx,
    "pptx": dirty_pptx.dirty_pptx,
    "odt": lambda: dirty_odf.dirty_odf("odt"), "ods": lambda: dirty_odf.dirty_odf("ods"),
    "odp": lambda: dirty_odf.dirty_odf("odp"), "odg": lambda: dirty_odf.dirty_odf("odg"),
    "pdf": dirty_media.dirty_pdf, "jpg": dirty_media.dirty_jpeg, "png": dirty_media.dirty_png,
    "webp": dirty_media.dirty_webp, "tif": dirty_media.dirty_tiff, "gif": dirty_media.dirty_gif,
    "heic": dirty_media.dirty_heic, "mp3": dirty_audio.dirty_mp3, "flac": dirty_audio.dirty_flac,
    "opus": dirty_audio.dirty_opus, "m4a": dirty_audio.dirty_m4a, "wav": dirty_audio.dirty_wav,
    # The cleaner's later families: shared workbooks, stored field values, colour
    # profiles and drawing comments, multi-picture photos, chained recordings.
    "shared.xlsx": dirty_workbook.shared_workbook,
    "fields.odt": with_tokens(odf_fields.odt_with_fields, odf_fields.T),
    "colour.pdf": with_tokens(pdf_colour.colour_pdf, pdf_colour.T),
    "hdr.jpg": lambda: (multi_picture.ultra_hdr(multi_picture.TOKENS), multi_picture.TOKENS),
    "chain.ogg": with_tokens(ogg_chained.chained, ogg_chained.T),
}


def documents() -> Iterator[tuple[str, bytes, dict[str, str]]]:
    """(file name, bytes, tokens): every format dirty, named the way authors' files are."""
    for number, (extension, build) in enumerate(BUILDERS.items()):
        data, tokens = build()
        name_token = f"NAMETOKEN{number:02d}x"
        extension = extension.rsplit(".", 1)[-1]
        name = (f"IMG_20250214_1822{number:02d}-{name_token}.{extension}" if extension == "jpg"
                else f"{name_token}-初稿-{SURNAME}-2025-02-14.{extension}")
        yield name, data, {**tokens, "file name": name_token}
    body = "# 正文\n\nThe body text of a plain note.\n".encode()
    yield f"NAMETOKEN99x-{SURNAME}.txt", body, {"file name": "NAMETOKEN99x"}
    yield KEPT_NAME, "# 保留\n\nKept name, kept words.\n".encode(), {}


def long_enough(tokens: list[str]) -> list[str]:
    """Tokens distinctive enough to search for in ciphertext, databases and logs.

    A short token (an 8-hex-digit editing-session id, say) would turn up by chance
    in megabytes of ciphertext once base64 forms are searched; those are checked
    in the decrypted outputs, where every token is searched in every form.
    """
    return [t for t in tokens if len(t) >= 12]


def redis_contents(url: str) -> bytes:
    import redis

    client = redis.Redis.from_url(url)
    chunks = []
    for key in client.scan_iter():
        chunks.append(key)
        kind = client.type(key)
        if kind == b"string":
            chunks.append(client.get(key) or b"")
        elif kind == b"hash":
            chunks += [b"%s=%s" % pair for pair in client.hgetall(key).items()]
    return b"\n".join(chunks)


def readable_text(data: bytes) -> bytes:
    """The file's bytes and everything decodable inside (ZIP members, PDF streams)."""
    return b"\n".join(blob for _, blob in pieces(data))


@pytest.fixture
def redis_db(redis_server: Service) -> Iterator[str]:
    """Redis database 14 of the tests' Redis, empty before and after."""
    import redis

    url = redis_server.url + "/14"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


def test_no_name_or_date_of_the_author_reaches_anything_but_their_own_screen(
        tmp_path: Path, editor_keypair, redis_db):
    sent = list(documents())
    every_token = sorted({t for _, _, tokens in sent for t in tokens.values()})
    data = tmp_path / "data"
    with live_server(data, editor_keypair.public, {"REDIS_URL": redis_db}) as server:
        author = HttpAuthor(server.url)
        author.new_author("阿梅")
        for start in range(0, len(sent), 10):  # ten files per upload (PORTAL_MAX_FILES)
            batch = sent[start:start + 10]
            status, review = author.upload(
                "夜班", [(name, io.BytesIO(body), len(body)) for name, body, _ in batch],
                message="请看看这一稿。")
            assert status == 200, review[:2000]
            assert 'id="refusal-' not in review, re.findall(r'id="refusal-[^<]*<', review)
            shown = html.unescape(review)
            ticks = {}
            for index, (name, _, tokens) in enumerate(batch):
                if name == KEPT_NAME:
                    ticks[f"keep_name_{index}"] = "yes"
                # The author sees what was found: masked first, whole behind <details>.
                author_token = tokens.get("author")
                if author_token:
                    assert f"{author_token[0]}{'*' * 5}" in shown
                    assert re.search(rf"<details>.*?{re.escape(author_token)}", shown, re.S)
            if any(name.startswith("IMG_") for name, _, _ in batch):
                assert "the naming pattern of a phone" in shown  # IMG_20250214_1822…
            status, where, _ = author.confirm(review, **ticks)
            assert status == 200 and "/author/submission/" in where, (status, where)

        config = tmp_path / "editor.json"
        assert login(server, config, editor_keypair.home, server.editor_totp_secret).returncode == 0
        out = tmp_path / "laptop"
        synced = run_editor(config, editor_keypair.home, "sync", str(out))
        assert synced.returncode == 0, synced.stderr
        listed = run_editor(config, editor_keypair.home, "list")
        server_log = (data / server.log_name).read_bytes()
        redis = redis_contents(redis_db)
        from tests.test_faults import server_database_dump

        database = server_database_dump(server)  # PostgreSQL; SQLite is a file of the data dir

    # 1. What the editors decrypt: every manifest and every file.
    decrypted = {path.name: editor_keypair.decrypt(path) for path in blob_files(data)}
    manifests = [json.loads(p) for p in decrypted.values() if p.startswith(b'{\n  "format"')]
    assert len(manifests) == 3 and all(m["format"] == "penname-manifest/2" for m in manifests)
    for name, plaintext in decrypted.items():
        assert find_tokens(plaintext, every_token, exiftool=False) == [], name
    names = [f["name"] for m in manifests for f in m["files"]]
    assert KEPT_NAME in names and not any(SURNAME in n or "2025" in n for n in names)

    # 2. Everything portal-editor wrote on the editor's machine, and what it printed.
    written = [p for p in out.rglob("*") if p.is_file()]
    assert len([p for p in written if p.suffix not in (".txt", ".json")]) >= len(BUILDERS)
    for path in written:
        assert find_tokens(path.read_bytes(), every_token) == [], path
        assert SURNAME.encode() not in path.name.encode(), path
    for output in (synced.stdout, synced.stderr, listed.stdout):
        assert not [t for t in every_token if t in output]
    kept = [p for p in written if p.name == KEPT_NAME]
    assert len(kept) == 1 and "Kept name, kept words." in kept[0].read_text()
    bodies = b"\n".join(readable_text(p.read_bytes()) for p in written)
    for body in (dirty_office.BODY, dirty_media.BODY_TEXT, "The body text of a plain note."):
        assert body.encode() in bodies, body
    report = "\n".join(p.read_text() for p in written if p.name == "cleaning-report.txt")
    assert "author name" in report and "GPS" in report

    # 3. The server: its database, every file under its data directory, its log, Redis.
    searchable = [*long_enough(every_token), SURNAME]
    assert found_in_files_any(searchable, data) == []
    for where, blob in (("database", database), ("log", server_log), ("redis", redis)):
        assert [t for t in searchable if any(e in blob for e in encodings(t))] == [], where


def found_in_files_any(tokens: list[str], root: Path) -> list[str]:
    return [f"{token} in {hit}" for token in tokens for hit in found_in_files(token, root)]


def test_the_test_would_see_a_leak(tmp_path: Path):
    """The searches above find a token planted where the server keeps things."""
    (tmp_path / "leak.log").write_text("INFO author name TOKEN-docauthor-7f3a\n")
    assert found_in_files_any(["TOKEN-docauthor-7f3a"], tmp_path)
    dirty, tokens = dirty_office.dirty_docx()
    assert find_tokens(dirty, [tokens["author"]])
