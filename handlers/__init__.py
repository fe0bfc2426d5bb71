"""Telegram adapters: unpack an update, call the core, send the reply."""
