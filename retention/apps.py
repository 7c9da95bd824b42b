from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = "Retention"

    def ready(self):
        # The health score listens to what happens to customers (customers.events).
        from .health import receivers

        receivers.connect()
        from django.contrib.auth.signals import user_logged_in

        from .security import session_started

        # An idle session ends (security.SessionIdleMiddleware); signing in starts its clock.
        user_logged_in.connect(session_started, dispatch_uid="retention.session_started")
        from . import checks  # noqa: F401  (registers the project's system checks)
