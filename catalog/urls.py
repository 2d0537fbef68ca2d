from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.catalog_list, name="list"),
    path("<int:pk>/", views.organization_detail, name="detail"),
    path("my/", views.my_organizations, name="my_organizations"),
    path("my/new/", views.organization_create, name="create"),
    path("my/<int:pk>/edit/", views.organization_edit, name="edit"),
    path("my/<int:pk>/publish/", views.organization_publish, name="publish"),
    path("my/<int:pk>/hide/", views.organization_hide, name="hide"),
    path("my/<int:pk>/delete/", views.organization_delete, name="delete"),
    path("my/<int:pk>/photos/", views.organization_photos, name="photos"),
    path("my/<int:pk>/photos/<int:photo_id>/delete/", views.photo_delete, name="photo_delete"),
    path("my/<int:pk>/photos/<int:photo_id>/move/", views.photo_move, name="photo_move"),
    path("my/<int:pk>/services/", views.organization_services, name="services"),
    path("my/<int:pk>/services/<int:service_id>/", views.service_edit, name="service_edit"),
    path("my/<int:pk>/services/<int:service_id>/delete/", views.service_delete, name="service_delete"),
]
