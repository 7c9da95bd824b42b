"""
Demo and benchmark data: what ``seed_demo`` and ``seed_bench`` write, and how.

- ``people``: the demo users and teams (and the bench's extra account managers), and their logins;
- ``book``: the shape of a believable book both draw from (shares, word lists, lifecycles);
- ``demo``: the 300-customer demo book, built in memory and written with a few bulk inserts;
- ``bench_book`` and ``bench``: the benchmark book, generated in batches and streamed;
- ``writers``: explicit id allocation and the bulk writers (COPY on PostgreSQL, ``bulk_create``);
- ``processes``: work cut into parts and done by two forked processes side by side;
- ``indexes``: a fresh load's secondary indexes and foreign keys set aside and built once;
- ``derived``: what the services and the daily scan derive from rows written in bulk, done by
  calling them set-based;
- ``vacuum``: statistics and compaction after a bulk load.

Production code: nothing here imports a test package or a management command; the commands
only parse options, call this package and print.
"""
