"""
Messaging: every message to a customer, from the decision to send it to the SMTP server.

How a message travels:

1. **A scan finds an occasion.** Celery beat runs the program scans (``scans.programs_scan``
   hourly, ``scans.thank_you_scan`` every ten minutes). Each enabled program finds, with
   set-based queries per local date (``customers.zones``), what is due: a birthday, an
   anniversary, a purchase a week ago… (``occasions.py``); the follow-ups of several purchases due
   the same day for one customer are one occasion. Card reminders, follow-ups for the owner rather
   than email, run with them (``cards.py``).
2. **A ledger row is written in the deciding transaction.** The program's wording is rendered in
   a sandbox (``wording.py``, defaults in ``defaults.py``) and the message is written as an
   ``OutboxMessage`` with a unique occasion key (one birthday greeting per contact per year), its
   Message-ID, the opaque reference its headers carry, and its latest sensible send time
   (``policy.py``): in bulk by ``scans.materialize``, one at a time by ``ledger.outbox_enqueue``
   (meeting notes, surveys, the managers' digest). A second decision for the same occasion finds
   the key taken and adds nothing; an unsubscribed contact's message is recorded as
   ``suppressed``, one decided after its moment (a back-dated run) as ``expired``, the other
   purchases of a merged follow-up as ``merged``.
3. **A task is enqueued on commit** (``ledger.enqueue_on_commit``): a rolled-back decision queues
   nothing; a message due later is queued with a countdown, or left to the sweeper if far off.
4. **The sender claims the row** (``sending.outbox_send``): ``pending`` → ``sending`` by a
   conditional UPDATE, so a duplicate or retried task sends nothing. A message past its latest send
   time is expired instead; one over its contact's daily limit (``cap.py``) waits for the next
   free day or is suppressed. The email (``composing.py``) has its From on the installation's
   domain, honest headers and a DKIM signature (``dkim.py``); once the server accepts it, one
   UPDATE marks the row ``sent``, and the timeline touchpoint follows.
5. **Retries with backoff:** a temporary failure puts the row back to ``pending`` with a capped,
   jittered delay, until its latest send time (then ``expired``); a permanent one marks it
   ``failed`` with the reason, and a manager may put it back in line (``ledger.outbox_retry``).
   The mail server's state is logged (a WARNING, then an ERROR), shown by ``/healthz`` and the
   Outbox page, and when it answers again the backlog goes at once (``server.py``).
6. **The sweeper** (``sweeper.outbox_sweep``, every minute) takes back what a killed worker had in
   hand once its lease ran out, expires what waited too long, probes a failing mail server,
   re-queues what is due and in nobody's hands (a broker outage at decision time), and writes the
   timeline entries a dying worker left out.
7. **Unsubscribe** (``unsubscribe.py``): every automated message carries a one-click link in its
   footer and its headers; from then on that contact's automated messages are suppressed.

The Programs and Outbox pages are ``views.py`` and ``forms.py`` (reading the ledger:
``reading.py``); the Celery tasks stay thin in ``touchpoints/tasks.py``, and the models
(``Program``, ``OutboxMessage``, ``MailServerState``) in ``touchpoints/messaging_models.py``.
docs/RELIABILITY.md tells what the outbox guarantees, and how it was measured.
"""
