from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import audit
        from .books import install_after_migrate

        audit.connect()  # sign-ins and changes to users and teams go in the audit log
        # The triggers that keep the copies of a customer's book on its rows (they are lost when
        # SQLite rebuilds a table to alter it); after every app's migrations, for all of them.
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="customers.books")
