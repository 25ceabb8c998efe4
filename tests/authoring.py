"""Helpers that act as an author through the real views (Django test client)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client


@dataclass
class Review:
    pending: str
    key: str
    html: str


def new_author(client: Client, pen_name: str = "") -> str:
    response = client.post("/author/new/", {"pen_name": pen_name})
    assert response.status_code == 200, response.content[:500]
    match = re.search(r'id="codename">([^<]+)<', response.content.decode())
    assert match, "the codename page must show the codename in id=codename"
    return html.unescape(match.group(1)).strip()


def upload(client: Client, files: list[tuple[str, bytes]], title: str = "A title",
           message: str = "", **extra: str):  # type: ignore[no-untyped-def]
    payload = {
        "title": title, "message": message,
        "files": [SimpleUploadedFile(name, data) for name, data in files],
        **extra,
    }
    return client.post("/author/submit/", payload)


def review_of(response) -> Review:  # type: ignore[no-untyped-def]
    body = response.content.decode()
    assert response.status_code == 200, body[:2000]
    assert 'id="confirm"' in body
    pending = re.search(r'name="pending" value="([0-9a-f]{32})"', body)
    key = re.search(r'name="key" value="([A-Za-z0-9_-]+)"', body)
    assert pending and key
    return Review(pending.group(1), key.group(1), body)


def confirm(client: Client, review: Review, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/author/submit/confirm/",
                       {"pending": review.pending, "key": review.key, **extra})
