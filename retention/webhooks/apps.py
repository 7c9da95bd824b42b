from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "retention.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
