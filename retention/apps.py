from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = "Retention"

    def ready(self):
        # The health score listens to what happens to customers (customers.events).
        from .health import receivers

        receivers.connect()
        from . import checks  # noqa: F401  (registers the project's system checks)
