"""Fixtures and helpers shared by the tests: helper modules here, pytest plugins (fixtures)
under plugins/, registered in tests/conftest.py."""
