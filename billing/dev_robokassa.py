"""The local fake Robokassa payment page: development-only code.

Routed only by portal/urls_dev.py, the URLs of a process started with
DJANGO_DEBUG on (`make run`, the test suite), and only in Robokassa test mode.
A production process (DEBUG off) routes with portal/urls.py and never imports
this module, so no setting can turn the page on there.
"""

import logging
from decimal import Decimal
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from billing import robokassa

logger = logging.getLogger(__name__)


@require_http_methods(["GET", "POST"])
def robokassa_fake(request):
    """A stand-in for Robokassa's payment page, so the whole flow can be clicked through locally.

    "Pay" sends the real signed ResultURL callback to our own server over HTTP
    (``SITE_URL``), then sends the browser to SuccessURL; "Cancel" goes to FailURL.
    """
    if not settings.ROBOKASSA_IS_TEST:  # a live shop's links must not be "paid" here
        raise Http404
    params = (request.POST if request.method == "POST" else request.GET).dict()
    out_sum = params.get("OutSum", "")
    inv_id = params.get("InvId", "")
    shp = robokassa.shp_params(params)
    expected = robokassa.payment_signature(out_sum=out_sum, inv_id=inv_id, shp=shp)
    if (
        params.get("MerchantLogin") != settings.ROBOKASSA_LOGIN
        or not out_sum
        or not inv_id
        or not robokassa.signature_matches(expected, params.get("SignatureValue", ""))
    ):
        return render(request, "billing/robokassa_fake.html", {"invalid": True}, status=400)

    if request.method == "GET":
        return render(
            request,
            "billing/robokassa_fake.html",
            {
                "amount": Decimal(out_sum),
                "inv_id": inv_id,
                "description": params.get("Description", ""),
                "hidden": {
                    k: v
                    for k, v in params.items()
                    if k in {"MerchantLogin", "OutSum", "InvId", "Description", "SignatureValue", "Culture", "IsTest"}
                    or k.lower().startswith("shp_")
                },
            },
        )

    if request.POST.get("action") == "pay":
        # Robokassa sends OutSum with six decimals; we hash it exactly as sent.
        sent_sum = f"{Decimal(out_sum):.6f}"
        callback = {
            "OutSum": sent_sum,
            "InvId": inv_id,
            "SignatureValue": robokassa.result_signature(out_sum=sent_sum, inv_id=inv_id, shp=shp).upper(),
            "Culture": "ru",
            **shp,
        }
        url = settings.SITE_URL + reverse("billing:robokassa_result")
        try:
            response = requests.post(url, data=callback, timeout=15)
        except requests.RequestException as exc:
            logger.warning("Fake Robokassa could not reach %s: %s", url, exc)
            return render(request, "billing/robokassa_fake.html", {"unreachable": True}, status=502)
        if response.status_code != 200 or response.text.strip() != f"OK{inv_id}":
            return render(request, "billing/robokassa_fake.html", {"unreachable": True}, status=502)
        back = {
            "OutSum": sent_sum,
            "InvId": inv_id,
            "SignatureValue": robokassa.success_signature(out_sum=sent_sum, inv_id=inv_id, shp=shp),
            "Culture": "ru",
            **shp,
        }
        return redirect(f"{reverse('billing:robokassa_success')}?{urlencode(back)}")
    return redirect(f"{reverse('billing:robokassa_fail')}?{urlencode({'OutSum': out_sum, 'InvId': inv_id})}")
