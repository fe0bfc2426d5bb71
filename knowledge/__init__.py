"""The knowledge base: YAML entries plus the pure code that validates, loads and searches them.

Nothing here imports Telegram, the database or the ``bot`` package; the dependency direction is
``handlers -> bot -> knowledge``.
"""
