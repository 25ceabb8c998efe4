"""`{% changes_notice %}`: the key and account changes an editor has not marked seen yet."""

from __future__ import annotations

from typing import Any

from django import template

from portal.access import editor_of
from portal.editors import changes, keys

register = template.Library()


@register.inclusion_tag("editorial/_changes.html", takes_context=True)
def changes_notice(context: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    editor = editor_of(user)
    if editor is None or not user.is_verified():  # type: ignore[union-attr]
        return {"show": False}
    events, total = changes.unseen(editor)
    pending = keys.pending_keys() if editor.is_managing else []
    return {
        "show": bool(events or pending),
        "events": [{"day": e.at.date(), "text": changes.describe(e)} for e in events],
        "more": total - len(events),
        "through": events[-1].pk if events else 0,
        "next": request.get_full_path()[:200],
        "pending": len(pending),
        "csrf_token": context.get("csrf_token"),
    }
