"""The project's URLs: its own pages and login, and two Phloem apps under /tools/."""

from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from phloem_server import views as phloem

from . import views

# The greeter's routes: those of `include("phloem_server.urls")` with the project's login in
# front of the page, so an anonymous visitor is sent to sign in (the app's own `auth=True`
# refuses an anonymous WebSocket whatever the HTTP side does).
greeter = [
    re_path(r"^assets/(?P<path>.+)$", phloem.asset, name="asset"),
    re_path(r"^(?P<path>.*)$", login_required(phloem.page), name="page"),
]


urlpatterns = [
    path("", views.home, name="home"),
    path("profile/", views.profile, name="profile"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("tools/counter/", include("phloem_server.urls", namespace="counter")),
    path("tools/greeter/", include((greeter, "phloem"), namespace="greeter")),
]
