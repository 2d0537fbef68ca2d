from django.urls import path

from bookings import api

urlpatterns = [
    path("resources/", api.ResourceListView.as_view(), name="resource-list"),
    path("resources/<int:pk>/", api.ResourceDetailView.as_view(), name="resource-detail"),
    path("resources/<int:pk>/slots/", api.ResourceSlotsView.as_view(), name="resource-slots"),
    path("bookings/", api.BookingListCreateView.as_view(), name="booking-list"),
    path("bookings/check-in/", api.BookingCheckInView.as_view(), name="booking-check-in"),
    path("bookings/owned/", api.OwnerBookingListView.as_view(), name="booking-owned"),
    path("bookings/<int:pk>/", api.BookingDetailView.as_view(), name="booking-detail"),
    path("bookings/<int:pk>/cancel/", api.BookingCancelView.as_view(), name="booking-cancel"),
    path("bookings/<int:pk>/decline/", api.BookingDeclineView.as_view(), name="booking-decline"),
    path("bookings/<int:pk>/participants/", api.BookingParticipantsView.as_view(), name="booking-participants"),
    path("bookings/<int:pk>/qr/", api.BookingQRView.as_view(), name="booking-qr"),
    path("organizations/<int:pk>/opening-hours/", api.OpeningHoursView.as_view(), name="organization-opening-hours"),
]
