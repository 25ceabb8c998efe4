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
_PK = {"name": "pk", "in": "path", "required": True, "schema": {"type": "integer"}}
_SCOPES = ("Each token carries scopes: read (listing, downloads, confirming re-encrypted "
           "copies for your own keys), note, reply, reencrypt (managing editors only; a "
           "token that lives a day). A call without its scope gets 403.")
_OPENPGP = {"content": {"application/octet-stream": {"schema": {
    "type": "string", "format": "binary",
    "description": "an OpenPGP message encrypted to public keys (binary or armored)"}}}}

# The fields of a submission in the list (the detail adds files, notes, messages, ...).
_SUBMISSION = {"type": "object", "properties": {
    "id": {"type": "string", "format": "uuid"},
    "short_id": {"type": "string"},
    "pen_name": {"type": "string", "description": "empty when the author gave none"},
    "state": {"type": "string", "enum": ["new", "in_review", "revisions_requested", "accepted",
                                         "published", "declined", "withdrawn"],
              "description": "a revision shows its own row's state; the piece's state is its "
                             "first version's"},
    "submitted_on": {"type": "string", "format": "date"},
    "file_count": {"type": "integer"},
    "uncleaned_count": {"type": "integer"},
    "revision_of": {"type": ["string", "null"], "format": "uuid",
                    "description": "the first version of the piece, for a later version"},
    "version": {"type": "integer"},
    "hidden": {"type": "boolean"},
    "author_ref": {"type": "string", "pattern": "^[0-9a-f]{10}$",
                   "description": "a short reference to the author identity, the same for "
                                  "all their submissions and naming no one (a one-way digest "
                                  "of a random id): one folder per author in portal-editor "
                                  "sync, even without a pen name or with a shared one"},
}}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Penname editor API", "version": "1",
             "description": "Metadata and ciphertext for portal-editor. The server never "
                            "sends or accepts plaintext drafts, notes or replies."},
    "servers": [{"url": "/api/v1"}],
    "components": {"securitySchemes": {"token": {
        "type": "http", "scheme": "bearer",
        "description": "issued by POST /token/ after password and a TOTP code. " + _SCOPES}},
        "schemas": {"Submission": _SUBMISSION}},
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
                                                   "label": {"type": "string"},
                                                   "scopes": {"type": "array", "items": {
                                                       "type": "string", "enum": [
                                                           "read", "note", "reply",
                                                           "reencrypt"]},
                                                       "description": "default: read, note, "
                                                                      "reply"}}}}}},
                     "responses": {"201": {"description": "token, its scopes and expiry (a "
                                                          "week; a day with reencrypt)"},
                                   "400": _ERROR, "401": _ERROR,
                                   "403": {"description": "reencrypt asked by an editor who "
                                                          "is not a managing editor"},
                                   "429": _ERROR}},
            "delete": {"summary": "Revoke the token used for this request", "security": _BEARER,
                       "responses": {"204": {"description": "revoked"}, "401": _ERROR}},
        },
        "/openapi.json": {"get": {"summary": "This description", "security": [],
                                  "responses": {"200": {"description": "OpenAPI document"}}}},
        "/keys/": {"get": {"summary": "Editor public keys new ciphertext must be encrypted to "
                                      "(approved keys only)",
                           "security": _BEARER,
                           "responses": {"200": {"description": "keys"}, "401": _ERROR,
                                         "403": _ERROR}}},
        "/keys/changes/": {"get": {
            "summary": "Keys waiting for a second managing editor's approval, and key, editor, "
                       "admin, re-encryption and hiding changes of the last 30 days (days only)",
            "security": _BEARER,
            "responses": {"200": {"description": "pending keys and changes"}, "401": _ERROR,
                          "403": _ERROR}}},
        "/replacements/": {"get": {
            "summary": "Re-encrypted copies waiting for confirmations; `mine` lists the "
                       "caller's keys that must still answer",
            "security": _BEARER,
            "responses": {"200": {"description": "pending replacements"}, "401": _ERROR,
                          "403": _ERROR}}},
        "/replacements/{pk}/candidate": {"get": {
            "summary": "Download a waiting re-encrypted copy, to decrypt and check locally",
            "security": _BEARER, "parameters": [_PK],
            "responses": {"200": {"description": "ciphertext"}, "401": _ERROR, "403": _ERROR,
                          "404": _ERROR}}},
        "/replacements/{pk}/confirmations/": {"post": {
            "summary": "Confirm (the SHA-256 of the plaintext your key decrypted, and whether "
                       "you compared it with the old ciphertext's) or refuse, for one of your "
                       "own keys",
            "security": _BEARER, "parameters": [_PK],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["fingerprint"],
                "properties": {"fingerprint": {"type": "string"},
                               "plaintext_sha256": {"type": "string"},
                               "compared": {"type": "boolean"},
                               "refusal": {"type": "string",
                                           "enum": ["cannot-decrypt", "differs"]}}}}}},
            "responses": {"200": {"description": "the replacement's state: pending, completed "
                                                 "or discarded"},
                          "400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR,
                          "409": _ERROR}}},
        "/submissions/": {"get": {"summary": "All submissions (metadata), except those of "
                                             "authors the editors hid",
                                  "security": _BEARER,
                                  "parameters": [{"name": "detail", "in": "query",
                                                  "schema": {"type": "string", "enum": ["1"]},
                                                  "description": "include files, notes and messages"},
                                                 {"name": "hidden", "in": "query",
                                                  "schema": {"type": "string", "enum": ["1"]},
                                                  "description": "include hidden authors' "
                                                                 "submissions too (each says "
                                                                 "hidden: true)"}],
                                  "responses": {"200": {"description": "list", "content": {
                                      "application/json": {"schema": {
                                          "type": "object", "properties": {"submissions": {
                                              "type": "array", "items": {
                                                  "$ref": "#/components/schemas/Submission"}}}}}}},
                                                "401": _ERROR,
                                                "403": _ERROR}}},
        "/submissions/{public_id}/": {"get": {
            "summary": "One submission: files, manifest, notes and messages (names and sizes), "
                       "its version and the author's reply key",
            "security": _BEARER, "parameters": [_ID],
            "responses": {"200": {"description": "detail"}, "401": _ERROR, "403": _ERROR,
                          "404": _ERROR}}},
        "/submissions/{public_id}/notes/": {"post": {
            "summary": "Add an internal note encrypted on the editor's machine",
            "security": _BEARER, "parameters": [_ID], "requestBody": _OPENPGP,
            "responses": {"201": {"description": "stored"}, "400": _ERROR, "401": _ERROR,
                          "403": _ERROR}}},
        "/submissions/{public_id}/replies/": {"post": {
            "summary": "Reply to the author, encrypted on the editor's machine to the editor "
                       "keys and the author's reply key (see reply_key in the detail)",
            "security": _BEARER, "parameters": [_ID, {
                "name": "X-Penname-Reply-Key", "in": "header", "required": True,
                "schema": {"type": "string"},
                "description": "fingerprint of the author's current reply key"}],
            "requestBody": _OPENPGP,
            "responses": {"201": {"description": "stored"}, "400": _ERROR, "401": _ERROR,
                          "403": _ERROR, "404": _ERROR, "409": _ERROR}}},
        "/submissions/{public_id}/blobs/{name}": {
            "get": {"summary": "Download a ciphertext (Range: bytes=N- resumes)",
                    "security": _BEARER, "parameters": [_ID, _NAME],
                    "responses": {"200": {"description": "ciphertext"},
                                  "206": {"description": "the rest of it"},
                                  "401": _ERROR, "403": _ERROR, "404": _ERROR}},
            "put": {"summary": "Propose a re-encrypted copy of a manifest or file (managing "
                               "editors, reencrypt scope). It is kept beside the old one and "
                               "replaces it only when the client of every editor key has "
                               "confirmed it decrypts to the declared plaintext; notes and "
                               "thread messages are never replaced (403)",
                    "security": _BEARER, "parameters": [_ID, _NAME, {
                        "name": "X-Penname-Plaintext-SHA256", "in": "header", "required": True,
                        "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                        "description": "SHA-256 of the plaintext the copy holds"}],
                    "requestBody": _OPENPGP,
                    "responses": {"202": {"description": "stored as a candidate; waiting for "
                                                         "confirmations"},
                                  "400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR,
                                  "409": _ERROR}},
        },
    },
}
