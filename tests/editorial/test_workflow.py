"""The state machine refuses every transition not in the table and records every allowed one."""

from __future__ import annotations

import itertools

import pytest

from portal.editors.models import Editor
from portal.submissions import workflow
from portal.submissions.models import AuditEvent, Author, StateChange, Submission
from tests.editorial.editors import make_editor

pytestmark = pytest.mark.django_db
STATES = [s for s, _ in Submission.State.choices]


def make_submission(state: str = "new") -> Submission:
    author = Author.objects.create(lookup=__import__("os").urandom(32), pen_name="pen")
    return Submission.objects.create(author=author, state=state, file_count=1, cleaned_bytes=1,
                                     manifest_blob=__import__("secrets").token_hex(16) + ".gpg")


@pytest.mark.parametrize("start, target", list(itertools.product(STATES, STATES)))
def test_every_pair_of_states_follows_the_table(start, target):
    managing = make_editor("boss", Editor.Role.MANAGING)
    submission = make_submission(start)
    allowed = target in workflow.TRANSITIONS[start] and target not in workflow.AUTHOR_ONLY
    if allowed:
        change = workflow.change_state(submission, target, managing)
        assert (change.from_state, change.to_state, change.by) == (start, target, managing)
        assert change.at is not None
        assert Submission.objects.get(pk=submission.pk).state == target
        assert AuditEvent.objects.filter(action="state", actor=managing).count() == 1
    else:
        with pytest.raises(workflow.TransitionRefused):
            workflow.change_state(submission, target, managing)
        assert Submission.objects.get(pk=submission.pk).state == start
        assert StateChange.objects.count() == 0


def test_decisions_need_a_managing_editor():
    editor = make_editor("ed")
    submission = make_submission("in_review")
    for decision in ("accepted", "declined", "revisions_requested"):
        with pytest.raises(workflow.TransitionRefused, match="role"):
            workflow.change_state(submission, decision, editor)
    workflow.change_state(make_submission("new"), "in_review", editor)


def test_only_the_author_withdraws_and_keeps_only_the_day():
    editor = make_editor("boss", Editor.Role.MANAGING)
    submission = make_submission("in_review")
    with pytest.raises(workflow.TransitionRefused):
        workflow.change_state(submission, "withdrawn", editor)
    change = workflow.change_state(submission, "withdrawn", None)
    assert change.by is None and change.at is None and change.on is not None
    assert Submission.objects.get(pk=submission.pk).closed_on is not None


def test_users_who_are_not_editors_cannot_change_state(django_user_model):
    stranger = django_user_model.objects.create_user("stranger")
    with pytest.raises(workflow.TransitionRefused, match="Only editors"):
        workflow.change_state(make_submission(), "in_review", stranger)


def test_reopening_clears_the_closing_day():
    boss = make_editor("boss", Editor.Role.MANAGING)
    submission = make_submission("new")
    workflow.change_state(submission, "declined", boss)
    assert Submission.objects.get(pk=submission.pk).closed_on is not None
    workflow.change_state(submission, "in_review", boss)
    assert Submission.objects.get(pk=submission.pk).closed_on is None
