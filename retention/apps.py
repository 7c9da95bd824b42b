from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = "Retention"

    def ready(self):
        # The health score listens to what happens to customers (customers.events).
        from .health import receivers

        receivers.connect()
