"""
The health score: how likely a customer is to stay, 0–100, explained by its factors.

How a score comes about, one module a step:

1. ``facts``: what is known about a batch of customers, read with one grouped query per source
   (their check-in clock, survey answers, complaints, promises, purchases, contacts, invitations
   and inbound touches, the manager's override). The same reading serves one customer (a batch of
   one) and the nightly scan (batches of thousands): nothing is read customer by customer.
2. ``factors``: the one function, ``assess``, that turns one customer's facts into six factor
   scores, the weighted score, the band, the reasons in order of what they cost, and the next
   action. Missing data leaves a factor out; no data at all leaves the score unknown.
3. ``recompute``: storing it on the customer (``health_score``, ``health_band``,
   ``health_factors``) with a snapshot on each day it changes (``snapshots``): ``health_recompute``
   for one customer when something happens to it (``receivers``), ``health_scan`` for everyone
   at night, the two proven equal by the tests.
4. ``weights``: the weights and band thresholds admins edit, with the preview of how many
   customers a change would move between bands. ``overrides``: a manager's score with a comment
   and an expiry date. ``reasons``: the plain words of a reason. ``tally``: the nightly counts of
   each book the dashboard's trends read.

The rules in words, with the numbers: ``docs/HEALTH.md``.
"""
