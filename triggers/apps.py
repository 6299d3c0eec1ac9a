from django.apps import AppConfig


class TriggersConfig(AppConfig):
    name = "triggers"
    verbose_name = "Triggers"

    def ready(self) -> None:
        from executions import transitions
        from triggers.dispatch import transitions_committed

        if transitions_committed not in transitions.listeners:
            transitions.listeners.append(transitions_committed)
