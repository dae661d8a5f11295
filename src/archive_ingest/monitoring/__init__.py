"""Operations monitoring: figures about the archive read from the catalogue (figures.py), the
Prometheus metrics made of them (metrics.py), and what the status command, the health page and
the alerts build on them."""
