"""The key registry's changes: proposing, approving and deactivating editor keys.

Which keys receive is `portal.submissions.recipients`: only approved keys.

Threat answered (a hostile colleague, a coerced editor, a seized phone): no one
account can make a new key receive drafts. A key is *proposed* by a managing
editor (or by the admin on the server's shell) and receives nothing until a
second managing editor approves it with a fresh code: someone who neither
proposed it nor owns it. The admin's root shell on the server can stand in
for that second person (`portal approve_key`); on a one-person magazine that is
the configuration, and the protection is then the server's shell (README,
SECURITY.md). A fingerprint registered to one editor is never moved to
another. Every change is written to the audit log and shown to every editor
(`portal.editors.changes`).
"""

from __future__ import annotations

import enum
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.crypto.openpgp import KeyInfo, Keyring, KeyUnusable
from portal.submissions import audit
from portal.submissions.models import EditorKey
from portal.submissions.recipients import keyring


class KeyRefusal(enum.StrEnum):
    """Why a key change was refused; the value is the English sentence the shell prints."""

    TAKEN = "this key is already registered to another editor"
    REGISTERED = "this key is already registered"
    NOT_PENDING = "this key is not waiting for approval"
    NOT_MANAGING = "only a managing editor can approve a key"
    OWN_PROPOSAL = "you proposed this key: a second managing editor must approve it"
    OWN_KEY = "this is your own key: another managing editor must approve it"

    def sentence(self) -> str:
        """The same sentence in the reader's language."""
        return {
            KeyRefusal.TAKEN: lambda: _("this key is already registered to another editor"),
            KeyRefusal.REGISTERED: lambda: _("this key is already registered"),
            KeyRefusal.NOT_PENDING: lambda: _("this key is not waiting for approval"),
            KeyRefusal.NOT_MANAGING: lambda: _("only a managing editor can approve a key"),
            KeyRefusal.OWN_PROPOSAL: lambda: _(
                "you proposed this key: a second managing editor must approve it"),
            KeyRefusal.OWN_KEY: lambda: _(
                "this is your own key: another managing editor must approve it"),
        }[self]()


class KeyAlreadyRegistered(KeyUnusable):
    """The fingerprint is in the registry already (perhaps another editor's): nothing changed."""

    def __init__(self, refusal: KeyRefusal, fingerprint: str) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal
        self.fingerprint = fingerprint


class ApprovalRefused(Exception):
    """This person may not approve this key; `refusal` says why."""

    def __init__(self, refusal: KeyRefusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


def pending_keys() -> list[EditorKey]:
    """Keys proposed and not yet approved: they receive nothing."""
    return list(EditorKey.objects.filter(active=True, user__is_active=True,
                                         approved_on__isnull=True)
                .select_related("user", "proposed_by").order_by("id"))


def _text(armored: str | bytes) -> str:
    return armored if isinstance(armored, str) else armored.decode("ascii", "replace")


def add_key(owner: User, armored: str | bytes, proposed_by: User | None,
            ring: Keyring | None = None) -> EditorKey:
    """Propose `owner`'s public key; it receives nothing until `approve_key`.

    `proposed_by` is the managing editor who proposes it, or None for the
    admin on the server's shell. A fingerprint registered to another editor is
    refused (KeyAlreadyRegistered), and so is one already active for `owner`,
    unless it is a renewal: the same key sent again (a later expiry, a new
    subkey that only the key's holder can certify) keeps its approval. An
    inactive key of `owner` proposed again waits for approval like a new one.
    Raises KeyUnusable with the reason for anything gpg or the checks refuse.
    """
    ring = ring or keyring()
    data = armored.encode("ascii", "replace") if isinstance(armored, str) else armored
    # Look before importing: a colleague's key must not even be touched in the keyring.
    contents = ring.inspect_key(data)
    for fingerprint in contents.fingerprints:
        existing = EditorKey.objects.filter(fingerprint=fingerprint).first()
        if existing is not None and existing.user_id != owner.pk:
            raise KeyAlreadyRegistered(KeyRefusal.TAKEN, fingerprint)
    info: KeyInfo = ring.import_public_key(data)
    with transaction.atomic():
        key = EditorKey.objects.select_for_update().filter(fingerprint=info.fingerprint).first()
        if key is not None and key.user_id != owner.pk:
            raise KeyAlreadyRegistered(KeyRefusal.TAKEN, key.fingerprint)
        text = _text(armored)
        material = {"armored": text, "algorithm": info.algorithm,
                    "user_ids": list(info.user_ids), "expires_on": info.expires}
        if key is not None and key.active:
            if key.armored.strip() == text.strip():
                raise KeyAlreadyRegistered(KeyRefusal.REGISTERED, key.fingerprint)
            for name, value in material.items():
                setattr(key, name, value)
            key.save(update_fields=list(material))
            audit.record(proposed_by, "key-renewed", key.fingerprint,
                         owner=owner.get_username(), expires=str(info.expires or ""))
            return key
        if key is None:
            key = EditorKey(fingerprint=info.fingerprint, user=owner)
        for name, value in material.items():
            setattr(key, name, value)
        key.active = True
        key.proposed_by = proposed_by
        key.approved_by = None
        key.approved_on = None
        key.added_on = timezone.now().date()
        key.save()
        audit.record(proposed_by, "key-proposed", key.fingerprint, owner=owner.get_username(),
                     via="web" if proposed_by is not None else "shell")
    return key


def approval_refusal(key: EditorKey, approver: Any) -> KeyRefusal | None:
    """Why `approver` may not approve `key` (None if they may). None is the server's shell."""
    if not key.pending:
        return KeyRefusal.NOT_PENDING
    if approver is None:
        return None
    editor = getattr(approver, "editor", None)
    if not approver.is_active or editor is None or not editor.is_managing:
        return KeyRefusal.NOT_MANAGING
    if key.proposed_by_id == approver.pk:
        return KeyRefusal.OWN_PROPOSAL
    if key.user_id == approver.pk:
        return KeyRefusal.OWN_KEY
    return None


def approve_key(key: EditorKey, approver: User | None, via: str = "web") -> EditorKey:
    """Let `key` receive new submissions: the second person's act. None is the server's shell."""
    with transaction.atomic():
        key = EditorKey.objects.select_for_update().select_related("user").get(pk=key.pk)
        refusal = approval_refusal(key, approver)
        if refusal is not None:
            raise ApprovalRefused(refusal)
        key.approved_by = approver
        key.approved_on = timezone.now().date()
        key.save(update_fields=["approved_by", "approved_on"])
        proposer = key.proposed_by.get_username() if key.proposed_by else "shell"
        audit.record(approver, "key-approved", key.fingerprint, owner=key.user.get_username(),
                     proposed_by=proposer, via=via)
    return key


def deactivate_key(key: EditorKey, by: User | None) -> None:
    """Stop encrypting to `key` at once (a lost laptop cannot wait for a second person)."""
    EditorKey.objects.filter(pk=key.pk).update(active=False)
    audit.record(by, "key-deactivated", key.fingerprint, owner=key.user.get_username())


def may_bootstrap(owner: User) -> bool:
    """True at install time: no approved key anywhere and no other managing editor.

    Then no one else exists who could approve the first managing editor's key,
    so the server's shell approves it (`portal add_editor --managing`).
    """
    from .models import Editor

    if EditorKey.objects.filter(approved_on__isnull=False, active=True,
                                user__is_active=True).exists():
        return False
    return not Editor.objects.filter(role=Editor.Role.MANAGING, user__is_active=True) \
        .exclude(user=owner).exists()
