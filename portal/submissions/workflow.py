"""The editorial state machine: allowed transitions in one table, one function to move.

Promise: a submission's state changes only through `change_state()`, which
refuses any transition not in TRANSITIONS, refuses decisions to editors who may
not take them, and records who, when, from and to in the same transaction.
Nothing else writes `Submission.state`.

Withdrawal belongs to the author (they have no account, so `by` is None and the
change keeps only the day, like every other trace of author activity). The
author also moves a submission from "revisions requested" back into review,
XX.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .models import StateChange, Submission

State = Submission.State
LABELS = dict(State.choices)

TRANSITIONS: dict[str, frozenset[str]] = {
    State.NEW: frozenset({State.IN_REVIEW, State.DECLINED, State.WITHDRAWN}),
    State.IN_REVIEW: frozenset({
        State.REVISIONS_REQUESTED, State.ACCEPTED, State.DECLINED, State.WITHDRAWN,
    }),
    State.REVISIONS_REQUESTED: frozenset({State.IN_REVIEW, State.DECLINED, State.WITHDRAWN}),
    State.ACCEPTED: frozenset({State.PUBLISHED, State.IN_REVIEW, State.WITHDRAWN}),
    State.PUBLISHED: frozenset(),
    State.DECLINED: frozenset({State.IN_REVIEW}),
    State.WITHDRAWN: frozenset(),
}
# Decisions are for managing editors; any editor may take a submission into review.
DECISIONS = frozenset({State.REVISIONS_REQUESTED, State.ACCEPTED, State.PUBLISHED, State.DECLINED})
# Only the author withdraws.
AUTHOR_ONLY = frozenset({State.WITHDRAWN})
# What the author's own actions may change: withdrawing, and sending a revision.
AUTHOR_MOVES = frozenset({State.WITHDRAWN, State.IN_REVIEW})
# States in which the author may send a new version.
OPEN_FOR_REVISIONS = frozenset({State.NEW, State.IN_REVIEW, State.REVISIONS_REQUESTED,
                                State.ACCEPTED})
# States after which the submission is deleted once the retention period has passed.
CLOSED = frozenset({State.DECLINED, State.WITHDRAWN})


class TransitionRefused(Exception):
    """This change of state is not allowed (the message says why)."""


def allowed_targets(submission: Submission, editor: Any | None) -> list[str]:
    """The states this editor may move the submission to (with None: the author may withdraw)."""
    if editor is None:
        return [s for s in TRANSITIONS[submission.state] if s in AUTHOR_ONLY]
    return [s for s in TRANSITIONS[submission.state] if _may(editor, s)]


def takes_revisions(submission: Submission) -> bool:
    return submission.state in OPEN_FOR_REVISIONS


def _may(editor: Any | None, target: str) -> bool:
    if editor is None:
        return target in AUTHOR_MOVES
    if target in AUTHOR_ONLY:
        return False
    return target not in DECISIONS or editor.is_managing


def change_state(submission: Submission, target: str, user: Any | None) -> StateChange:
    """Move `submission` to `target` on behalf of `user` (None: the author)."""
    editor = getattr(user, "editor", None) if user is not None else None
    if user is not None and editor is None:
        raise TransitionRefused(_("Only editors change a submission's state."))
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        current = locked.state
        if target not in TRANSITIONS.get(current, frozenset()):
            raise TransitionRefused(_("A submission cannot go from “%(from)s” to “%(to)s”.") % {
                "from": LABELS.get(current, current), "to": LABELS.get(target, target)})
        if not _may(editor, target) or (
            editor is None and target == State.IN_REVIEW and current != State.REVISIONS_REQUESTED
        ):
            raise TransitionRefused(_("Your role does not allow this decision."))
        locked.state = target
        locked.closed_on = timezone.now().date() if target in CLOSED else None
        locked.save(update_fields=["state", "closed_on"])
        change = StateChange.objects.create(
            submission=locked, from_state=current, to_state=target, by=user,
            at=timezone.now() if user is not None else None,
        )
        if user is not None:
            audit.record(user, "state", locked.short_id, **{"from": current, "to": target})
    submission.state = locked.state
    submission.closed_on = locked.closed_on
    return change
