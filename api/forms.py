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
