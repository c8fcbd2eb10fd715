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
