from django.urls import path

from referrals import api

urlpatterns = [
    path("codes/", api.ReferralCodeListCreateView.as_view(), name="referral-codes"),
    path("codes/<id:pk>/", api.ReferralCodeDeleteView.as_view(), name="referral-code-detail"),
    path("codes/<id:pk>/activate/", api.ReferralCodeActivateView.as_view(), name="referral-code-activate"),
    path("codes/<id:pk>/deactivate/", api.ReferralCodeDeactivateView.as_view(), name="referral-code-deactivate"),
    path("mine/", api.MyReferralsView.as_view(), name="referrals-mine"),
    path("apply/", api.ReferralApplyView.as_view(), name="referral-apply"),
    path("code/", api.ReferralCodeLookupView.as_view(), name="referral-code-lookup"),
]
