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


# The answers every operation may give besides its success (retention/api/errors.py).
ERROR_RESPONSES = {
    "400": ("The request's problems, by field; those of the whole request under non_field_errors. "
            "A bulk request lists them by item: {\"items\": {\"3\": {...}}}.", "Problems"),
    "401": ("No valid token: missing, unknown, revoked or expired.", "Error"),
    "403": ("Not allowed (a signed-in browser without its CSRF token).", "Error"),
    "404": ("Not found, or not visible to you.", "Error"),
    "409": ("The change conflicts with the record as it now is: an update based on an older version "
            "(with the changes made since), or a step its state does not allow.", "Error"),
    "429": ("Over the token's rate limit; retry after the seconds in Retry-After.", "Error"),
}
ERROR_SCHEMAS = {
    "Error": {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]},
    "Problems": {"type": "object", "additionalProperties": True},
}


def add_error_responses(result, generator, request, public):
    """A postprocessing hook: each operation documents the API's error answers."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, (description, schema) in ERROR_RESPONSES.items():
                responses.setdefault(code, {
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
                })
    return result
