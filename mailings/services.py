"""The public services of mailings; each lives in the module that does that one thing.

- ``mailings.subscribers``: bot subscribers (subscribe, deactivate, link a user);
- ``mailings.notifications``: ``notify``, ``notify_staff`` and their delivery;
- ``mailings.broadcasts``: mailings from composing to the staff report;
- ``mailings.sending``: sending through a channel and acting on the outcome,
  shared by the two above and the bots; ``mailings.channels``: the channels.

Other apps import from here.
"""

from mailings.broadcasts import (
    mailing_cancel,
    mailing_create,
    mailing_fan_out,
    mailing_finish_if_done,
    mailing_message,
    mailing_schedule,
    mailing_send_batch,
    mailing_send_test,
    mailing_start,
    mailing_validate,
    mailings_dispatch_due,
    mailings_resume_stalled,
)
from mailings.notifications import notification_deliver, notification_kind_register, notify, notify_staff
from mailings.subscribers import recipient_forget, subscriber_deactivate, subscriber_link_user, subscriber_subscribe

__all__ = [
    "mailing_cancel",
    "mailing_create",
    "mailing_fan_out",
    "mailing_finish_if_done",
    "mailing_message",
    "mailing_schedule",
    "mailing_send_batch",
    "mailing_send_test",
    "mailing_start",
    "mailing_validate",
    "mailings_dispatch_due",
    "mailings_resume_stalled",
    "notification_deliver",
    "notification_kind_register",
    "notify",
    "notify_staff",
    "recipient_forget",
    "subscriber_deactivate",
    "subscriber_link_user",
    "subscriber_subscribe",
]
