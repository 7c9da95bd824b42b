"""
The user's own API tokens, from the profile page: make one (its secret shown on the page that
answers, once, and never stored) and revoke one. Someone else's token answers 404.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .forms import ApiTokenForm
from .models import ApiToken
from .tokens import api_token_create, api_token_revoke


@never_cache  # the answer holds the secret: no browser or proxy keeps a copy
@require_http_methods(["GET", "POST"])
def token_create(request):
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, secret = api_token_create(user=request.user, name=form.cleaned_data["name"],
                                         expires_in_days=form.cleaned_data["expires_in_days"])
        return render(request, "api/token_created.html", {"token": token, "secret": secret})
    return render(request, "api/token_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken.objects.select_related("user"), pk=pk, user=request.user)
    if token.revoked_at is not None:
        messages.info(request, f"The token “{token.name}” was already revoked.")
        return redirect("profile")
    if request.method == "POST":
        api_token_revoke(token=token)
        messages.success(request, f"The token “{token.name}” is revoked: requests that send it are refused.")
        return redirect("profile")
    return render(request, "api/token_revoke.html", {"token": token})
