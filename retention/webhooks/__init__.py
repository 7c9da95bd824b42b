"""
Webhooks: endpoints that admins register receive signed events (a customer at risk, recovered or
churned; a detractor or promoter answer; a complaint opened or breached; a promise broken), each
delivered at least once with a unique id, through a ledger like the outbox's.
"""
