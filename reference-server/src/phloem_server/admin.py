"""The Django admin pages for jobs (issue 10): who started what, where it is, how it ended.
A project that installs ``django.contrib.admin`` gets them; the embedded server has no admin.

Jobs are read-only here: their state changes only through the runtime and the backends
(`jobs.store`), whose conditional writes keep one outcome per job."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Job, JobLogLine


class JobLogInline(admin.TabularInline):  # type: ignore[type-arg]
    model = JobLogLine
    fields = ("lseq", "text", "at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("lseq",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "name", "state", "percent", "stage", "owner", "backend", "attempt", "worker",
        "created", "heartbeat",
    )  # fmt: skip
    list_filter = ("state", "backend", "name")
    search_fields = ("id", "owner", "name", "worker")
    date_hierarchy = "created"
    inlines = (JobLogInline,)
    # Pickled bytes are left out: result_preview and parameters show them to people.
    readonly_fields = (
        *(
            f.name
            for f in Job._meta.get_fields()
            if getattr(f, "concrete", False) and f.name not in ("result", "payload")
        ),
        "percent",
    )
    exclude = ("result", "payload")

    @admin.display(description="progress")
    def percent(self, job: Job) -> str:
        return "-" if job.progress is None else f"{job.progress:.0%}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
