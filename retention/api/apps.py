from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "retention.api"
    label = "api"
    verbose_name = "API"

    def ready(self):
        # drf-spectacular finds the bearer scheme's extension once its module is imported.
        from . import schema  # noqa: F401
