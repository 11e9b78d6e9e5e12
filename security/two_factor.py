"""The second factor: a TOTP app for everyone, with ten single-use backup codes.

django-otp keeps the devices and throttles guesses; a TOTP device remembers the last time step
it accepted (last_t), so a code works once (ASVS 6.5.1). Verification locks the device row so
two requests racing with one code cannot both pass.
"""

from __future__ import annotations

import base64
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"


def confirmed_app(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def is_enrolled(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_app(user) -> TOTPDevice:
    """The unconfirmed device being set up, made on first visit and kept until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def key_for_display(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    key = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The otpauth URI as an SVG QR code drawn on the server, as a data: URI for an <img>."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathFillImage)
    encoded = base64.b64encode(image.to_string()).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"


def normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _verify_locked(device_model, device_pk: int, code: str) -> tuple[bool, object]:
    device = device_model.objects.select_for_update().get(pk=device_pk)
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        return False, device
    return device.verify_token(code), device


def throttled(user) -> bool:
    """True while django-otp makes the user wait after wrong codes."""
    return any(
        not device.verify_is_allowed()[0]
        for device in (
            *TOTPDevice.objects.filter(user=user, confirmed=True),
            *StaticDevice.objects.filter(user=user, confirmed=True),
        )
    )


def complete_sign_in(request: HttpRequest, device) -> None:
    """Marks the session verified with this device and gives it a new id (ASVS 7.2.4): the
    password step already did (django.contrib.auth.login), and a key seen before the second
    factor, in a shared browser or a log, must not become a fully signed-in session."""
    otp_login(request, device)
    request.session.cycle_key()


def confirm_enrolment(request: HttpRequest, *, code: str) -> list[str] | None:
    """Confirms the pending app with a current code; returns the new backup codes, or None."""
    device = pending_app(request.user)
    with transaction.atomic():
        ok, device = _verify_locked(TOTPDevice, device.pk, normalise(code))
        if not ok:
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # One app per person: an earlier confirmed device (a lost phone) stops working.
        TOTPDevice.objects.filter(user=request.user).exclude(pk=device.pk).delete()
        codes = new_backup_codes(request.user)
    complete_sign_in(request, device)
    return codes


def verify(request: HttpRequest, *, code: str) -> bool:
    """Verifies the session with an app code or an unused backup code."""
    code = normalise(code)
    user = request.user
    candidates = []
    if code.isdigit():
        candidates = [
            (TOTPDevice, d.pk) for d in TOTPDevice.objects.filter(user=user, confirmed=True)
        ]
    else:
        candidates = [
            (StaticDevice, d.pk) for d in StaticDevice.objects.filter(user=user, confirmed=True)
        ]
    for model, pk in candidates:
        with transaction.atomic():
            ok, device = _verify_locked(model, pk, code)
        if ok:
            complete_sign_in(request, device)
            return True
    return False


def new_backup_codes(user) -> list[str]:
    """Replaces the user's backup codes with ten new ones; the caller shows them once."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def backup_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
