"""Editor authentication routes, included inside the "editorial" namespace at /editor/.

Access levels (each view carries the mark of its `portal.access` decorator):

login, logout, webauthn_login_begin, webauthn_login_complete, webauthn_jsi18n → public
enrol → enrolment; everything else → editor (password, verified device, current epoch).

The admin is not here: Django's admin reverses its own "admin:" names, which
only resolve at the top level, so portal/urls.py mounts it at /editor/admin/
(see `portal.editorial.admin_site`).
"""

from __future__ import annotations

from django.urls import path

from . import auth_views, webauthn_views

urlpatterns = [
    path("login/", auth_views.login, name="login"),
    path("logout/", auth_views.logout, name="logout"),
    path("logout/everywhere/", auth_views.logout_everywhere, name="logout_everywhere"),
    path("enrol/", auth_views.enrol, name="enrol"),
    path("account/", auth_views.account, name="account"),
    path("account/password/", auth_views.password_change, name="password_change"),
    path("account/notifications/", auth_views.notifications, name="notifications"),
    path("account/tokens/<int:pk>/revoke/", auth_views.revoke_token, name="revoke_token"),
    path("account/backup-codes/", auth_views.backup_codes, name="backup_codes"),
    path("account/security-key/add/", webauthn_views.security_key_add, name="security_key_add"),
    path("account/security-key/remove/", webauthn_views.security_key_remove,
         name="security_key_remove"),
    path("webauthn/register/begin/", webauthn_views.webauthn_register_begin,
         name="webauthn_register_begin"),
    path("webauthn/register/complete/", webauthn_views.webauthn_register_complete,
         name="webauthn_register_complete"),
    path("webauthn/login/begin/", webauthn_views.webauthn_login_begin,
         name="webauthn_login_begin"),
    path("webauthn/login/complete/", webauthn_views.webauthn_login_complete,
         name="webauthn_login_complete"),
    path("webauthn/jsi18n/", webauthn_views.webauthn_jsi18n, name="webauthn_jsi18n"),
]
