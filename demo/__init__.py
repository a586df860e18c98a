"""The demo business: a small office-supplies company with three years of history, built fast.

`manage.py seed_demo` (`make demo`) runs `demo.build.demo_build()`: users and teams (`people`), the
catalogue (`catalogue`), N clients (`clients`) with their purchases, interactions, follow-ups and
contracts (`history`), written in blocks (`blocks`, `writers`); then the lifecycle engine fills
every client's figures, status and classifications in one set-based run, and `consents` records
what the clients agreed to.

This app sits on top of every other one: it may import any of them, and none imports it.
"""
