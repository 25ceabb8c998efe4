"""The URLconf: author pages at the root, editors under /editor/, the API under /api/v1/,
and /health/ for monitoring."""

from __future__ import annotations

from django.urls import include, path

from portal import health
from portal.editorial.admin_site import site as editor_admin

urlpatterns = [
    path("", include("portal.authors.urls")),
    # The admin reverses "admin:…" names, which resolve only at the top level.
    path("editor/admin/", editor_admin.urls),
    path("editor/", include("portal.editorial.urls")),
    path("api/v1/", include("portal.api.urls")),
    path("health/", health.health, name="health"),
]

handler400 = "portal.errors.bad_request"
handler403 = "portal.errors.forbidden"
handler404 = "portal.errors.not_found"
handler500 = "portal.errors.server_error"
