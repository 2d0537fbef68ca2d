from django.urls import path

from bookings import api

urlpatterns = [
    path("resources/", api.ResourceListView.as_view(), name="resource-list"),
    path("resources/<id:pk>/", api.ResourceDetailView.as_view(), name="resource-detail"),
    path("resources/<id:pk>/slots/", api.ResourceSlotsView.as_view(), name="resource-slots"),
    path("bookings/", api.BookingListCreateView.as_view(), name="booking-list"),
    path("bookings/check-in/", api.BookingCheckInView.as_view(), name="booking-check-in"),
    path("bookings/owned/", api.OwnerBookingListView.as_view(), name="booking-owned"),
    path("bookings/<id:pk>/", api.BookingDetailView.as_view(), name="booking-detail"),
    path("bookings/<id:pk>/cancel/", api.BookingCancelView.as_view(), name="booking-cancel"),
    path("bookings/<id:pk>/accept/", api.BookingAcceptView.as_view(), name="booking-accept"),
    path("bookings/<id:pk>/decline/", api.BookingDeclineView.as_view(), name="booking-decline"),
    path("bookings/<id:pk>/participants/", api.BookingParticipantsView.as_view(), name="booking-participants"),
    path("bookings/<id:pk>/qr/", api.BookingQRView.as_view(), name="booking-qr"),
    path("bookings/<id:pk>/ics/", api.BookingCalendarView.as_view(), name="booking-ics"),
    path("organizations/<id:pk>/opening-hours/", api.OpeningHoursView.as_view(), name="organization-opening-hours"),
    path("organizations/<id:pk>/reviews/", api.OrganizationReviewListView.as_view(), name="organization-reviews"),
    path("reviews/<id:pk>/reply/", api.ReviewReplyView.as_view(), name="review-reply"),
]
