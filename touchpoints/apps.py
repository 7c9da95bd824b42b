from django.apps import AppConfig


class TouchpointsConfig(AppConfig):
    name = "touchpoints"
    verbose_name = "Touchpoints"

    def ready(self):
        from customers.events import notes_imported

        from .imported_notes import notes_write

        notes_imported.connect(notes_write, dispatch_uid="touchpoints.imported_notes")
