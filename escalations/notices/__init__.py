"""Notices: the outbox relay (relay), what a notice says on the page and in an email
(summary), and the person's notifications page (views, urls). Rows are written with the change
that causes them (Notice, escalations.services, the sweep)."""
