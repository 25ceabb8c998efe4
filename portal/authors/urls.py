from __future__ import annotations

from django.urls import path

from . import submission_views, views
from . import thread_views as correspondence

app_name = "authors"

urlpatterns = [
    path("", views.start, name="start"),
    path("author/new/", views.new_author, name="new"),
    path("author/login/", views.login, name="login"),
    path("author/logout/", views.logout, name="logout"),
    path("author/logged-out/", views.logged_out, name="logged_out"),
    path("author/codename/", views.codename_again, name="codename"),
    path("author/codename/check/", views.check_codename, name="check_codename"),
    path("author/", views.home, name="home"),
    path("author/pen-name/", views.change_pen_name, name="pen_name"),
    path("author/submit/", views.submit, name="submit"),
    path("author/submit/confirm/", views.confirm, name="confirm"),
    path("author/submit/cancel/", views.cancel, name="cancel"),
    path("author/submission/<uuid:public_id>/", submission_views.received, name="received"),
    path("author/submission/<uuid:public_id>/withdraw/", submission_views.withdraw,
         name="withdraw"),
    path("author/submission/<uuid:public_id>/delete/", submission_views.delete, name="delete"),
    path("author/submission/<uuid:public_id>/message/", correspondence.write, name="write"),
    path("author/submission/<uuid:public_id>/message/<int:number>.asc",
         correspondence.download_message, name="message_asc"),
    path("author/reply-key/", correspondence.reply_key, name="reply_key"),
    path("author/reply-key/own/", correspondence.own_key, name="own_key"),
    path("author/reply-key/generated/", correspondence.generated_key, name="generated_key"),
    path("author/reply-key/secret.asc", correspondence.secret_key, name="secret_key"),
    path("language/", views.set_language, name="language"),
]
