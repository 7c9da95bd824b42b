from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "retention.feeds"
    label = "feeds"
    verbose_name = "Calendar feeds"
