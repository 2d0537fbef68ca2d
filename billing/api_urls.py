from django.urls import path

from billing import api

urlpatterns = [
    path("balance/", api.BalanceView.as_view(), name="billing-balance"),
    path("transactions/", api.TransactionListView.as_view(), name="billing-transactions"),
    path("topups/", api.TopupCreateView.as_view(), name="billing-topups"),
    path("plans/", api.PlanListView.as_view(), name="billing-plans"),
    path("subscriptions/", api.SubscriptionListCreateView.as_view(), name="billing-subscriptions"),
    path("subscriptions/<id:pk>/", api.SubscriptionDetailView.as_view(), name="billing-subscription-detail"),
    path("subscriptions/<id:pk>/cancel/", api.SubscriptionCancelView.as_view(), name="billing-subscription-cancel"),
]
