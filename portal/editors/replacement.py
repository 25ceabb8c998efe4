"""Re-encrypted ciphertext replaces the old only when it provably still reaches every editor.

Threat answered: one account or one API token destroying or forging stored
drafts by swapping their ciphertext for a message only the attacker can read.
The server cannot check whom a message reaches: recipients are hidden
(--throw-keyids), and even a session-key packet that names a key proves
nothing, since a hostile client can wrap a wrong session key for the right key.
So nothing is replaced on the word of one client:

1. A managing editor's `portal-editor reencrypt` (a token with the `reencrypt`
   scope) uploads a *candidate* for one file or manifest of a submission, with
   the SHA-256 of the plaintext it claims to hold. The candidate is stored
   under a new random name beside the old ciphertext, which stays in use.
   `required` is every key that must confirm: every approved, active key of an
   active editor (the keys new ciphertext goes to), plus any key the old
   ciphertext reached whose owner is still an editor without such a key, so
   that deactivating a colleague's key first cannot shrink the set.
2. Each editor's `portal-editor` (sync, confirm, or reencrypt itself) downloads
   the candidate, decrypts it with the editor's own gpg, one session-key packet
   at a time to learn which of its keys each one opens, and answers for its
   own account's keys only: confirmed with the plaintext's SHA-256, or refused
   ("cannot-decrypt", "differs"). A key that the old ciphertext reached must
   also have decrypted the old and found the same plaintext (`compared`).
3. When every required key has confirmed the declared hash, the candidate's
   bytes take the old name in one atomic store operation, the submission's
   recipients are updated, and the candidate is deleted. A refusal or a
   different hash discards the candidate instead; the old ciphertext is
   untouched. `portal purge` discards candidates still waiting after
   PENDING_DAYS.

States: pending → completed | discarded (reason: cannot-decrypt, differs,
hash, expired, superseded). Every transition is audited and shown to every
editor (`portal.editors.changes`).

What is not proven: that a new key's owner (who could not read the old
ciphertext) reads the same text, if every editor who could read the old one
is the proposer; such a proposer can read the draft anyway.
"""

from __future__ import annotations

import enum
import re
from datetime import timedelta
from typing import Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.store import Store, StoreError
from portal.submissions import audit
from portal.submissions import recipients as editor_keys
from portal.submissions.models import EditorKey, Submission

from .models import Replacement, ReplacementConfirmation

# A candidate nobody has finished confirming is discarded after this many days.
PENDING_DAYS = 14
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class Discarded(enum.StrEnum):
    """Why a re-encrypted candidate was discarded (the old file stays)."""

    CANNOT_DECRYPT = "cannot-decrypt"  # an editor's client refused: its key could not decrypt
    DIFFERS = "differs"  # an editor's client refused: the text differs from the old file
    HASH = "hash"  # an editor's client found other contents than the proposer declared
    EXPIRED = "expired"  # not every editor confirmed within PENDING_DAYS
    SUPERSEDED = "superseded"  # a newer candidate for the same file was proposed
    GONE = "gone"  # the old file was deleted meanwhile

    def sentence(self) -> str:
        """The clause an editor reads in the list of changes."""
        return {
            Discarded.CANNOT_DECRYPT: lambda: _("an editor's key could not decrypt it"),
            Discarded.DIFFERS: lambda: _("it does not hold the same text as the old one"),
            Discarded.HASH: lambda: _("an editor's key found other contents than declared"),
            Discarded.EXPIRED: lambda: _("not every editor confirmed it in time"),
            Discarded.SUPERSEDED: lambda: _("a newer copy was proposed"),
            Discarded.GONE: lambda: _("the old file no longer exists"),
        }[self]()


# What an editor's client may answer instead of confirming.
REFUSALS = (Discarded.CANNOT_DECRYPT, Discarded.DIFFERS)


class ReplacementRefused(Exception):
    """The request cannot be accepted; `status` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def candidate_limit() -> int:
    """The largest candidate accepted: a file's ciphertext with room for many recipients."""
    return 2 * settings.PORTAL_MAX_FILE_BYTES + 1024 * 1024


def replaceable_names(submission: Submission) -> list[str]:
    """A submission's manifest and files: the only ciphertext re-encryption may replace.

    Notes and thread messages are never replaced: a replaced message could put
    words in another editor's or the author's mouth.
    """
    return [submission.manifest_blob, *submission.files.values_list("blob", flat=True)]


def blob_recipients(submission: Submission, name: str) -> list[str]:
    """Whom this ciphertext reaches: its last completed replacement's keys, else the submission's."""
    done = Replacement.objects.filter(submission=submission, blob=name,
                                      state=Replacement.State.COMPLETED).order_by("-id").first()
    return list(done.required) if done else list(submission.recipients)


def required_keys(submission: Submission, name: str) -> list[str]:
    current = editor_keys.recipients()
    covered = set(EditorKey.objects.filter(fingerprint__in=current).values_list("user_id", flat=True))
    old = EditorKey.objects.filter(fingerprint__in=blob_recipients(submission, name),
                                   user__is_active=True, user__editor__isnull=False) \
        .exclude(user_id__in=covered).values_list("fingerprint", flat=True)
    return [*current, *sorted(set(old) - set(current))]


def propose(submission: Submission, name: str, source: BinaryIO, proposer: Any,
            plaintext_sha256: str) -> Replacement:
    """Store a candidate beside `name` and wait for every required key to confirm it."""
    if name not in replaceable_names(submission):
        raise ReplacementRefused("only a submission's manifest and files can be re-encrypted", 404)
    declared = plaintext_sha256.strip().lower()
    if not SHA256_RE.match(declared):
        raise ReplacementRefused("X-Penname-Plaintext-SHA256 must give the SHA-256 of the "
                                 "plaintext (64 hex digits)")
    required = required_keys(submission, name)
    if not required:
        raise ReplacementRefused("no approved editor key could confirm a replacement", 409)
    ring = editor_keys.keyring()
    try:
        candidate = Store.default().receive(source, candidate_limit(), ring.is_encrypted_message)
    except StoreError as refused:
        raise ReplacementRefused(f"not stored: {refused}") from None
    superseded: list[Replacement] = []
    with transaction.atomic():
        for older in Replacement.objects.select_for_update().filter(
                blob=name, state=Replacement.State.PENDING):
            _discard(older, Discarded.SUPERSEDED, proposer)
            superseded.append(older)
        replacement = Replacement.objects.create(
            submission=submission, blob=name, candidate=candidate, proposed_by=proposer,
            plaintext_sha256=declared, required=required,
            old_recipients=blob_recipients(submission, name))
        audit.record(proposer, "reencrypt-proposed", submission.short_id, file=name,
                     replacement=replacement.pk, required=len(required))
    return replacement


def outstanding(replacement: Replacement) -> list[str]:
    """Required keys that have not confirmed yet."""
    done = set(replacement.confirmations.values_list("fingerprint", flat=True))  # type: ignore[attr-defined]
    return [f for f in replacement.required if f not in done]


def answer(replacement_id: int, user: Any, fingerprint: str, *, plaintext_sha256: str = "",
           compared: bool = False, refusal: str = "") -> Replacement:
    """Record one key's confirmation or refusal; complete or discard when that decides it.

    Only the key's owner may answer for it. A refusal, or a hash other than the
    declared one, discards the candidate; the last matching confirmation swaps it in.
    """
    fingerprint = fingerprint.strip().upper()
    with transaction.atomic():
        replacement = Replacement.objects.select_for_update().select_related("submission") \
            .filter(pk=replacement_id).first()
        if replacement is None:
            raise ReplacementRefused("no such replacement", 404)
        if replacement.state != Replacement.State.PENDING:
            raise ReplacementRefused(f"this replacement is {replacement.state} already", 409)
        if fingerprint not in replacement.required:
            raise ReplacementRefused("this key is not asked to confirm this replacement")
        if not EditorKey.objects.filter(fingerprint=fingerprint, user=user).exists():
            raise ReplacementRefused("only the key's owner can answer for it", 403)
        if fingerprint not in outstanding(replacement):
            raise ReplacementRefused("this key has answered already", 409)
        if refusal:
            if refusal not in REFUSALS:
                raise ReplacementRefused(f"a refusal is one of: {', '.join(REFUSALS)}")
            _discard(replacement, Discarded(refusal), user, key=fingerprint)
            return replacement
        found = plaintext_sha256.strip().lower()
        if not SHA256_RE.match(found):
            raise ReplacementRefused("give plaintext_sha256 (64 hex digits) or a refusal")
        if fingerprint in replacement.old_recipients and not compared:
            raise ReplacementRefused("this key could read the old ciphertext: decrypt it too and "
                                     "confirm only if both hold the same plaintext")
        if found != replacement.plaintext_sha256:
            _discard(replacement, Discarded.HASH, user, key=fingerprint)
            return replacement
        ReplacementConfirmation.objects.create(
            replacement=replacement, fingerprint=fingerprint, confirmed_by=user,
            plaintext_sha256=found, compared=compared)
        if not outstanding(replacement):
            _complete(replacement)
    return replacement


def _complete(replacement: Replacement) -> None:
    """Swap the candidate in under the old name (inside the caller's transaction)."""
    submission = replacement.submission
    target = Store.default()
    ring = editor_keys.keyring()
    if replacement.blob not in replaceable_names(submission):
        _discard(replacement, Discarded.GONE, None)
        return
    with target.open(replacement.candidate) as candidate:
        # One atomic rename: every reader sees the old ciphertext or the new, never neither.
        target.receive(candidate, candidate_limit(), ring.is_encrypted_message,
                       replace=replacement.blob)
    size = target.size(replacement.blob)
    submission.files.filter(blob=replacement.blob).update(ciphertext_bytes=size)
    replacement.state = Replacement.State.COMPLETED
    replacement.closed_on = timezone.now().date()  # type: ignore[assignment]
    replacement.save(update_fields=["state", "closed_on"])
    # The keys that can read every part of the submission now.
    reach = None
    for name in replaceable_names(submission):
        keys_of = set(blob_recipients(submission, name))
        reach = keys_of if reach is None else reach & keys_of
    submission.recipients = [f for f in replacement.required if f in (reach or set())]
    submission.save(update_fields=["recipients"])
    audit.record(None, "reencrypt-completed", submission.short_id, file=replacement.blob,
                 replacement=replacement.pk, keys=len(replacement.required))
    name = replacement.candidate
    transaction.on_commit(lambda: target.delete([name]))


def _discard(replacement: Replacement, reason: Discarded, by: Any, **detail: Any) -> None:
    replacement.state = Replacement.State.DISCARDED
    replacement.reason = reason.value
    replacement.closed_on = timezone.now().date()  # type: ignore[assignment]
    replacement.save(update_fields=["state", "reason", "closed_on"])
    audit.record(by, "reencrypt-discarded", replacement.submission.short_id,
                 file=replacement.blob, replacement=replacement.pk, reason=reason.value, **detail)
    name = replacement.candidate
    transaction.on_commit(lambda: Store.default().delete([name]))


def expire(days: int = PENDING_DAYS) -> int:
    """Discard candidates still waiting after `days`; return how many."""
    cutoff = timezone.now().date() - timedelta(days=days)
    count = 0
    for replacement in Replacement.objects.filter(state=Replacement.State.PENDING,
                                                  proposed_on__lt=cutoff):
        with transaction.atomic():
            _discard(replacement, Discarded.EXPIRED, None)
        count += 1
    return count


def waiting_for(user: Any) -> list[dict[str, Any]]:
    """Pending replacements, each with the keys of `user` that must still answer (`mine`)."""
    own = set(EditorKey.objects.filter(user=user).values_list("fingerprint", flat=True))
    answers = []
    for replacement in Replacement.objects.filter(state=Replacement.State.PENDING) \
            .select_related("submission", "proposed_by").prefetch_related("confirmations"):
        left = outstanding(replacement)
        answers.append({
            "id": replacement.pk,
            "submission": str(replacement.submission.public_id),
            "short_id": replacement.submission.short_id,
            "blob": replacement.blob,
            "size": _size(replacement.candidate),
            "plaintext_sha256": replacement.plaintext_sha256,
            "required": replacement.required,
            "old_recipients": replacement.old_recipients,
            "outstanding": left,
            "mine": [f for f in left if f in own],
            "proposed_by": (replacement.proposed_by.get_username()
                            if replacement.proposed_by else None),
            "proposed_on": replacement.proposed_on.isoformat(),
        })
    return answers


def _size(name: str) -> int:
    try:
        return Store.default().size(name)
    except (OSError, ValueError):
        return 0
