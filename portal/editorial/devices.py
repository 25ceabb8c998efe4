"""Editors' second factors: TOTP enrolment, its QR code, single-use backup codes.

Threat answered: a stolen editor password alone must never open the editor
pages. Every editor has a TOTP authenticator (enrolled here, or by
`portal add_editor`), may add WebAuthn security keys or passkeys
(django-otp-webauthn), and holds single-use backup codes for a lost phone.

Promises:

- The enrolment QR code is drawn on the server as inline SVG: the TOTP secret
  never goes to another origin (no chart service, no external image) and the
  page needs no JavaScript. The secret is also shown as text for typing in.
- An enrolment device stays unconfirmed, and so unusable for logging in, until
  the editor proves they hold it by entering a code from it.
- Backup codes are random (40 bits each, from the OS CSPRNG), each works once
  (django-otp deletes it when used), and issuing new ones replaces every
  earlier code. They are shown once and never again. Like TOTP secrets, which
  the server must hold to check codes, they are stored as django-otp keeps
  them: a copy of the database plus the password would be enough, which is why
  passwords are Argon2 hashes and the database is never published.
"""

from __future__ import annotations

import base64
from typing import Any

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.utils.html import escape
from django_otp import match_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

# Ten codes: enough to get through a lost phone and a trip, few enough to copy out by hand.
BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "authenticator"
BACKUP_DEVICE_NAME = "backup codes"


def enrolment_device(user: Any) -> TOTPDevice:
    """The user's pending (unconfirmed) TOTP device, created on first call.

    Reloading the enrolment page keeps the same secret, so a code from an app
    that already scanned it still works.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def confirm_enrolment(device: TOTPDevice, token: str) -> bool:
    """Confirm the pending device if `token` is a current code from it."""
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    return True


def secret_text(device: TOTPDevice) -> str:
    """The TOTP secret in base32, in groups of four for typing into an app by hand."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(text: str, label: str) -> str:
    """`text` as a QR code in inline SVG markup (trusted HTML: only our own output)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10)
    markup = image.to_string(encoding="unicode")
    return markup.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)


def new_backup_codes(user: Any, count: int = BACKUP_CODE_COUNT) -> tuple[StaticDevice, list[str]]:
    """Replace every backup code of this user with `count` new ones, returned once."""
    codes = [StaticToken.random_token() for _ in range(count)]
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return device, codes


def fresh_code_device(user: Any, token: str) -> Device | None:
    """The device that accepts `token` (a TOTP or backup code) now, or None.

    Used to re-confirm presence before sensitive changes. A TOTP code is
    accepted once per time step and a backup code is used up.
    """
    token = token.strip().replace(" ", "")
    if not token:
        return None
    return match_token(user, token)


def describe_devices(user: Any) -> dict[str, Any]:
    """What the account page lists: authenticators, backup codes left, security keys."""
    backup = StaticDevice.objects.filter(user=user, confirmed=True).first()
    return {
        "totp": list(TOTPDevice.objects.filter(user=user, confirmed=True)),
        "backup_codes_left": backup.token_set.count() if backup else 0,  # type: ignore[attr-defined]
        "security_keys": list(WebAuthnCredential.objects.filter(user=user, confirmed=True)),
    }


def has_security_key(user: Any) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
