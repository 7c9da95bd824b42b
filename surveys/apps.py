from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self):
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from touchpoints.messaging.composers import register_composer

        from .email import compose_invitations
        from .invitations import register_sqlite_token
        from .tallies import install_after_migrate

        connection_created.connect(register_sqlite_token, dispatch_uid="surveys.sqlite_token")
        # The results' tallies and their triggers (again), counted afresh if TIME_ZONE changed.
        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="surveys.tallies")

        # Invitations and reminders are decided in bulk and written when sent.
        register_composer("survey", compose_invitations)
        register_composer("survey_reminder", compose_invitations)
