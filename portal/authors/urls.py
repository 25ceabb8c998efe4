from __future__ import annotations

from django.urls import path

from . import views

app_name = "authors"

urlpatterns = [
    path("", views.start, name="start"),
    path("author/new/", views.new_author, name="new"),
    path("author/login/", views.login, name="login"),
    path("author/logout/", views.logout, name="logout"),
    path("author/", views.home, name="home"),
    path("author/pen-name/", views.change_pen_name, name="pen_name"),
    path("author/submit/", views.submit, name="submit"),
    path("author/submit/confirm/", views.confirm, name="confirm"),
    path("author/submit/cancel/", views.cancel, name="cancel"),
    path("author/submission/<uuid:public_id>/", views.received, name="received"),
    path("language/", views.set_language, name="language"),
]
