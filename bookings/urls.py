from django.urls import path

from bookings import views

app_name = "bookings"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("organization/<id:pk>/", views.organization, name="organization"),
    path("organization/<id:pk>/reviews/", views.organization_reviews, name="organization_reviews"),
    path("reviews/<id:pk>/reply/", views.review_reply, name="review_reply"),
    path("confirm/", views.confirm, name="confirm"),
    path("<id:pk>/", views.detail, name="detail"),
    path("<id:pk>/cancel/", views.cancel, name="cancel"),
    path("<id:pk>/invite/", views.invite, name="invite"),
    path("<id:pk>/accept/", views.accept, name="accept"),
    path("<id:pk>/decline/", views.decline, name="decline"),
    path("<id:pk>/review/", views.review_create, name="review"),
    path("check-in/", views.check_in, name="check_in"),
    path("owner/", views.owned, name="owned"),
    path("owner/<id:pk>/", views.owner_bookings, name="owner_bookings"),
    path("owner/<id:pk>/resources/", views.owner_resources, name="owner_resources"),
    path("owner/<id:pk>/hours/", views.opening_hours, name="opening_hours"),
    path("owner/resources/<id:pk>/", views.resource_edit, name="resource_edit"),
    path("owner/bookings/<id:pk>/check-in/", views.owner_check_in, name="owner_check_in"),
]
