"""Shared test set-up. Fixtures live in tests/plugins/, one module per concern."""

pytest_plugins = [
    "tests.plugins.env",
    "tests.plugins.db",
    "tests.plugins.scielo",
    "tests.plugins.storage",
    "tests.plugins.prefect_server",
    "tests.plugins.harvest",
]
