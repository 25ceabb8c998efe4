"""Key and account changes, shown to every editor until they mark them seen.

Threat answered: a hostile colleague, a coerced editor or someone with a seized
phone changing who can read drafts, or hiding real work, quietly. Every
proposal, approval, renewal and deactivation of a key, every editor added or
removed, every change made in the Django admin, every re-encryption of stored
ciphertext and every author hidden or shown again is an audit event; every
editor page lists the ones this editor has not marked as seen, oldest first
(so "seen" never skips one), `portal-editor list` prints them, and `portal
check_keys` prints the last 30 days' and the keys waiting for approval. Only
days are shown, like every date an editor sees of others' acts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.submissions.models import AuditEvent

from .models import Editor
from .replacement import Discarded

KEY_ACTIONS = ("key-proposed", "key-approved", "key-renewed", "key-deactivated",
               "editor-added", "editor-removed", "editor-role-changed")
ADMIN_ACTIONS = ("admin-added", "admin-changed", "admin-deleted")
REENCRYPT_ACTIONS = ("reencrypt-proposed", "reencrypt-completed", "reencrypt-discarded")
HIDING_ACTIONS = ("author-hidden", "author-shown")
NOTICE_ACTIONS = KEY_ACTIONS + ADMIN_ACTIONS + REENCRYPT_ACTIONS + HIDING_ACTIONS
# Events shown at once on a page; "seen" marks these, and the next ones follow.
NOTICE_LIMIT = 20
RECENT_DAYS = 30


def notice_events() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(action__in=NOTICE_ACTIONS).select_related("actor")


def unseen(editor: Editor) -> tuple[list[AuditEvent], int]:
    """The oldest NOTICE_LIMIT changes this editor has not marked seen, and how many in all."""
    waiting = notice_events().filter(id__gt=editor.changes_seen)
    return list(waiting.order_by("id")[:NOTICE_LIMIT]), waiting.count()


def acknowledge(editor: Editor, through: int) -> None:
    """Mark every change up to event `through` as seen (never backwards, never past the last)."""
    newest = AuditEvent.objects.aggregate(newest=Max("id"))["newest"] or 0
    through = min(through, newest)
    Editor.objects.filter(pk=editor.pk, changes_seen__lt=through).update(changes_seen=through)


def newest_event_id() -> int:
    return int(AuditEvent.objects.aggregate(newest=Max("id"))["newest"] or 0)


def recent(days: int = RECENT_DAYS) -> list[AuditEvent]:
    since = timezone.now() - timedelta(days=days)
    return list(notice_events().filter(at__gte=since).order_by("id"))


def _actor(event: AuditEvent) -> str:
    if event.actor is None:
        return _("the admin (on the server's shell)")
    return event.actor.get_username()


def _discarded(code: Any) -> str:
    try:
        return Discarded(str(code)).sentence()
    except ValueError:
        return "?"


def describe(event: AuditEvent) -> str:
    """One sentence, in the active language, saying what changed."""
    detail: dict[str, Any] = event.detail or {}
    values = {"actor": _actor(event), "target": event.target,
              "owner": str(detail.get("owner", "")), "fingerprint": event.target}
    texts = {
        "key-proposed": lambda: _("%(actor)s proposed a key for %(owner)s (%(fingerprint)s); it "
                                  "receives nothing until a second managing editor approves "
                                  "it.") % values,
        "key-approved": lambda: _("%(actor)s approved the key %(fingerprint)s of %(owner)s; new "
                                  "submissions are encrypted to it.") % values,
        "key-renewed": lambda: _("%(actor)s renewed the key %(fingerprint)s of %(owner)s (the "
                                 "same key with a new expiry or subkey).") % values,
        "key-deactivated": lambda: _("%(actor)s deactivated the key %(fingerprint)s of "
                                     "%(owner)s.") % values,
        "editor-added": lambda: _("%(actor)s added the editor %(target)s.") % values,
        "editor-removed": lambda: _("%(actor)s removed the editor %(target)s.") % values,
        "editor-role-changed": lambda: (
            _("%(actor)s made %(target)s a managing editor.") if detail.get("role") == "managing"
            else _("%(actor)s made %(target)s an editor (no longer managing).")) % values,
        "admin-added": lambda: _("%(actor)s added %(target)s in the admin.") % values,
        "admin-changed": lambda: _("%(actor)s changed %(target)s in the admin.") % values,
        "admin-deleted": lambda: _("%(actor)s deleted %(target)s in the admin.") % values,
        "reencrypt-proposed": lambda: _(
            "%(actor)s proposed a re-encrypted copy of a file of submission %(target)s; it "
            "replaces the old one only when every editor's key has confirmed it.") % values,
        "reencrypt-completed": lambda: _(
            "A re-encrypted copy of a file of submission %(target)s was confirmed by every "
            "editor's key and replaced the old one.") % values,
        "reencrypt-discarded": lambda: _(
            "A re-encrypted copy of a file of submission %(target)s was discarded (%(reason)s); "
            "the old one stays.") % {
            **values, "reason": _discarded(detail.get("reason"))},
        "author-hidden": lambda: _(
            "%(actor)s hid every submission and message from the author of %(target)s; any "
            "editor can show them again under Hidden authors.") % values,
        "author-shown": lambda: _("%(actor)s showed the author of %(target)s again.") % values,
    }
    text = texts.get(event.action)
    return text() if text else f"{values['actor']}: {event.action} {event.target}"


def as_dict(event: AuditEvent) -> dict[str, Any]:
    """For the API and `portal check_keys`: the day, never the time."""
    return {"id": event.pk, "action": event.action, "on": event.at.date().isoformat(),
            "by": event.actor.get_username() if event.actor else None, "target": event.target,
            "text": describe(event)}
