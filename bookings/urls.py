from django.urls import path

from bookings import views

app_name = "bookings"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("organization/<int:pk>/", views.organization, name="organization"),
    path("book/", views.book, name="book"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/invite/", views.invite, name="invite"),
    path("<int:pk>/decline/", views.decline, name="decline"),
    path("check-in/", views.check_in, name="check_in"),
    path("owner/", views.owned, name="owned"),
    path("owner/<int:pk>/", views.owner_bookings, name="owner_bookings"),
    path("owner/<int:pk>/resources/", views.owner_resources, name="owner_resources"),
    path("owner/<int:pk>/hours/", views.opening_hours, name="opening_hours"),
    path("owner/resources/<int:pk>/", views.resource_edit, name="resource_edit"),
    path("owner/bookings/<int:pk>/check-in/", views.owner_check_in, name="owner_check_in"),
]
