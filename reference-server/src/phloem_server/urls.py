"""One include for a Django project: `path("", include("phloem_server.urls"))`."""

from django.urls import include, path, re_path

from . import views

app_name = "phloem"
urlpatterns = [
    re_path(r"^assets/(?P<path>.+)$", views.asset, name="asset"),
    path("api/", include("phloem_server.api")),
    re_path(r"^(?P<path>.*)$", views.page, name="page"),
]
