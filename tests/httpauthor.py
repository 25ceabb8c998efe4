"""An author over real HTTP (urllib, cookies, CSRF tokens), without a browser."""

from __future__ import annotations

import html
import http.cookiejar
import re
import secrets
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import BinaryIO


class HttpAuthor:
    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=600) as response:
            return response.read().decode()

    def token(self, page: str) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def post(self, path: str, fields: dict[str, str], token_from: str = "/") -> tuple[int, str, str]:
        page = self.get(token_from)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": self.token(page), **fields}).encode()
        request = urllib.request.Request(self.base + path, data=data,
                                         headers={"Referer": self.base + token_from})
        try:
            with self.opener.open(request, timeout=600) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read().decode()

    def new_author(self, pen_name: str = "") -> str:
        status, _, page = self.post("/author/new/", {"pen_name": pen_name})
        assert status == 200
        return html.unescape(re.search(r'id="codename">([^<]+)<', page).group(1)).strip()

    def login(self, codename: str) -> tuple[int, str, str]:
        return self.post("/author/login/", {"codename": codename})

    def upload(self, title: str, files: list[tuple[str, BinaryIO, int]],
               message: str = "", revision_of: str = "") -> tuple[int, str]:
        """Stream a multipart upload (files given as open streams with their sizes).

        With `revision_of` (a submission id) it is a new version of that submission.
        """
        token = self.token(self.get("/author/"))
        boundary = "----penname" + secrets.token_hex(8)
        fields = {"csrfmiddlewaretoken": token, "title": title, "message": message,
                  "revision_of": revision_of}
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        )
        parts: list[tuple[bytes, BinaryIO, int]] = []
        for name, stream, size in files:
            part_head = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                         f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                         ).encode()
            parts.append((part_head, stream, size))
        tail = f"--{boundary}--\r\n".encode()
        length = len(head) + len(tail) + sum(len(h) + size + 2 for h, _, size in parts)

        def body() -> Iterator[bytes]:
            yield head
            for part_head, stream, _ in parts:
                yield part_head
                while chunk := stream.read(1024 * 1024):
                    yield chunk
                yield b"\r\n"
            yield tail

        request = urllib.request.Request(
            self.base + "/author/submit/", data=body(), method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                     "Content-Length": str(length), "Referer": self.base + "/author/"},
        )
        try:
            with self.opener.open(request, timeout=3600) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def confirm(self, review_page: str, **ticks: str) -> tuple[int, str, str]:
        """Send a reviewed upload; `ticks` are the review page's boxes (keep_name_0="yes")."""
        pending = re.search(r'name="pending" value="([0-9a-f]{32})"', review_page).group(1)
        key = re.search(r'name="key" value="([A-Za-z0-9_-]+)"', review_page).group(1)
        token = self.token(review_page)
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "pending": pending, "key": key, **ticks}).encode()
        request = urllib.request.Request(self.base + "/author/submit/confirm/", data=data,
                                         headers={"Referer": self.base + "/author/submit/"})
        try:
            with self.opener.open(request, timeout=3600) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read().decode()
