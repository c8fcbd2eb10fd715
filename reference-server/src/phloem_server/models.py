from django.db import models


class SessionRecord(models.Model):
    """One protocol session as seen by this server: for operators and admin pages, never read
    on the hot path (written when a connection opens or closes, off the event loop)."""

    # The runtime's opaque session id (welcome.session); never the resume token, a secret.
    session = models.CharField(max_length=128, unique=True)
    app_path = models.CharField(max_length=1024)
    created = models.DateTimeField()
    last_seen = models.DateTimeField()
    # When the last connection of the session ended; null while a connection is open.
    closed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.session} ({self.app_path})"


class Job(models.Model):
    """One run of an app's job function (issue 10). The row is the job's durable truth: the
    runner writes its state here before any live update goes out, so a reload, another server
    process or a restart reads the same job. Live progress between writes travels on the
    channel layer (or the embedded pipe); the row keeps the latest progress at most a
    heartbeat old, and the terminal state always."""

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"
        # Its process or server died under it (kill -9, OOM, a restart): neither the job's
        # fault nor the user's wish (PHL-JOB-010).
        INTERRUPTED = "interrupted"

    TERMINAL = (State.SUCCEEDED, State.FAILED, State.CANCELLED, State.INTERRUPTED)

    # Unguessable (PHL-SEC): knowing another user's job id must not be a capability either,
    # but ownership is checked on every read anyway.
    id = models.CharField(primary_key=True, max_length=40, editable=False)
    # "user:<pk>" for a signed-in user, "anon:<token>" for a browser identity (signed cookie).
    owner = models.CharField(max_length=160, db_index=True)
    app = models.CharField(max_length=1024)  # the app script's path
    name = models.CharField(max_length=200)  # the job function's name in the app
    parameters = models.JSONField(null=True, blank=True)  # as JSON, for people (admin)
    # The parameters as the job receives them (pickled: DataFrames welcome), for a retry
    # after a restart.
    payload = models.BinaryField(null=True, blank=True, editable=False)
    backend = models.CharField(max_length=20, default="embedded")  # embedded | celery
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    # Fencing: every write from a runner names its attempt; a stale attempt's writes (a
    # zombie after a retry, a duplicate Celery delivery) match no row and are dropped.
    attempt = models.PositiveIntegerField(default=0)
    retry_safe = models.BooleanField(default=False)  # the app declared a re-run harmless
    max_attempts = models.PositiveIntegerField(default=1)
    grace = models.FloatField(default=10.0)  # seconds from a cancel to the hard stop
    # Progress: fraction in [0, 1], or null while indeterminate.
    progress = models.FloatField(null=True, blank=True)
    done = models.FloatField(null=True, blank=True)
    total = models.FloatField(null=True, blank=True)
    stage = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=1000, blank=True)
    created = models.DateTimeField()
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)  # host:pid of the runner
    task_id = models.CharField(max_length=64, blank=True)  # the Celery task id, if any
    # The return value, pickled; kept in the row (results survive a restart). A preview for
    # people reading the admin.
    result = models.BinaryField(null=True, blank=True, editable=False)
    result_preview = models.CharField(max_length=500, blank=True)
    error_type = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)

    class Meta:
        ordering = ("-created",)
        indexes = [models.Index(fields=["state", "backend"], name="phloem_job_state")]  # noqa: RUF012

    def __str__(self) -> str:
        return f"{self.name} {self.id} ({self.state})"

    @property
    def terminal(self) -> bool:
        return self.state in self.TERMINAL


class JobLogLine(models.Model):
    """One line a job logged; numbered per job (`lseq`) so a replay never doubles a line."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="log_lines")
    lseq = models.PositiveIntegerField()  # 0-based: job.log's offset (PHL-JOB-030)
    level = models.CharField(max_length=10, default="info")
    text = models.TextField()
    at = models.DateTimeField()

    class Meta:
        ordering = ("job", "lseq")
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(fields=["job", "lseq"], name="phloem_job_log_once")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.lseq} {self.text[:60]}"
