"""
The API's docs at ``/api/docs/``: a page of the site, read from the same OpenAPI schema that
``/api/schema/`` serves, so the two never disagree. Server-rendered, in the site's own style: it
works without script under the strict Content-Security-Policy, by keyboard and screen reader, and
on a phone (the ready-made schema browsers fail the accessibility bar). Public, like the schema.
"""

import functools
import re
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.views.decorators.http import require_GET
from drf_spectacular.generators import SchemaGenerator

from .bulk import BULK_MAX
from .schema import ERROR_RESPONSES

METHODS = ("get", "post", "put", "patch", "delete")


@functools.cache
def api_reference():
    """The schema as the page lists it: its resources, each with its fields and operations."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    resources = {}
    for path, operations in schema["paths"].items():
        for method in METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            tag = operation.get("tags", ["api"])[0]
            resource = resources.setdefault(tag, {"name": tag.replace("-", " ").capitalize(), "slug": tag,
                                                  "description": "", "fields": [], "operations": []})
            success = {code: _schema_name(answer) for code, answer in operation["responses"].items()
                       if code.startswith("2")}
            if method == "get" and not resource["fields"] and "{" in path:
                resource["description"] = operation.get("description", "")
                resource["fields"] = _fields(components.get(success.get("200", ""), {}), components)
            resource["operations"].append({
                "id": operation["operationId"],
                "method": method.upper(),
                "path": path,
                "description": operation.get("description", ""),
                "parameters": [_parameter(p) for p in operation.get("parameters", [])],
                "body": _body(operation.get("requestBody"), components),
                "success": [{"code": code, "what": _answer_label(name)} for code, name in success.items()],
            })
    for resource in resources.values():  # the resource's own description once, under its heading
        for operation in resource["operations"]:
            if operation["description"] == resource["description"]:
                operation["description"] = ""
    return {
        "title": schema["info"]["title"],
        "resources": [resources[tag] for tag in sorted(resources)],
        "errors": [{"code": code, "description": description}
                   for code, (description, _) in ERROR_RESPONSES.items()],
    }


def _answer_label(name):
    if name.startswith("Paginated") and name.endswith("List"):
        return f"a page of {name.removeprefix('Paginated').removesuffix('List')} items"
    return f"a {name}" if name else ""


def _fields(schema, components):
    required = set(schema.get("required", ()))
    return [
        {"name": name, "type": _type(field, components), "required": name in required,
         "description": field.get("description", "")}
        for name, field in schema.get("properties", {}).items()
    ]


def _parameter(parameter):
    return {
        "name": parameter["name"], "where": parameter["in"],
        "type": _type(parameter.get("schema", {})),
        "required": parameter.get("required", False),
        "description": parameter.get("description", ""),
    }


def _body(request_body, components):
    """A request body's fields, and whether it is a list of them (the bulk operations)."""
    if not request_body:
        return None
    schema = request_body["content"]["application/json"]["schema"]
    many = schema.get("type") == "array"
    if many:
        schema = schema["items"]
    schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return {"many": many, "fields": _fields(schema, components)}


def _type(field, components=None):
    if "$ref" in field:
        field = (components or {}).get(field["$ref"].rsplit("/", 1)[1], {})
    if field.get("type") == "object" and "properties" in field and components is not None:
        return "object"
    if "enum" in field:
        return " | ".join(str(value) for value in field["enum"] if value not in ("", None))
    if "oneOf" in field or "allOf" in field:
        return " | ".join(_type(part, components) for part in field.get("oneOf", field.get("allOf")))
    kind = field.get("format") or field.get("type", "")
    if field.get("type") == "array":
        kind = f"list of {_type(field.get('items', {}), components)}"
    return kind + (" or null" if field.get("nullable") else "")


def _schema_name(answer):
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    return ""


WEBHOOKS_GUIDE = Path(settings.BASE_DIR) / "docs" / "WEBHOOKS.md"


@functools.cache
def webhooks_reference():
    """
    What a receiver of the webhooks needs, from ``docs/WEBHOOKS.md`` (their one home, whose snippet
    the webhook tests run): the headers, and the Python that checks a signature.
    """
    guide = WEBHOOKS_GUIDE.read_text()
    headers_section = guide.split("## Headers", 1)[1].split("\n## ", 1)[0]
    headers = re.findall(r"^\| `([^`]+)` \| (.+?) \|$", headers_section, re.M)
    snippet = re.search(r"```python\n(.*?)```", guide, re.S).group(1)
    return {"headers": [{"name": name, "value": value.replace("`", "")} for name, value in headers],
            "snippet": snippet}


@login_not_required
@require_GET
def api_docs(request):
    return render(request, "api/docs.html", {
        **api_reference(), "bulk_max": BULK_MAX, "webhooks": webhooks_reference(),
    })
