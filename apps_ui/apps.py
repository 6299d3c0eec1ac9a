from django.apps import AppConfig


class AppsUiConfig(AppConfig):
    name = "apps_ui"
    verbose_name = "Apps"
