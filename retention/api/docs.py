"""
The API's browsable docs at ``/api/docs/``: Swagger UI, from the files the drf-spectacular sidecar
package ships (served by WhiteNoise, no CDN), its set-up script from its own address rather than
inline, so it runs under the strict Content-Security-Policy. Public, like the schema it shows; "Try
it out" works for the signed-in user (their session, CSRF-checked) or with a token entered under
"Authorize".
"""

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    template_name = "api/docs.html"
    title = "Retention API"

