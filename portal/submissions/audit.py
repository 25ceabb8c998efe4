"""One way to record what an editor did (no addresses, no user agents)."""

from __future__ import annotations

from typing import Any

from .models import AuditEvent


def record(actor: Any, action: str, target: str = "", **detail: Any) -> None:
    AuditEvent.objects.create(actor=actor, action=action, target=target[:120], detail=detail)
