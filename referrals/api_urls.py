from django.urls import path

from referrals import api

urlpatterns = [
    path("codes/", api.ReferralCodeListCreateView.as_view(), name="referral-codes"),
    path("codes/<int:pk>/", api.ReferralCodeDeleteView.as_view(), name="referral-code-detail"),
    path("codes/<int:pk>/activate/", api.ReferralCodeActivateView.as_view(), name="referral-code-activate"),
    path("codes/<int:pk>/deactivate/", api.ReferralCodeDeactivateView.as_view(), name="referral-code-deactivate"),
    path("mine/", api.MyReferralsView.as_view(), name="referrals-mine"),
    path("apply/", api.ReferralApplyView.as_view(), name="referral-apply"),
    path("code/", api.ReferralCodeLookupView.as_view(), name="referral-code-lookup"),
]
