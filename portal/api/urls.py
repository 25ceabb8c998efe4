"""The JSON API under /api/v1/ (see openapi.py for the description)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("token/", views.token, name="token"),
    path("openapi.json", views.openapi, name="openapi"),
    path("keys/", views.recipient_keys, name="keys"),
    path("keys/changes/", views.key_changes, name="key_changes"),
    path("replacements/", views.replacements, name="replacements"),
    path("replacements/<int:pk>/candidate", views.replacement_candidate,
         name="replacement_candidate"),
    path("replacements/<int:pk>/confirmations/", views.replacement_confirmations,
         name="replacement_confirmations"),
    path("submissions/", views.submissions, name="submissions"),
    path("submissions/<uuid:public_id>/", views.submission, name="submission"),
    path("submissions/<uuid:public_id>/notes/", views.notes, name="notes"),
    path("submissions/<uuid:public_id>/replies/", views.replies, name="replies"),
    path("submissions/<uuid:public_id>/blobs/<str:name>", views.blob, name="blob"),
]
