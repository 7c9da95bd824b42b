from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "retention.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        # The apps announce events through customers.events; the webhooks deliver them.
        from . import receivers

        receivers.connect()
