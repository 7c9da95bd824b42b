"""
Messaging: every message to a customer, from the decision to send it to the SMTP server.

How a message travels:

1. **A scan finds an occasion.** Celery beat runs the program scans (``scans.programs_scan``
   hourly, ``scans.thank_you_scan`` every ten minutes). Each enabled program finds, with
   set-based queries per local date (``customers.zones``), what is due: a birthday, an
   anniversary, a purchase a week ago… (``occasions.py``). Card reminders, follow-ups for the owner
   rather than email, run with them (``cards.py``).
2. **A ledger row is written in the deciding transaction.** The program's wording is rendered in
   a sandbox (``wording.py``, defaults in ``defaults.py``) and the message is written as an
   ``OutboxMessage`` with a unique occasion key (one birthday greeting per contact per year): in
   bulk by ``scans.materialize``, one at a time by ``ledger.outbox_enqueue`` (meeting notes). A
   second decision for the same occasion finds the key taken and adds nothing; an unsubscribed
   contact's message is recorded as ``suppressed``.
3. **A task is enqueued on commit** (``ledger.enqueue_on_commit``): a rolled-back decision queues
   nothing; a message due later is queued with a countdown, or left to the sweeper if far off.
4. **The sender claims the row** (``sending.outbox_send``): ``pending`` → ``sending`` by a
   conditional UPDATE, so a duplicate or retried task sends nothing; then it builds the email
   (From in the owner's name, Reply-To, ``List-Unsubscribe`` headers), sends it over SMTP and marks
   the row ``sent`` with a touchpoint on the customer's timeline.
5. **Retries with backoff:** a temporary SMTP failure puts the row back to ``pending`` with a capped,
   jittered delay; a permanent one (or too many attempts) marks it ``failed`` with the reason. A
   manager may put a failed message back in line from the Outbox page (``ledger.outbox_retry``).
6. **The sweeper** (``ledger.outbox_sweep``, every two minutes) re-queues rows still pending when
   due (a broker outage at decision time) and rows stuck in ``sending`` (a worker killed mid-send).
7. **Unsubscribe** (``unsubscribe.py``): every automated message carries a one-click link in its
   footer and its headers; from then on that contact's automated messages are suppressed.

The Programs and Outbox pages are ``views.py`` and ``forms.py``; the Celery tasks stay thin in
``touchpoints/tasks.py``, and the models (``Program``, ``OutboxMessage``) in ``touchpoints/models.py``.
"""
