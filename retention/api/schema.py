"""The API token in the OpenAPI schema: an HTTP bearer scheme, so /api/docs/ offers "Authorize"."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "retention.api.authentication.TokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (rtn_…), made on your profile page or with "
                           "`manage.py api_token_create`.",
        }
