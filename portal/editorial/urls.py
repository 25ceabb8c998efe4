"""Editor pages under /editor/: authentication (auth_urls) and the workflow."""

from __future__ import annotations

from django.urls import include, path

from . import dashboard, hiding_views, thread_views, views

app_name = "editorial"

urlpatterns = [
    path("", include("portal.editorial.auth_urls")),
    path("", dashboard.dashboard, name="dashboard"),
    path("submission/<uuid:public_id>/", views.submission_page, name="submission"),
    path("submission/<uuid:public_id>/state/", views.change_state, name="change_state"),
    path("submission/<uuid:public_id>/assign/", views.assign, name="assign"),
    path("submission/<uuid:public_id>/note/", views.add_note, name="add_note"),
    path("submission/<uuid:public_id>/reply/", thread_views.reply, name="reply"),
    path("submission/<uuid:public_id>/author/", hiding_views.author_page, name="hide_author"),
    path("hidden/", hiding_views.hidden_authors, name="hidden_authors"),
    path("ciphertext/<uuid:public_id>/<str:name>", views.download, name="download"),
    path("keys/", views.keys_page, name="keys"),
    path("keys/add/", views.add_key, name="add_key"),
    path("keys/<int:pk>/approve/", views.approve_key, name="approve_key"),
    path("keys/<int:pk>/deactivate/", views.deactivate_key, name="deactivate_key"),
    path("changes/seen/", views.changes_seen, name="changes_seen"),
    path("editors/", views.editors_page, name="editors"),
    path("editors/<int:pk>/deactivate/", views.deactivate_editor, name="deactivate_editor"),
    path("audit/", views.audit_log, name="audit"),
]
