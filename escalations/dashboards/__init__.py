"""Partnership dashboards, reports, the annual return and their exports (SPEC section 9)."""
