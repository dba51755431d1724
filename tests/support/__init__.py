"""Test support shared by the suite: paths, the app factory, servers, the node runner (see docs/architecture.md)."""
