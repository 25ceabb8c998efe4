"""`portal-editor`: log in, list, sync, reply, note and reencrypt, from the editor's machine.

    portal-editor [--config PATH] [--language en|zh_Hans|zh_Hant] login --server URL --username U
                  [--password-stdin] [--otp CODE] [--proxy socks5h://127.0.0.1:9050]
                  [--scope reencrypt]
    portal-editor list          each piece once, its versions under it, its state in words
    portal-editor sync DIR      ends with one line: what arrived ("Nothing new." if nothing)
    portal-editor confirm
    portal-editor reply SUBMISSION [--file F]
    portal-editor note SUBMISSION [--file F]
    portal-editor reencrypt

A reply is encrypted here, to the author's reply key and every editor key: the
server never sees its text. A re-encrypted copy replaces the old ciphertext
only when the portal-editor of every editor has checked it (`sync` and
`confirm` do, for this editor's keys).

GNUPGHOME is respected: decryption uses the editor's own keys (or smartcard).
"""

from __future__ import annotations

import argparse
import getpass
import sys
import tempfile
from pathlib import Path

from .config import Config, default_path
from .confirm import answer, binary, confirm_pending
from .listing import piece_lines, pieces, signature
from .localgpg import DecryptionFailed, LocalGpg
from .recipients import encrypt_bytes, recipient_keyring, reencrypt_file
from .sync import Syncer
from .transport import Api, ApiError
from .wording import LANGUAGES, catalogue, editor_language, list_footer

MAX_NOTE_BYTES = 1024 * 1024


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal-editor", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=None, help="configuration file")
    parser.add_argument("--language", default="", choices=["", *LANGUAGES],
                        help="language of what portal-editor writes (saved; default: the locale's)")
    commands = parser.add_subparsers(dest="command", required=True)
    login = commands.add_parser("login", help="get an API token")
    login.add_argument("--server", required=True)
    login.add_argument("--username", required=True)
    login.add_argument("--password-stdin", action="store_true")
    login.add_argument("--otp", default="")
    login.add_argument("--proxy", default="", help="socks5h://127.0.0.1:9050 for an onion")
    login.add_argument("--scope", default="", choices=["", "reencrypt"],
                       help="reencrypt: a token for `reencrypt` (managing editors; lives a day), "
                            "kept beside the usual one")
    commands.add_parser("list", help="list submissions, keys waiting for approval, key changes")
    sync = commands.add_parser("sync", help="download, decrypt and clean into DIR; check "
                                            "re-encrypted copies for your keys")
    sync.add_argument("dir", type=Path)
    commands.add_parser("confirm", help="check re-encrypted copies waiting for your keys")
    reply = commands.add_parser("reply", help="reply to the author (encrypted here)")
    reply.add_argument("submission")
    reply.add_argument("--file", type=Path)
    note = commands.add_parser("note", help="add an internal note (encrypted here)")
    note.add_argument("submission")
    note.add_argument("--file", type=Path)
    commands.add_parser("reencrypt", help="re-encrypt submissions to the current editor keys")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    path = args.config or default_path()
    config = Config.load(path)
    if args.language:
        config.language = args.language
        config.save(path)
    language = editor_language(config.language)
    _ = catalogue(language).gettext
    try:
        if args.command == "login":
            return login(args, config, path, language)
        if args.command == "reencrypt":
            if not config.reencrypt_token:
                complain(_("reencrypt needs its own token: run portal-editor login --scope "
                           "reencrypt first (managing editors)"))
                return 2
            return reencrypt(Api(config.server, config.reencrypt_token, config.proxy, language),
                             language)
        if not config.token:
            complain(_("not logged in; run portal-editor login first"))
            return 2
        api = Api(config.server, config.token, config.proxy, language)
        if args.command == "list":
            return list_submissions(api, config, path)
        if args.command == "sync":
            # The configuration holds the API token: no parser may see it either.
            syncer = Syncer(api, LocalGpg(), args.dir, language=language, also_private=[path])
            problems = syncer.run()
            problems += confirm_pending(api, print)
            report_problems(problems, language)
            print(syncer.summary(len(problems)))
            return 1 if problems else 0
        if args.command == "confirm":
            problems = confirm_pending(api, print)
            report_problems(problems, language)
            return 1 if problems else 0
        if args.command == "note":
            return add_note(api, args, language)
        if args.command == "reply":
            return send_reply(api, args, language)
    except (ApiError, DecryptionFailed) as error:
        complain(str(error))
        return 1
    return 2


def complain(sentence: str) -> None:
    print(f"portal-editor: {sentence}", file=sys.stderr)


def report_problems(problems: list[str], language: str) -> None:
    _ = catalogue(language).gettext
    for problem in problems:
        print(_("problem: {problem}").format(problem=problem), file=sys.stderr)


def login(args: argparse.Namespace, config: Config, path: Path, language: str) -> int:
    _ = catalogue(language).gettext
    password = (sys.stdin.readline().rstrip("\n") if args.password_stdin
                else getpass.getpass(_("Password: ")))
    code = args.otp or input(_("Code from your authenticator: ")).strip()
    api = Api(args.server, proxy=args.proxy, language=language)
    request = {"username": args.username, "password": password, "otp_token": code,
               "label": "portal-editor"}
    if args.scope == "reencrypt":
        request.update(label="portal-editor reencrypt", scopes=["read", "reencrypt"])
    issued = api.post_json("/token/", request)  # type: ignore[arg-type]
    # The token this one replaces stops working now, not at its expiry.
    previous = config.reencrypt_token if args.scope == "reencrypt" else config.token
    if previous and config.server == args.server:
        try:
            Api(config.server, previous, config.proxy, language).delete("/token/")
        except ApiError:
            pass
    config.server, config.username, config.proxy = args.server, args.username, args.proxy
    if args.scope == "reencrypt":
        config.reencrypt_token = issued["token"]
    else:
        config.token = issued["token"]
    config.save(path)
    print(_("logged in ({scopes}); the token expires {day}").format(
        scopes=", ".join(issued.get("scopes", [])), day=issued["expires"][:10]))
    return 0


def list_submissions(api: Api, config: Config, path: Path) -> int:
    """Each piece once, with its versions under it and its state in the editor's language."""
    language = editor_language(config.language)
    rows = api.get_json("/submissions/")["submissions"]
    grouped = pieces(rows)
    for piece in grouped:
        for line in piece_lines(piece, config.seen, language):
            print(line)
    for row in rows:
        config.seen[row["id"]] = signature(row)
    print(list_footer(len(grouped), language))
    list_key_changes(api, config)
    config.save(path)
    return 0


def list_key_changes(api: Api, config: Config) -> None:
    """Keys waiting for approval, and the key, editor, re-encryption and hiding changes of 30 days."""
    _ = catalogue(editor_language(config.language)).gettext
    answer_ = api.get_json("/keys/changes/")
    if answer_["pending"]:
        print("\n" + _("keys waiting for a second managing editor's approval (they receive "
                       "nothing yet):"))
        for key in answer_["pending"]:
            print(f"  {key['editor']:20} {key['fingerprint']}  " + _(
                "proposed by {editor} on {day}").format(
                editor=key["proposed_by"] or _("the admin (on the server's shell)"),
                day=key["proposed_on"]))
    if answer_["changes"]:
        # Each change's sentence comes from the server, in the language asked for.
        print("\n" + _("key, editor, re-encryption and hiding changes of the last 30 days "
                       "(* = new since the last list):"))
        for change in answer_["changes"]:
            new = "*" if change["id"] > config.changes_seen else " "
            print(f"{new} {change['on']}  {change['text']}")
        config.changes_seen = max(config.changes_seen,
                                  max(change["id"] for change in answer_["changes"]))


def _resolve(api: Api, reference: str) -> dict[str, object]:
    # A submission named on purpose is found even if the editors hid its author.
    for row in api.get_json("/submissions/?hidden=1")["submissions"]:
        if row["id"] == reference or row["short_id"] == reference:
            return row  # type: ignore[no-any-return]
    raise ApiError(404, f"no submission {reference}")


def _text(args: argparse.Namespace, language: str) -> bytes | None:
    _ = catalogue(language).gettext
    data = args.file.read_bytes() if args.file else sys.stdin.buffer.read(MAX_NOTE_BYTES + 1)
    if not data.strip() or len(data) > MAX_NOTE_BYTES:
        complain(_("the text is empty or larger than 1 MiB"))
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        complain(_("the text is not UTF-8: save it as UTF-8 and try again"))
        return None
    return data


def send_reply(api: Api, args: argparse.Namespace, language: str) -> int:
    words = catalogue(language)
    data = _text(args, language)
    if data is None:
        return 2
    row = _resolve(api, args.submission)
    first = row.get("revision_of") or row["id"]  # one thread per piece, on its first version
    key = api.get_json(f"/submissions/{first}/")["reply_key"]
    if not key:
        complain(words.gettext("the author has no reply key yet"))
        return 1
    with recipient_keyring(api, {key["fingerprint"]: key["armored"]}) as (home, fingerprints), \
            tempfile.TemporaryDirectory(prefix="penname-out-") as out:
        ciphertext = Path(out) / "reply.gpg"
        encrypt_bytes(home, fingerprints, data, ciphertext)
        api.send_file("POST", f"/submissions/{first}/replies/", ciphertext,
                      {"X-Penname-Reply-Key": key["fingerprint"]})
    editors = len(fingerprints) - 1
    print(words.ngettext(
        "reply sent to the author of {ref} (encrypted here to their reply key and {n} editor key)",
        "reply sent to the author of {ref} (encrypted here to their reply key and {n} editor "
        "keys)", editors).format(ref=row["short_id"], n=editors))
    return 0


def add_note(api: Api, args: argparse.Namespace, language: str) -> int:
    words = catalogue(language)
    data = _text(args, language)
    if data is None:
        return 2
    row = _resolve(api, args.submission)
    with recipient_keyring(api) as (home, fingerprints), \
            tempfile.TemporaryDirectory(prefix="penname-out-") as out:
        ciphertext = Path(out) / "note.gpg"
        encrypt_bytes(home, fingerprints, data, ciphertext)
        api.send_file("POST", f"/submissions/{row['id']}/notes/", ciphertext)
    print(words.ngettext("note added to {ref} (encrypted here to {n} key)",
                         "note added to {ref} (encrypted here to {n} keys)",
                         len(fingerprints)).format(ref=row["short_id"], n=len(fingerprints)))
    return 0


def reencrypt(api: Api, language: str) -> int:
    """Propose copies encrypted to the current editor keys; confirm them for this editor's keys.

    Each copy waits on the server beside the old ciphertext until every editor's
    portal-editor (sync or confirm) has checked it with their own key.
    """
    words = catalogue(language)
    proposed = completed = 0
    waiting = {r["blob"] for r in api.get_json("/replacements/")["replacements"]}
    with recipient_keyring(api) as (home, fingerprints), \
            tempfile.TemporaryDirectory(prefix="penname-reencrypt-") as work_dir:
        work = Path(work_dir)
        # Hidden authors' submissions too: every stored ciphertext must reach the current keys.
        for row in api.get_json("/submissions/?hidden=1")["submissions"]:
            detail = api.get_json(f"/submissions/{row['id']}/")
            if sorted(detail["recipients"]) == sorted(fingerprints):
                continue
            for entry in [*detail["files"], detail["manifest"]]:
                if entry["name"] in waiting:
                    print(words.gettext("{ref}: a copy of {blob}… is already waiting for "
                                        "confirmations").format(ref=detail["short_id"],
                                                                blob=entry["name"][:8]))
                    continue
                old, new = work / "old.gpg", work / "new.gpg"
                old.unlink(missing_ok=True)
                api.download(f"/submissions/{row['id']}/blobs/{entry['name']}", old, entry["size"])
                sha256 = reencrypt_file(old, home, fingerprints, new)
                stored = api.send_file("PUT", f"/submissions/{row['id']}/blobs/{entry['name']}",
                                       new, {"X-Penname-Plaintext-SHA256": sha256})
                proposed += 1
                mine = [r for r in api.get_json("/replacements/")["replacements"]
                        if r["id"] == stored["replacement"]]
                if mine and mine[0]["mine"]:
                    state, _ = answer(api, mine[0], new, binary(old, work))
                    completed += state == "completed"
            print(words.gettext("proposed re-encrypted copies for {ref}").format(
                ref=detail["short_id"]))
    print(words.ngettext(
        "{n} re-encrypted copy proposed to {keys} key(s); {done} already confirmed by every key.",
        "{n} re-encrypted copies proposed to {keys} key(s); {done} already confirmed by every "
        "key.", proposed).format(n=proposed, keys=len(fingerprints), done=completed),
        words.gettext("The others replace the old ciphertext once every editor's portal-editor "
                      "sync has checked them."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
