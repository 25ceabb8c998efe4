"""Editors for tests: real accounts with a confirmed TOTP device and a verified session."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.editors.models import Editor


def make_editor(username: str, role: str = Editor.Role.EDITOR, key: str | None = None) -> Any:
    """An editor with a confirmed device; `key` is registered and approved (as by the shell)."""
    user = get_user_model().objects.create_user(username, password="correct horse battery 9")
    Editor.objects.create(user=user, role=role)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    if key:
        approved_key(user, key)
    return user


def approved_key(user: Any, armored: str) -> Any:
    """Register `armored` for `user` and approve it, as the admin's shell does
    (`portal add_editor`, then `portal approve_key`)."""
    from portal.editors.keys import add_key, approve_key

    return approve_key(add_key(user, armored, proposed_by=None), None, via="shell")


def current_code(user: Any) -> str:
    """The device's current code, usable even if this time step's code was used already.

    django-otp accepts each TOTP code once; tests that log in twice within 30 s
    stand for a later time step by forgetting the last use.
    """
    TOTPDevice.objects.filter(user=user).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None)
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def verified_client(user: Any) -> Client:
    """A client logged in as `user` with a verified OTP device, as after a real login."""
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = TOTPDevice.objects.get(user=user).persistent_id
    session["editor_epoch"] = user.editor.session_epoch
    session.save()
    return client


def unverified_client(user: Any) -> Client:
    """Password accepted but no OTP verification in this session."""
    client = Client()
    client.force_login(user)
    session = client.session
    session["editor_epoch"] = user.editor.session_epoch
    session.save()
    return client
