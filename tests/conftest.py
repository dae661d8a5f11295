"""Shared test set-up. Fixtures live in tests/support/plugins/, one module per concern."""

pytest_plugins = [
    "tests.support.plugins.env",
    "tests.support.plugins.db",
    "tests.support.plugins.scielo",
    "tests.support.plugins.storage",
    "tests.support.plugins.targets",
    "tests.support.plugins.prefect_server",
    "tests.support.plugins.harvest",
    "tests.support.plugins.review",
    "tests.support.plugins.browser",
]
