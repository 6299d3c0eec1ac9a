"""Account pages: login, logout, password change, API tokens; the home redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import ApiTokenForm, EmailAuthenticationForm
from tenants.errors import AviaryError
from tenants.selectors import tenant_list_for_user


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:tokens")

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The tenant last visited, else the first one; a user of no tenant is told so."""
    tenants = list(tenant_list_for_user(user=request.user))
    if not tenants:
        return render(request, "accounts/no_tenant.html", status=200)
    last = request.session.get("tenant")
    tenant = next((t for t in tenants if t.slug == last), tenants[0])
    return redirect("tenants:dashboard", tenant=tenant.slug)


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    issued = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.api_token_create(
                user=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
            form = ApiTokenForm()
        except AviaryError as error:
            form.add_error("name", error.message)
            status = error.status
    elif request.method == "POST":
        status = 422
    context = {
        "form": form,
        "issued": issued,
        "tokens": selectors.api_token_list(user=request.user),  # type: ignore[arg-type]
    }
    return render(request, "accounts/tokens.html", context, status=status)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = services.api_token_revoke(user=request.user, token_id=token_id)  # type: ignore[arg-type]
        messages.success(request, f"Token '{token.name}' was revoked.")
    except AviaryError as error:
        messages.error(request, error.message)
    return redirect(reverse("accounts:tokens"))
