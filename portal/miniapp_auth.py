"""DRF authentication for Telegram and VK Mini Apps.

Placeholder classes: they authenticate nobody yet (the accounts feature
implements the signed launch-data checks). They are listed first in
REST_FRAMEWORK so that a missing credential is answered with 401.
"""

from rest_framework.authentication import BaseAuthentication


class TelegramMiniAppAuthentication(BaseAuthentication):
    keyword = "tma"

    def authenticate(self, request):
        return None

    def authenticate_header(self, request):
        return self.keyword


class VKMiniAppAuthentication(BaseAuthentication):
    keyword = "vk"

    def authenticate(self, request):
        return None

    def authenticate_header(self, request):
        return self.keyword


try:  # describe the Mini App schemes in the OpenAPI schema
    from drf_spectacular.extensions import OpenApiAuthenticationExtension

    class TelegramMiniAppScheme(OpenApiAuthenticationExtension):
        target_class = "portal.miniapp_auth.TelegramMiniAppAuthentication"
        name = "tma"

        def get_security_definition(self, auto_schema):
            return {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`tma <initData>`: the Telegram Mini App's raw initData",
            }

    class VKMiniAppScheme(OpenApiAuthenticationExtension):
        target_class = "portal.miniapp_auth.VKMiniAppAuthentication"
        name = "vk"

        def get_security_definition(self, auto_schema):
            return {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`vk <launch params>`: the VK Mini App's launch query string",
            }
except ImportError:  # pragma: no cover
    pass
