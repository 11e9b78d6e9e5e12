"""Single sign-on with an agency's or partnership's OpenID Connect provider
(docs/adr/0030-single-sign-on.md)."""
