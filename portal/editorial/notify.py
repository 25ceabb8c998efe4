"""Opt-in notifications for editors: "something new", and nothing else.

Promise: authors are never sent anything. An editor who gives an address on
their account page gets one email saying only that something new is waiting:
no pen name, no title, no reference, no count, no time. Mail is sent by
`portal notify_editors`, run by a timer (hourly in deploy/), never at the
moment an author acts, so the mail trail does not time authors' activity more
precisely than the timer's period. What counts as new: a submission or
revision, or a message from an author, since the last run, unless editors
hid that author (`portal.submissions.hiding`).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max

from portal.correspondence.models import Message
from portal.editors.models import Editor, NotificationMark
from portal.submissions import hiding
from portal.submissions.models import Submission

log = logging.getLogger("portal.notify")
SUBJECT = "Penname"
BODY = "Something new is waiting in Penname.\n"


def notify_editors() -> int:
    """Send the notification if anything arrived since the last run; return how many mails."""
    with transaction.atomic():
        mark, _ = NotificationMark.objects.select_for_update().get_or_create(pk=1)
        newest_submission = hiding.listed(Submission.objects.all()).aggregate(
            n=Max("id"))["n"] or 0
        newest_message = Message.objects.filter(
            sender=Message.Sender.AUTHOR, submission__author__hidden=False).aggregate(
            n=Max("id"))["n"] or 0
        news = newest_submission > mark.last_submission or newest_message > mark.last_message
        mark.last_submission = max(mark.last_submission, newest_submission)
        mark.last_message = max(mark.last_message, newest_message)
        mark.save()
    if not news:
        return 0
    addresses = list(Editor.objects.filter(user__is_active=True).exclude(notify_address="")
                     .values_list("notify_address", flat=True))
    sent = 0
    for address in addresses:
        # One mail per editor: nobody learns who else is on the team.
        try:
            sent += send_mail(SUBJECT, BODY, settings.DEFAULT_FROM_EMAIL, [address])
        except OSError as exc:
            log.error("could not send a notification: %s", type(exc).__name__)
    return sent
