"""
The manager's at-risk dashboard (``/dashboard/``): who is slipping away, why, what it is worth and
what to do, and whether the team's retention is improving.

- ``scope``: whose customers a user sees here (managers their teams, admins all, account managers
  their own book), narrowed to a team, an account manager and a period from the URL;
- ``at_risk``: the customers at risk by value at risk, with the reason and the 30-day trend;
- ``kpis``: the figures of the period against the previous one, and coverage per account manager;
- ``cohorts``: customers by the month they joined, the share still customers after each month;
- ``exports``: each table as CSV; ``views``: the page, its exports and its actions in place.

Everything is an aggregate query or a capped list: the page costs the same number of queries
whatever the size of the book, and history is read from the nightly tally
(``retention.health.tally``), never recounted per request.
"""
