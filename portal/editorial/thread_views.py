"""Editor side of the thread: reply from the web page, and decisions with a message.

Who may call what: any editor with a verified second factor may reply
(`editor_required`); a decision with a message goes through the workflow,
which lets only managing editors decide. The page says plainly that the server
encrypts a reply written here on arrival; `portal-editor reply` encrypts it on
the editor's own machine instead.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.access import editor_required, editor_user
from portal.correspondence import thread
from portal.correspondence.forms import ReplyForm
from portal.correspondence.models import Message
from portal.submissions import audit

from .views import render_submission, submission_or_404


@require_POST
@editor_required
def reply(request: HttpRequest, public_id: Any) -> HttpResponse:
    submission = submission_or_404(public_id).first_version
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return render_submission(request, submission, _("The reply is empty or too long."),
                                  status=400, reply_form=form)
    try:
        thread.post(submission, form.cleaned_data["text"], sender=Message.Sender.EDITOR,
                    user=editor_user(request))
    except thread.MessageNotSent as failed:
        return render_submission(request, submission, failed.reason.sentence(),
                                  status=503, reply_form=form)
    audit.record(request.user, "reply", submission.short_id, via="web")
    messages.success(request, _("Your reply was sent. The author reads it the next time they "
                                "log in."))
    return redirect("editorial:submission", public_id=submission.public_id)
