"""The inquiry log: every question, ticket and rating in the database, and what is read from it.

``models`` (tables), ``db`` (engines, migrations), ``queries`` (the storage functions every
adapter shares), ``inquiry_log`` (the log the conversation core writes to, with its durable
``spool`` for when the database is away), ``stats`` and ``export`` (what staff read).
"""
