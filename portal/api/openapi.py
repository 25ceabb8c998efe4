"""The OpenAPI 3.1 description of /api/v1/ (a test checks it against the URLconf)."""

from __future__ import annotations

from typing import Any

_ERROR = {"description": "error", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"error": {"type": "string"}}}}}}
_BEARER: list[dict[str, list[str]]] = [{"token": []}]
_ID = {"name": "public_id", "in": "path", "required": True,
       "schema": {"type": "string", "format": "uuid"}}
_NAME = {"name": "name", "in": "path", "required": True,
         "schema": {"type": "string", "pattern": "^[0-9a-f]{32}\\.gpg$"}}
_OPENPGP = {"content": {"application/octet-stream": {"schema": {
    "type": "string", "format": "binary",
    "description": "an OpenPGP message encrypted to public keys (binary or armored)"}}}}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Penname editor API", "version": "1",
             "description": "Metadata and ciphertext for portal-editor. The server never "
                            "sends or accepts plaintext drafts, notes or replies."},
    "servers": [{"url": "/api/v1"}],
    "components": {"securitySchemes": {"token": {
        "type": "http", "scheme": "bearer",
        "description": "issued by POST /token/ after password and a TOTP code"}}},
    "paths": {
        "/token/": {
            "post": {"summary": "Issue an API token (password + OTP; throttled per account)",
                     "security": [],
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"type": "object",
                                    "required": ["username", "password", "otp_token"],
                                    "properties": {"username": {"type": "string"},
                                                   "password": {"type": "string"},
                                                   "otp_token": {"type": "string"},
                                                   "label": {"type": "string"}}}}}},
                     "responses": {"201": {"description": "token and expiry"}, "400": _ERROR,
                                   "401": _ERROR, "429": _ERROR}},
            "delete": {"summary": "Revoke the token used for this request", "security": _BEARER,
                       "responses": {"204": {"description": "revoked"}, "401": _ERROR}},
        },
        "/openapi.json": {"get": {"summary": "This description", "security": [],
                                  "responses": {"200": {"description": "OpenAPI document"}}}},
        "/keys/": {"get": {"summary": "Editor public keys new ciphertext must be encrypted to",
                           "security": _BEARER,
                           "responses": {"200": {"description": "keys"}, "401": _ERROR}}},
        "/submissions/": {"get": {"summary": "All submissions (metadata)", "security": _BEARER,
                                  "parameters": [{"name": "detail", "in": "query",
                                                  "schema": {"type": "string", "enum": ["1"]},
                                                  "description": "include files, notes and messages"}],
                                  "responses": {"200": {"description": "list"}, "401": _ERROR}}},
        "/submissions/{public_id}/": {"get": {
            "summary": "One submission: files, manifest, notes and messages (names and sizes), "
                       "its version and the author's reply key",
            "security": _BEARER, "parameters": [_ID],
            "responses": {"200": {"description": "detail"}, "401": _ERROR, "404": _ERROR}}},
        "/submissions/{public_id}/notes/": {"post": {
            "summary": "Add an internal note encrypted on the editor's machine",
            "security": _BEARER, "parameters": [_ID], "requestBody": _OPENPGP,
            "responses": {"201": {"description": "stored"}, "400": _ERROR, "401": _ERROR}}},
        "/submissions/{public_id}/replies/": {"post": {
            "summary": "Reply to the author, encrypted on the editor's machine to the editor "
                       "keys and the author's reply key (see reply_key in the detail)",
            "security": _BEARER, "parameters": [_ID, {
                "name": "X-Penname-Reply-Key", "in": "header", "required": True,
                "schema": {"type": "string"},
                "description": "fingerprint of the author's current reply key"}],
            "requestBody": _OPENPGP,
            "responses": {"201": {"description": "stored"}, "400": _ERROR, "401": _ERROR,
                          "404": _ERROR, "409": _ERROR}}},
        "/submissions/{public_id}/blobs/{name}": {
            "get": {"summary": "Download a ciphertext (Range: bytes=N- resumes)",
                    "security": _BEARER, "parameters": [_ID, _NAME],
                    "responses": {"200": {"description": "ciphertext"},
                                  "206": {"description": "the rest of it"},
                                  "401": _ERROR, "404": _ERROR}},
            "put": {"summary": "Replace a ciphertext with a re-encrypted one (atomic; no old copy)",
                    "security": _BEARER, "parameters": [_ID, _NAME, {
                        "name": "X-Penname-Recipients", "in": "header", "required": True,
                        "schema": {"type": "string"},
                        "description": "comma-separated fingerprints it is encrypted to"}],
                    "requestBody": _OPENPGP,
                    "responses": {"200": {"description": "replaced"}, "400": _ERROR,
                                  "401": _ERROR, "404": _ERROR}},
        },
    },
}
