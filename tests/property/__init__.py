"""Property tests: hostile input of every kind, on the matcher and the conversation core."""
