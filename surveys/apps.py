from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self):
        from django.db.backends.signals import connection_created

        from touchpoints.messaging.composers import register_composer

        from .email import compose_invitations
        from .invitations import register_sqlite_token

        connection_created.connect(register_sqlite_token, dispatch_uid="surveys.sqlite_token")

        # Invitations and reminders are decided in bulk and written when sent.
        register_composer("survey", compose_invitations)
        register_composer("survey_reminder", compose_invitations)
