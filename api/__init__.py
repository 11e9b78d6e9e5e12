"""The case-system API: each agency's case system reads what that agency's safeguarding lead may
see (docs/adr/0029-case-system-api.md)."""
