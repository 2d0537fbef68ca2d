from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.catalog_list, name="list"),
    path("<id:pk>/", views.organization_detail, name="detail"),
    path("my/", views.my_organizations, name="my_organizations"),
    path("my/new/", views.organization_create, name="create"),
    path("my/<id:pk>/edit/", views.organization_edit, name="edit"),
    path("my/<id:pk>/publish/", views.organization_publish, name="publish"),
    path("my/<id:pk>/hide/", views.organization_hide, name="hide"),
    path("my/<id:pk>/delete/", views.organization_delete, name="delete"),
    path("my/<id:pk>/photos/", views.organization_photos, name="photos"),
    path("my/<id:pk>/photos/<id:photo_id>/delete/", views.photo_delete, name="photo_delete"),
    path("my/<id:pk>/photos/<id:photo_id>/move/", views.photo_move, name="photo_move"),
    path("my/<id:pk>/services/", views.organization_services, name="services"),
    path("my/<id:pk>/services/<id:service_id>/", views.service_edit, name="service_edit"),
    path("my/<id:pk>/services/<id:service_id>/delete/", views.service_delete, name="service_delete"),
]
