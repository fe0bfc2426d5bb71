"""The application core and its edges: settings, conversation core, storage, CLI."""
