"""Authors and their submissions, as the database sees them: no plaintext content.

An author row holds a pen name (public by choice) and the Argon2id lookup value
of their codename, never the codename. A submission row holds what the
editorial workflow needs and nothing an editor must decrypt to read: state,
the day it arrived, counts and sizes, and the random names of its ciphertext
files. Titles, messages and file names exist only inside the encrypted
manifest. Dates are days, never times; order comes from the sequence number.

Three more tables the core needs keep the "editorial" label their rows carry in
every backup: the key registry (`EditorKey`: full fingerprint and armored
public key; a key receives nothing until approved, see
`portal.submissions.recipients` and `portal.editors.keys`), the state
history (`StateChange`, written by `portal.submissions.workflow` only) and the
audit log (`AuditEvent`, written by `portal.submissions.audit` only).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .tokens import ApiToken  # noqa: F401  (registered with the other rows, label "api")

# Hex digits of an author reference: 40 bits, so two of a few thousand authors
# sharing one is about a one-in-a-million chance.
AUTHOR_REF_LENGTH = 10


def today() -> date:
    """The current day: the only precision the portal stores for author activity."""
    return timezone.now().date()


class Author(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    lookup = models.BinaryField(max_length=32, unique=True, editable=False)
    pen_name = models.CharField(max_length=80, blank=True)
    created_on = models.DateField(default=today)
    # Logged in again with the codename, or sent something: never purged as unused.
    came_back = models.BooleanField(default=False)
    # Hidden by the editors as abusive: their submissions and messages leave every editor
    # list until an editor shows them again. Nothing else is learnt or kept about them.
    hidden = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.pen_name or f"author {str(self.id)[:8]}"

    @property
    def display_name(self) -> str:
        return self.pen_name or "—"

    @property
    def ref(self) -> str:
        """A short, stable reference to this author identity, naming no one.

        portal-editor files each author's pieces in a folder of their own, also when two
        authors share a pen name or have none, and the editor pages show the same
        reference. It is a one-way digest of the author's random id: the same for every
        submission of this author, telling nothing of the author and not giving the id
        itself away.
        """
        digest = hashlib.sha256(b"penname author reference\0" + self.id.bytes)
        return digest.hexdigest()[:AUTHOR_REF_LENGTH]


class Submission(models.Model):
    class State(models.TextChoices):
        NEW = "new", _("new")
        IN_REVIEW = "in_review", _("in review")
        REVISIONS_REQUESTED = "revisions_requested", _("revisions requested")
        ACCEPTED = "accepted", _("accepted")
        PUBLISHED = "published", _("published")
        DECLINED = "declined", _("declined")
        WITHDRAWN = "withdrawn", _("withdrawn")

    # The sequence number (primary key) orders submissions; the public id names them.
    public_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="submissions")
    state = models.CharField(max_length=32, choices=State.choices, default=State.NEW)
    submitted_on = models.DateField(default=today)
    file_count = models.PositiveSmallIntegerField()
    uncleaned_count = models.PositiveSmallIntegerField(default=0)
    cleaned_bytes = models.BigIntegerField()
    manifest_blob = models.CharField(max_length=40, unique=True)
    # Full fingerprints of the editor keys every message of this submission is encrypted to.
    recipients = models.JSONField(default=list)
    # The day it was declined or withdrawn: `portal purge` deletes it after the retention period.
    closed_on = models.DateField(null=True, blank=True)
    # A revision is a row of its own (its own files and manifest) pointing to the
    # first version, which alone carries the state, the thread and the history.
    revision_of = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="revisions")
    version = models.PositiveSmallIntegerField(default=1)
    # How many of the editors' messages the author has had on her screen (first
    # version only): what her page marks as new. A count, never a time.
    editor_messages_seen = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["revision_of", "version"], name="unique_version"),
        ]

    def __str__(self) -> str:
        return f"submission {str(self.public_id)[:8]}"

    @property
    def first_version(self) -> Submission:
        return self.revision_of or self

    def versions(self) -> list[Submission]:
        """Every version of this piece, oldest first."""
        first = self.first_version
        return [first, *first.revisions.order_by("version")]

    @property
    def short_id(self) -> str:
        return str(self.public_id)[:8]


class TitleCopy(models.Model):
    """A version's title as an OpenPGP message to its author's reply key alone.

    Her own page shows her titles, opened with her reply key while she is
    logged in; at rest the server holds only this ciphertext (the editors read
    the title in the manifest). A title is short, so its ciphertext lives in
    the row and goes with it.
    """

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE,
                                      related_name="title_copy")
    ciphertext = models.BinaryField()
    # The author's reply key it was encrypted to (its fingerprint).
    reply_key = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"title of {self.submission}"


class SubmissionFile(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveSmallIntegerField()
    blob = models.CharField(max_length=40, unique=True)
    ciphertext_bytes = models.BigIntegerField()
    # The type detected from the bytes ("docx", "pdf", ...; "" when the cleaner refused it).
    kind = models.CharField(max_length=16, blank=True)
    # False when the author chose to send a file the cleaner refused, or the file
    # was already encrypted: editors see it flagged and clean it locally.
    cleaned = models.BooleanField(default=True)
    # For a safe copy (a PDF of page images the server made from another file of
    # this submission), the position of that file; None for the files the author sent.
    safe_copy_of = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "position"], name="unique_file_position")
        ]

    def __str__(self) -> str:
        return f"file {self.position} of {self.submission}"


# --- Rows labelled "editorial" (their label in every backup) ---------------------------


class EditorKey(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="openpgp_keys"
    )
    fingerprint = models.CharField(max_length=64, unique=True)
    armored = models.TextField()
    algorithm = models.CharField(max_length=40)
    user_ids = models.JSONField(default=list)
    expires_on = models.DateField(null=True, blank=True)
    added_on = models.DateField(default=today)
    active = models.BooleanField(default=True)
    # Who proposed it (None: the admin on the server's shell) and who approved it
    # (None with a day: the server's shell, the first key at install time, or the
    # migration that found it in use). Days only, like every date here.
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    approved_on = models.DateField(null=True, blank=True)

    class Meta:
        app_label = "editorial"
        ordering = ["user__username", "-added_on"]

    def __str__(self) -> str:
        return f"{self.user} {self.fingerprint}"

    @property
    def approved(self) -> bool:
        return self.approved_on is not None

    @property
    def pending(self) -> bool:
        """Active but not approved yet: waiting for a second person."""
        return self.active and self.approved_on is None

    @property
    def spaced_fingerprint(self) -> str:
        fpr = self.fingerprint
        return " ".join(fpr[i : i + 4] for i in range(0, len(fpr), 4))


class StateChange(models.Model):
    """One row per workflow transition: who, when, from and to (written by workflow.py only)."""

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="state_changes"
    )
    from_state = models.CharField(max_length=32)
    to_state = models.CharField(max_length=32)
    # None when the author made the change (withdrawal): authors have no account.
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    # Editor actions keep a full time; author-made changes keep the day only (see workflow).
    at = models.DateTimeField(null=True)
    on = models.DateField(default=today)

    class Meta:
        app_label = "editorial"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.submission}: {self.from_state} → {self.to_state}"


class AuditEvent(models.Model):
    """What an editor did, for managing editors to review. No addresses, no agents."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=120, blank=True)
    detail = models.JSONField(default=dict)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "editorial"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.target}"
