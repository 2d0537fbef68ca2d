from django.urls import path

from catalog import api

urlpatterns = [
    path("cities/", api.CityListView.as_view(), name="city-list"),
    path("categories/", api.CategoryListView.as_view(), name="category-list"),
    path("organizations/", api.OrganizationListView.as_view(), name="organization-list"),
    path("organizations/mine/", api.MyOrganizationListView.as_view(), name="organization-mine"),
    path("organizations/<id:pk>/", api.OrganizationDetailView.as_view(), name="organization-detail"),
    path("organizations/<id:pk>/publish/", api.OrganizationPublishView.as_view(), name="organization-publish"),
    path("organizations/<id:pk>/hide/", api.OrganizationHideView.as_view(), name="organization-hide"),
    path("organizations/<id:pk>/photos/", api.OrganizationPhotoListView.as_view(), name="organization-photos"),
    path(
        "organizations/<id:pk>/photos/<id:photo_id>/",
        api.OrganizationPhotoDetailView.as_view(),
        name="organization-photo-detail",
    ),
    path("organizations/<id:pk>/services/", api.OrganizationServiceListView.as_view(), name="organization-services"),
    path(
        "organizations/<id:pk>/services/<id:service_id>/",
        api.OrganizationServiceDetailView.as_view(),
        name="organization-service-detail",
    ),
]
