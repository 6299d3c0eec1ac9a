"""How the API's authentication classes appear in the OpenAPI document (security schemes)."""

from drf_spectacular.authentication import BasicScheme, SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from the API tokens page (`avy_...`).",
        }


class EmailBasicScheme(BasicScheme):
    target_class = "accounts.authentication.EmailBasicAuthentication"
    name = "basicAuth"


class CsrfSessionScheme(SessionScheme):
    target_class = "accounts.authentication.CsrfSessionAuthentication"
    name = "cookieAuth"
