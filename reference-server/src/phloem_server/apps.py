from django.apps import AppConfig


class PhloemServerConfig(AppConfig):
    name = "phloem_server"
    label = "phloem_server"
    verbose_name = "Phloem"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import registry

        registry.limits()  # a bad PHLOEM_LIMITS stops the server here, with its reason
