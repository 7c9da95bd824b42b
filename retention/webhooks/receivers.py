"""
The webhooks listen to ``customers.events.customer_event``: the apps announce there, inside the
transaction that decides the change, and the deliveries are written here in that same transaction
(``events.announce``). Connected from ``WebhooksConfig.ready``. The health score, in ``retention``
itself, announces its band changes by calling ``events.announce_many`` directly.
"""

from customers.events import customer_event


def connect():
    customer_event.connect(on_customer_event, dispatch_uid="retention.webhooks.announce")


def on_customer_event(sender, *, event_type, customer_id, data, **kwargs):
    from .events import announce  # models are loaded by the time a signal is sent

    announce(event_type=event_type, customer_id=customer_id, data=data)
