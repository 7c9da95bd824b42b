"""
The REST API at ``/api/v1/``: per-user tokens, the resources of the customer book, touchpoints,
surveys and health, and the OpenAPI schema and docs. Every request sees what its user would see in
the browser, through the same services and the one visibility rule (``customers.access``).
"""
