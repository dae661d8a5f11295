"""The local Prefect API the command line starts on first use (local_api.py) and its
``archive-ingest prefect up|down|status`` commands (cli.py)."""
