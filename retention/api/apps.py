from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "retention.api"
    label = "api"
    verbose_name = "API"
