"""End-to-end tests of the network watcher: a client in its own network namespace."""
