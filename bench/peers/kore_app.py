"""What Kore imports instead of bench/korepyd_app/app.py (servers.kore_conf
copies this file beside it): that app's handlers as they are, but for one.

Kore (since 4.2) compiles a route's regex with REG_NOSUB, under which glibc's
regexec fills in no capture groups, so on Linux a Python handler of
`route ^/user/([0-9]+)$` is passed 15 empty strings instead of "123".
user() here takes the id from the path (which the route's regex has
already checked) and hands it to the app's own user().
"""

from app import db, heap, json_hello, plain, ws, ws_connect, ws_disconnect, ws_message  # noqa: F401
from app import user as app_user


def user(req, *captures):
    return app_user(req, req.path.rsplit("/", 1)[1])
