import re

from django import forms

from security.two_factor import normalise

APP_CODE = re.compile(r"^\d{6}$")
BACKUP_CODE = re.compile(r"^[a-z2-7]{8}$")


class AppCodeForm(forms.Form):
    """The 6-digit code from the authenticator app, when setting it up."""

    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=20,
        error_messages={"required": "Enter the 6-digit code from your authenticator app"},
    )

    def clean_code(self) -> str:
        code = normalise(self.cleaned_data["code"])
        if not APP_CODE.match(code):
            raise forms.ValidationError("The code must be 6 digits, like 123456")
        return code


class VerifyForm(forms.Form):
    """An app code, or one of the backup codes."""

    code = forms.CharField(
        label="Code",
        max_length=30,
        error_messages={
            "required": "Enter the 6-digit code from your authenticator app, or a backup code"
        },
    )

    def clean_code(self) -> str:
        code = normalise(self.cleaned_data["code"])
        if not (APP_CODE.match(code) or BACKUP_CODE.match(code)):
            raise forms.ValidationError(
                "Enter 6 digits from your authenticator app, or an 8-character backup code"
            )
        return code
