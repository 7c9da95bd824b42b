from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self):
        from . import audit

        audit.connect()  # sign-ins and changes to users and teams go in the audit log
