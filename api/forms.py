from django import forms


class NewTokenForm(forms.Form):
    name = forms.CharField(
        label="What is the system called?",
        help_text="For example, Mosaic (children's social care). Shown in the audit log.",
        max_length=100,
        error_messages={
            "required": "Enter what the case system is called",
            "max_length": "The name must be 100 characters or fewer",
        },
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Enter what the case system is called")
        return name


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="Address to send each event to",
        help_text="The case system's https address, for example https://mosaic.example.org/portal-events.",
        max_length=300,
        assume_scheme="https",
        error_messages={
            "required": "Enter the address to send events to",
            "invalid": "Enter a full web address, like https://mosaic.example.org/portal-events",
            "max_length": "The address must be 300 characters or fewer",
        },
    )

    def clean_url(self) -> str:
        from django.conf import settings

        url = self.cleaned_data["url"]
        if not url.startswith("https://") and not settings.WEBHOOK_ALLOW_HTTP:
            raise forms.ValidationError(
                "The address must start with https://: events about children go only over an"
                " encrypted connection"
            )
        if "@" in url.split("//", 1)[1].split("/", 1)[0]:
            raise forms.ValidationError(
                "Leave the user name and password out of the address: the portal signs each"
                " event instead"
            )
        return url
