"""Forms for the pages, with GOV.UK error messages that say what to do."""
