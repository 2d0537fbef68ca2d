from django.urls import path

from catalog import api

urlpatterns = [
    path("cities/", api.CityListView.as_view(), name="city-list"),
    path("categories/", api.CategoryListView.as_view(), name="category-list"),
    path("organizations/", api.OrganizationListView.as_view(), name="organization-list"),
    path("organizations/mine/", api.MyOrganizationListView.as_view(), name="organization-mine"),
    path("organizations/<int:pk>/", api.OrganizationDetailView.as_view(), name="organization-detail"),
    path("organizations/<int:pk>/publish/", api.OrganizationPublishView.as_view(), name="organization-publish"),
    path("organizations/<int:pk>/hide/", api.OrganizationHideView.as_view(), name="organization-hide"),
    path("organizations/<int:pk>/photos/", api.OrganizationPhotoListView.as_view(), name="organization-photos"),
    path(
        "organizations/<int:pk>/photos/<int:photo_id>/",
        api.OrganizationPhotoDetailView.as_view(),
        name="organization-photo-detail",
    ),
    path("organizations/<int:pk>/services/", api.OrganizationServiceListView.as_view(), name="organization-services"),
    path(
        "organizations/<int:pk>/services/<int:service_id>/",
        api.OrganizationServiceDetailView.as_view(),
        name="organization-service-detail",
    ),
]
