"""VK channel: vk-api routed to VK_API_BASE_URL through the session it accepts.

vk-api posts every method to the hard-coded ``https://api.vk.ru/method/<name>``
(older releases: api.vk.com); VKSession rewrites that prefix to
settings.VK_API_BASE_URL, so production talks to VK and tests to a local fake.

``messages.send`` goes to up to 100 ``peer_ids`` per call with a ``random_id``
chosen by the caller (mailings derive it from the mailing and the batch, so a
retried call is deduplicated by VK). Per-peer errors 901/902 (the user does
not allow messages) make the subscriber inactive; errors 6/9/29 (too many
requests, flood control, rate limit) back off and retry.
"""

import hashlib
import json
import os
import threading
import time

import requests
import vk_api
from django.conf import settings
from vk_api.exceptions import ApiError, ApiHttpError

from mailings.channels.base import Channel, DeliveryError, Message, PermanentDeliveryError
from mailings.channels.registry import register_channel
from mailings.channels.telegram import RecipientGone
from mailings.rate_limit import acquire_vk

API_VERSION = "5.199"
MAX_PEERS_PER_CALL = 100
RECIPIENT_GONE_CODES = {901, 902, 7}
RETRY_CODES = {6, 9, 29, 10}
BACKOFF = (0.5, 1.0, 2.0, 4.0)
VK_HOSTS = ("https://api.vk.ru/method/", "https://api.vk.com/method/")


class VKSession(requests.Session):
    """A requests session that sends vk-api's method calls to ``base_url``."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url.rstrip("/") + "/"

    def request(self, method, url, *args, **kwargs):
        for prefix in VK_HOSTS:
            if isinstance(url, str) and url.startswith(prefix):
                url = self.base_url + url[len(prefix) :]
                break
        kwargs.setdefault("timeout", 15)
        return super().request(method, url, *args, **kwargs)


_local = threading.local()


def is_configured() -> bool:
    return bool(settings.VK_GROUP_TOKEN)


def get_api() -> vk_api.VkApi:
    """The VkApi of this process/thread for the configured token and base URL."""
    if getattr(_local, "pid", None) != os.getpid():
        _local.pid, _local.apis = os.getpid(), {}
    key = (settings.VK_GROUP_TOKEN, settings.VK_API_BASE_URL)
    api = _local.apis.get(key)
    if api is None:
        api = vk_api.VkApi(token=settings.VK_GROUP_TOKEN, session=VKSession(settings.VK_API_BASE_URL))
        api.api_version = API_VERSION
        api.RPS_DELAY = 0  # the shared limiter paces calls across all workers
        api.error_handlers.pop(vk_api.vk_api.TOO_MANY_RPS_CODE, None)  # we back off ourselves
        _local.apis[key] = api
    return api


def call(method: str, values: dict):
    """One VK API call: rate limited, retried on 6/9/29 and network errors."""
    api = get_api()
    for attempt in range(len(BACKOFF) + 1):
        try:
            acquire_vk()
        except TimeoutError as exc:
            raise DeliveryError(str(exc)) from exc
        try:
            return api.method(method, values)
        except ApiError as exc:
            if exc.code not in RETRY_CODES:
                raise PermanentDeliveryError(f"VK error {exc.code}: {exc.error.get('error_msg', '')}") from exc
            error = DeliveryError(f"VK error {exc.code}: {exc.error.get('error_msg', '')}")
        except (requests.RequestException, ApiHttpError, ValueError) as exc:
            error = DeliveryError(f"VK network error: {exc}")
        if attempt < len(BACKOFF):
            time.sleep(BACKOFF[attempt])
    raise error


def random_id_for(*parts) -> int:
    """A stable positive int32 from ``parts`` (VK dedups messages.send by random_id)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF or 1


def keyboard(buttons) -> str | None:
    """Link buttons (``[(text, url), …]``) as an inline VK keyboard, in order."""
    rows = [
        [{"action": {"type": "open_link", "link": url, "label": text[:40]}}]
        for text, url in buttons
        if url.startswith(("http://", "https://"))
    ][:6]
    if not rows:
        return None
    return json.dumps({"inline": True, "buttons": rows}, ensure_ascii=False)


def send_to_peers(*, peer_ids, text: str, random_id: int, buttons=(), attachment: str = "") -> dict:
    """messages.send to ≤100 peers; return {peer_id: None (sent) or (code, description)}."""
    peer_ids = [int(p) for p in peer_ids]
    if not 0 < len(peer_ids) <= MAX_PEERS_PER_CALL:
        raise ValueError("messages.send takes 1..100 peer_ids")
    values = {"peer_ids": ",".join(map(str, peer_ids)), "message": text, "random_id": random_id}
    markup = keyboard(buttons)
    if markup:
        values["keyboard"] = markup
    if attachment:
        values["attachment"] = attachment
    response = call("messages.send", values)
    results = dict.fromkeys(peer_ids)
    if isinstance(response, list):
        for item in response:
            error = item.get("error")
            if error:
                results[int(item["peer_id"])] = (int(error.get("code", 0)), error.get("description", ""))
    return results


def upload_message_photo(*, content: bytes, filename: str) -> str:
    """Upload a photo for messages; return the attachment string ``photo<owner>_<id>[_<key>]``."""
    server = call("photos.getMessagesUploadServer", {"peer_id": 0})
    try:
        response = get_api().http.post(server["upload_url"], files={"photo": (filename, content)}, timeout=60)
        uploaded = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise DeliveryError(f"VK upload failed: {exc}") from exc
    saved = call(
        "photos.saveMessagesPhoto",
        {"server": uploaded["server"], "photo": uploaded["photo"], "hash": uploaded["hash"]},
    )[0]
    attachment = f"photo{saved['owner_id']}_{saved['id']}"
    if saved.get("access_key"):
        attachment += f"_{saved['access_key']}"
    return attachment


def upload_message_document(*, content: bytes, filename: str, peer_id: int = 0) -> str:
    """Upload a file (a GIF) as a message document; return the attachment string ``doc<owner>_<id>[_<key>]``.

    VK plays a GIF sent as a document (``docs.getMessagesUploadServer`` with
    ``type=doc``, then ``docs.save``); it has no "animation" attachment.
    """
    server = call("docs.getMessagesUploadServer", {"type": "doc", "peer_id": peer_id})
    try:
        response = get_api().http.post(server["upload_url"], files={"file": (filename, content)}, timeout=60)
        uploaded = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise DeliveryError(f"VK upload failed: {exc}") from exc
    if "file" not in uploaded:
        raise PermanentDeliveryError(f"VK upload refused: {uploaded.get('error', uploaded)}")
    saved = call("docs.save", {"file": uploaded["file"], "title": filename})
    doc = saved.get("doc", saved) if isinstance(saved, dict) else saved[0]
    attachment = f"doc{doc['owner_id']}_{doc['id']}"
    if doc.get("access_key"):
        attachment += f"_{doc['access_key']}"
    return attachment


#: What a mailing's media becomes on VK with a community token: photo → photo, GIF → document.
#: A video cannot be sent: uploading one (video.save) needs a user's token, which a community
#: bot does not have, so VK subscribers get the text and buttons without it.
MEDIA_SUPPORT = {"photo": "photo", "animation": "doc", "video": None}


def media_unsupported(media_type: str) -> bool:
    """Whether a mailing's media of ``media_type`` cannot go out on VK (it is then left out)."""
    return bool(media_type) and MEDIA_SUPPORT.get(media_type) is None


class VKChannel(Channel):
    name = "vk"

    def address_for(self, user) -> str | None:
        if not is_configured():
            return None
        from mailings.models import BotSubscriber

        return (
            BotSubscriber.objects.filter(user=user, channel="vk", is_active=True)
            .order_by("-subscribed_at")
            .values_list("chat_id", flat=True)
            .first()
        )

    def send(self, *, address: str, message: Message) -> None:
        random_id = random_id_for("notification", address, message.subject, message.text)
        result = send_to_peers(peer_ids=[address], text=message.text, random_id=random_id, buttons=message.buttons)
        error = result.get(int(address))
        if error:
            if error[0] in RECIPIENT_GONE_CODES:
                from mailings.services import subscriber_deactivate

                subscriber_deactivate(channel="vk", chat_id=address)
                raise RecipientGone(f"VK error {error[0]}: {error[1]}")
            raise PermanentDeliveryError(f"VK error {error[0]}: {error[1]}")


register_channel(VKChannel())
