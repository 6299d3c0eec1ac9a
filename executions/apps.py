from django.apps import AppConfig


class ExecutionsConfig(AppConfig):
    name = "executions"
    verbose_name = "Executions"

    def ready(self) -> None:
        from django.conf import settings

        from executions.engine.tasks import warm_python

        # the engine reads no settings: the platform tells it
        warm_python.ENABLED = bool(settings.AVIARY["WARM_PYTHON"])
