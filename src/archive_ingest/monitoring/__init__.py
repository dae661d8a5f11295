"""Operations monitoring: figures, metrics, alerts."""
