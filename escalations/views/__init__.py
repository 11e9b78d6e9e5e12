"""The pages people use, one module per concept. Every escalation is reached through
Escalation.objects.visible_to(user); anything else answers the same 404."""
