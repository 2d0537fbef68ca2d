"""VK channel: vk-api routed to VK_API_BASE_URL through the session it accepts.

vk-api posts every method to the hard-coded ``https://api.vk.ru/method/<name>``
(older releases: api.vk.com); VKSession rewrites that prefix to
settings.VK_API_BASE_URL, so production talks to VK and tests to a local fake.

``messages.send`` goes to up to 100 ``peer_ids`` per call with a ``random_id``
derived from the caller's dedupe key, so a repeated call is dropped by VK.
Outcomes: per-peer errors 901/902/7 (the user does not allow messages) →
``blocked``, other per-peer or call errors → ``failed``; error 6 (too many
requests per second) is waited out briefly, 9/10/29 (flood control, server
error, quota) and network errors → ``retry``.
"""

import hashlib
import json
import os
import secrets
import threading

import requests
import vk_api
from django.conf import settings
from vk_api.exceptions import ApiError, ApiHttpError

from mailings.channels.base import RATE_LIMIT_WAIT, Channel, Media, Message, SendFailed, SendResult, wait_out
from mailings.channels.registry import register_channel
from mailings.rate_limit import acquire_vk
from mailings.selectors import subscriber_chat_for

API_VERSION = "5.199"
MAX_PEERS_PER_CALL = 100
RECIPIENT_GONE_CODES = {901, 902, 7}
TOO_MANY_PER_SECOND = 6
TOO_MANY_WAIT = 1.0  # error 6 names no wait; a second is what "per second" needs
RETRY_CODES = {9, 10, 29}
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
        api.error_handlers.pop(vk_api.vk_api.TOO_MANY_RPS_CODE, None)  # error 6 is ours to handle
        _local.apis[key] = api
    return api


def _take_turn() -> bool:
    try:
        acquire_vk(timeout=RATE_LIMIT_WAIT)
    except TimeoutError:
        return False
    return True


def _call(method: str, values: dict, *, turn_taken: bool = False):
    """One VK API call, rate limited; a failure raises SendFailed with its outcome."""
    api = get_api()
    waits = 0
    while True:
        if not turn_taken and not _take_turn():
            raise SendFailed(SendResult.retry("no rate-limit slot for VK in time"))
        turn_taken = False
        try:
            return api.method(method, values)
        except ApiError as exc:
            error = f"VK error {exc.code}: {exc.error.get('error_msg', '')}"
            if exc.code == TOO_MANY_PER_SECOND and wait_out(TOO_MANY_WAIT, waits):
                waits += 1
                continue
            if exc.code in RETRY_CODES or exc.code == TOO_MANY_PER_SECOND:
                raise SendFailed(SendResult.retry(error)) from exc
            raise SendFailed(SendResult.failed(error)) from exc
        except (requests.RequestException, ApiHttpError, ValueError) as exc:
            raise SendFailed(SendResult.retry(f"VK network error: {exc}")) from exc


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


def _upload(media: Media, *, server_method: str, server_values: dict, field: str) -> dict:
    """Post ``media`` as ``field`` to the upload server ``server_method`` names; VK's answer (what the
    matching save method takes). A network failure or an unreadable answer is a ``retry``."""
    server = _call(server_method, server_values)
    try:
        response = get_api().http.post(server["upload_url"], files={field: (media.filename, media.content)}, timeout=60)
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise SendFailed(SendResult.retry(f"VK upload failed: {exc}")) from exc


def _attachment(kind: str, saved: dict) -> str:
    """The attachment string of a saved upload: ``<kind><owner>_<id>``, plus ``_<key>`` when it has one."""
    attachment = f"{kind}{saved['owner_id']}_{saved['id']}"
    if saved.get("access_key"):
        attachment += f"_{saved['access_key']}"
    return attachment


def _upload_photo(media: Media) -> str:
    """Upload a photo for messages; the attachment string ``photo<owner>_<id>[_<key>]``."""
    uploaded = _upload(
        media, server_method="photos.getMessagesUploadServer", server_values={"peer_id": 0}, field="photo"
    )
    saved = _call(
        "photos.saveMessagesPhoto",
        {"server": uploaded["server"], "photo": uploaded["photo"], "hash": uploaded["hash"]},
    )[0]
    return _attachment("photo", saved)


def app_link_keyboard(app_link) -> str | None:
    """An inline button for ``app_link``: ``open_app`` launching the VK Mini App (``VK_APP_ID``) with the
    start parameter as its hash, or a link to the page when the Mini App is not configured."""
    if app_link is None:
        return None
    app_id = str(settings.VK_APP_ID or "").strip()
    if app_id.isdigit() and app_link.start_param:
        action = {"type": "open_app", "app_id": int(app_id), "hash": app_link.start_param, "label": app_link.text[:40]}
        group_id = str(settings.VK_GROUP_ID or "").strip()
        if group_id.isdigit():
            action["owner_id"] = -int(group_id)
        return json.dumps({"inline": True, "buttons": [[{"action": action}]]}, ensure_ascii=False)
    if app_link.url().startswith("https://"):
        return keyboard([(app_link.text, app_link.url())])
    return None


def _send_to_peers(peer_ids: list[int], message: Message, *, random_id: int, turn_taken: bool) -> dict:
    """messages.send to ≤100 peers; {peer_id: None (sent) or (code, description)}."""
    values = {"peer_ids": ",".join(map(str, peer_ids)), "message": message.text, "random_id": random_id}
    markup = app_link_keyboard(message.app_link) or keyboard(message.buttons)
    if markup:
        values["keyboard"] = markup
    media = message.media
    if media is not None and media.kind == "photo":
        values["attachment"] = media.handle or _upload_photo(media)
    elif media is not None and media.kind == "animation":
        values["attachment"] = media.handle or _upload_document(media)
    response = _call("messages.send", values, turn_taken=turn_taken)
    errors = dict.fromkeys(peer_ids)
    if isinstance(response, list):
        for item in response:
            error = item.get("error")
            if error:
                errors[int(item["peer_id"])] = (int(error.get("code", 0)), error.get("description", ""))
    return errors


def _upload_document(media: Media) -> str:
    """Upload a file (a GIF) as a message document; the attachment string ``doc<owner>_<id>[_<key>]``.

    VK plays a GIF sent as a document (``docs.getMessagesUploadServer`` with
    ``type=doc``, then ``docs.save``); it has no "animation" attachment.
    """
    uploaded = _upload(
        media, server_method="docs.getMessagesUploadServer", server_values={"type": "doc", "peer_id": 0}, field="file"
    )
    if "file" not in uploaded:
        raise SendFailed(SendResult.failed(f"VK upload refused: {uploaded.get('error', uploaded)}"))
    saved = _call("docs.save", {"file": uploaded["file"], "title": media.filename})
    doc = saved.get("doc", saved) if isinstance(saved, dict) else saved[0]
    return _attachment("doc", doc)


#: What a mailing's media becomes on VK with a community token: photo → photo, GIF → document.
#: A video cannot be sent: uploading one (video.save) needs a user's token, which a community
#: bot does not have, so VK subscribers get the text and buttons without it.
MEDIA_SUPPORT = {"photo": "photo", "animation": "doc", "video": None}


def media_unsupported(media_type: str) -> bool:
    """Whether a mailing's media of ``media_type`` cannot go out on VK (it is then left out)."""
    return bool(media_type) and MEDIA_SUPPORT.get(media_type) is None


class VKChannel(Channel):
    name = "vk"
    batch_size = MAX_PEERS_PER_CALL
    resend_is_deduplicated = True

    def address_for(self, user) -> str | None:
        if not is_configured():
            return None
        return subscriber_chat_for(user=user, channel=self.name)

    def take_turn(self, address: str) -> bool:
        return _take_turn()

    def upload_media(self, media: Media) -> SendResult:
        # VK messages carry photos, and GIFs as documents; a video goes without (MEDIA_SUPPORT).
        upload = {"photo": _upload_photo, "animation": _upload_document}.get(media.kind)
        if upload is None:
            return SendResult.sent()
        try:
            return SendResult.sent(media_handle=upload(media))
        except SendFailed as failure:
            return failure.result

    def send(self, *, address: str, message: Message, dedupe_key: str = "", turn_taken: bool = False) -> SendResult:
        return self.send_batch(addresses=[address], message=message, dedupe_key=dedupe_key, turn_taken=turn_taken)[
            address
        ]

    def send_batch(
        self, *, addresses, message: Message, dedupe_key: str = "", turn_taken: bool = False
    ) -> dict[str, SendResult]:
        """One ``messages.send`` for up to 100 peers; ``random_id`` from ``dedupe_key`` (random without one)."""
        addresses = list(addresses)
        if not 0 < len(addresses) <= MAX_PEERS_PER_CALL:
            raise ValueError("messages.send takes 1..100 peer_ids")
        random_id = random_id_for(dedupe_key) if dedupe_key else secrets.randbelow(0x7FFFFFFF) + 1
        try:
            errors = _send_to_peers([int(a) for a in addresses], message, random_id=random_id, turn_taken=turn_taken)
        except SendFailed as failure:
            return dict.fromkeys(addresses, failure.result)
        results = {}
        for address in addresses:
            error = errors.get(int(address))
            if error is None:
                results[address] = SendResult.sent()
            elif error[0] in RECIPIENT_GONE_CODES:
                results[address] = SendResult.blocked(f"VK error {error[0]}: {error[1]}")
            else:
                results[address] = SendResult.failed(f"VK error {error[0]}: {error[1]}")
        return results


register_channel(VKChannel())
