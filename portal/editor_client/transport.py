"""HTTP to the portal's API, optionally through Tor (socks5h://127.0.0.1:9050)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

CHUNK = 64 * 1024


class ApiError(Exception):
    """The server refused or failed a request; `status` is the HTTP status (0: unreachable)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{message} (HTTP {status})" if status else message)
        self.status = status


def _opener(proxy: str) -> urllib.request.OpenerDirector:
    if not proxy:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    parsed = urllib.parse.urlparse(proxy)
    if parsed.scheme not in ("socks5h", "socks5"):
        raise ApiError(0, "the proxy must be socks5h://HOST:PORT (Tor)")
    import socks
    from sockshandler import SocksiPyHandler

    # socks5h: the proxy resolves names, which is how .onion addresses work.
    return urllib.request.build_opener(SocksiPyHandler(
        socks.SOCKS5, parsed.hostname or "127.0.0.1", parsed.port or 9050,
        rdns=parsed.scheme == "socks5h"))


# What the server's sentences (key changes, refusals) are asked in, by editor language.
ACCEPT_LANGUAGE = {"en": "en", "zh_Hans": "zh-hans", "zh_Hant": "zh-hant"}


class Api:
    def __init__(self, server: str, token: str = "", proxy: str = "", language: str = "en") -> None:
        self.base = server.rstrip("/") + "/api/v1"
        self.token = token
        self.language = ACCEPT_LANGUAGE.get(language, "en")
        self._open = _opener(proxy).open

    def _request(self, method: str, path: str, data: Any = None,
                 headers: dict[str, str] | None = None) -> Any:
        all_headers = {"Accept": "application/json", "Accept-Language": self.language,
                       **(headers or {})}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=all_headers)
        try:
            return self._open(request, timeout=600)
        except urllib.error.HTTPError as error:
            try:
                message = json.loads(error.read() or b"{}").get("error", error.reason)
            except (ValueError, AttributeError):
                message = str(error.reason)
            raise ApiError(error.code, str(message)) from None
        except (urllib.error.URLError, OSError) as error:
            raise ApiError(0, f"cannot reach the server: {getattr(error, 'reason', error)}") from None

    def get_json(self, path: str) -> Any:
        with self._request("GET", path) as response:
            return json.loads(response.read())

    def post_json(self, path: str, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload).encode()
        with self._request("POST", path, body, {"Content-Type": "application/json"}) as response:
            return json.loads(response.read() or b"{}")

    def delete(self, path: str) -> None:
        with self._request("DELETE", path):
            pass

    def send_file(self, method: str, path: str, source: Path,
                  headers: dict[str, str] | None = None) -> Any:
        with open(source, "rb") as handle:
            size = source.stat().st_size
            extra = {"Content-Type": "application/octet-stream", "Content-Length": str(size),
                     **(headers or {})}
            with self._request(method, path, handle, extra) as response:
                return json.loads(response.read() or b"{}")

    def download(self, path: str, target: Path, total: int,
                 progress: Callable[[int], None] | None = None) -> None:
        """Fetch into `target`, resuming from whatever part of it is already there."""
        have = target.stat().st_size if target.exists() else 0
        if total and have >= total:
            return
        headers = {"Range": f"bytes={have}-"} if have else {}
        with self._request("GET", path, headers=headers) as response:
            mode = "ab" if have and response.status == 206 else "wb"
            with open(target, mode) as out:
                _copy(response, out, progress)  # type: ignore[arg-type]


def _copy(source: BinaryIO, sink: BinaryIO, progress: Callable[[int], None] | None) -> None:
    while chunk := source.read(CHUNK):
        sink.write(chunk)
        if progress:
            progress(len(chunk))
