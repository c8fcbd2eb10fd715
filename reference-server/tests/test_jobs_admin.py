"""The Job model in the Django admin of a project that installs it: listed with its state and
progress, and its page shows the error, the traceback and the log, read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import path
from phloem.jobs import JobError
from phloem_server.jobs import store

ADMIN_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "phloem_server",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


def _urls() -> list[object]:
    import phloem_server.admin  # noqa: F401 (registers the Job pages)
    from django.contrib import admin

    return [path("admin/", admin.site.urls)]


@pytest.fixture
def admin_client():
    with override_settings(
        INSTALLED_APPS=ADMIN_APPS,
        MIDDLEWARE=MIDDLEWARE,
        TEMPLATES=TEMPLATES,
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["testserver"],
    ):
        user, _ = User.objects.get_or_create(
            username="operator", defaults={"is_staff": True, "is_superuser": True}
        )
        client = Client()
        client.force_login(user)
        yield client


# This module is the URLconf; its admin routes exist only once the admin app is installed.
urlpatterns: list[object] = []


def test_the_admin_lists_jobs_and_shows_a_failed_ones_error_and_log(admin_client) -> None:
    urlpatterns[:] = _urls()
    job = store.create(store.new_id(), "anon:admin", "/apps/clustering.py", "cluster", {"k": 3})
    assert store.claim(job.id, 1, "host:123")
    store.append_log(job.id, 1, ["k=2 silhouette=0.61", "k=3 silhouette=0.55"])
    error = JobError("ValueError: k must be > 1", "ValueError", "Traceback (most recent call)")
    assert store.finish(job.id, 1, "failed", error=error)

    listing = admin_client.get("/admin/phloem_server/job/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "cluster" in page and "failed" in page and "anon:admin" in page

    detail = admin_client.get(f"/admin/phloem_server/job/{job.id}/change/")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "ValueError: k must be &gt; 1" in body
    assert "Traceback (most recent call)" in body
    assert "k=3 silhouette=0.55" in body
    assert "Save" not in body  # read-only: state changes only through the runtime
