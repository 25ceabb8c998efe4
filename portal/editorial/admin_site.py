"""The Django admin at /editor/admin/, behind the same two factors as every editor page.

Threat answered: the admin can reset anyone's devices and passwords, so it must
be no easier to reach than the editor pages. It is django-otp's `OTPAdminSite`
(staff *and* a verified OTP device), and in addition:

- every admin view is wrapped in `portal.access.editor_required`, so an admin
  session is an editor session (password, verified device, current epoch: "log
  out everywhere" ends it too), and the URLconf walk sees an access mark;
- the admin has no login form of its own: its login URL sends people to the
  editor login, which is throttled per account. A second, unthrottled password
  form would undo the throttle;
- its password change page sends people to the account page, where a change
  needs a fresh code;
- only accounts and second factors are registered. Authors, submissions and
  correspondence are not in the admin at all, and TOTP secrets and backup codes
  are hidden (OTP_ADMIN_HIDE_SENSITIVE_DATA);
- what the editor pages guard with two people stays out of it: keys are not
  registered at all, and an editor's role (which decides who may approve keys)
  and the account a profile belongs to are read-only here;
- every addition, change and deletion made here is written to the audit log
  (`AuditedAdmin`), and so shown to every editor (`portal.editors.changes`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, URLResolver, reverse
from django.utils.http import urlencode
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.admin import WebAuthnCredentialAdmin
from django_otp_webauthn.models import WebAuthnCredential

from portal.access import editor_of, editor_required, public
from portal.editors.models import Editor
from portal.submissions import audit
from portal.submissions.models import AuditEvent


def _guarded(patterns: list[Any]) -> list[Any]:
    """The admin's URL patterns with every view behind `editor_required`."""
    guarded: list[Any] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            guarded.append(URLResolver(entry.pattern, _guarded(entry.url_patterns),
                                       entry.default_kwargs, entry.app_name, entry.namespace))
        elif entry.name == "login":
            guarded.append(URLPattern(entry.pattern, public(admin_login), entry.default_args,
                                      entry.name))
        else:
            guarded.append(URLPattern(entry.pattern, editor_required(entry.callback),
                                      entry.default_args, entry.name))
    return guarded


def admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """No admin login form: a verified non-staff editor is refused, anyone else logs in as an editor."""
    user: Any = request.user
    if editor_of(user) is not None and user.is_verified():
        raise PermissionDenied("the admin is for staff accounts only")
    target = request.GET.get("next", "")
    if not target.startswith(reverse("admin:index")):
        target = reverse("admin:index")
    return redirect(f"{reverse('editorial:login')}?{urlencode({'next': target})}")


class EditorAdminSite(OTPAdminSite):
    site_header = "Penname administration"
    site_title = "Penname admin"
    index_title = "Accounts and second factors"
    # Unknown admin paths are plain 404s, not a redirect that confirms the admin exists.
    final_catch_all_view = False

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return _guarded(super().get_urls())

    def password_change(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        return redirect("editorial:account")


def _label(obj: Any) -> str:
    return f"{obj._meta.model_name} {obj}"[:120]


def _changed_fields(message: Any) -> list[str]:
    """The field names in Django's structured change message."""
    fields: list[str] = []
    for part in message if isinstance(message, list) else []:
        if isinstance(part, dict):
            for change in part.values():
                if isinstance(change, dict):
                    fields += [str(f) for f in change.get("fields", [])]
    return fields


class AuditedAdmin(admin.ModelAdmin):
    """Every admin addition, change and deletion also goes to the audit log."""

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit.record(request.user, "admin-added", _label(obj))
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit.record(request.user, "admin-changed", _label(obj), fields=_changed_fields(message))
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            audit.record(request.user, "admin-deleted", _label(obj))
        return super().log_deletions(request, queryset)


def audited(model_admin: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """`model_admin` with AuditedAdmin's logging in front of its own."""
    return type(f"Audited{model_admin.__name__}", (AuditedAdmin, model_admin), {})


class EditorProfileAdmin(AuditedAdmin):
    list_display = ["user", "role", "session_epoch"]
    list_filter = ["role"]
    raw_id_fields = ["user"]
    # The role decides who may approve keys: it changes only on the server's shell
    # (portal add_editor --managing), never with one admin session.
    readonly_fields = ["role", "session_epoch", "changes_seen"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        # A profile never moves to another account (that would move its role).
        return [*fields, "user"] if obj is not None else fields


class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is evidence, so not even the admin edits it."""

    list_display = ["at", "actor", "action", "target"]
    list_filter = ["action"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


site = EditorAdminSite(name="admin")
site.register(get_user_model(), audited(UserAdmin))
site.register(Editor, EditorProfileAdmin)
site.register(TOTPDevice, audited(TOTPDeviceAdmin))
site.register(StaticDevice, audited(StaticDeviceAdmin))
site.register(WebAuthnCredential, audited(WebAuthnCredentialAdmin))
site.register(AuditEvent, AuditEventAdmin)
