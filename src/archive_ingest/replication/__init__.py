"""Copies of AIPs beyond the deposit: ``replicate`` (a target added later gets every AIP it
lacks, rebuilt from a verified copy on another target) and ``repair`` (an object missing,
replaced or corrupt on one target is restored from a copy that passes full verification on
another, as a new S3 version, and the copy's receipt is written again as a signed revision).

Modules: ``sources`` reads and checks what a target holds (receipts, objects hashed while
streamed), ``transfer`` copies one AIP version to one target, ``adopt`` records the copies of
items deposited before copies were recorded, ``replicate`` plans and runs the backfill,
``diagnose`` finds what is wrong with one copy, ``good_copies`` finds a verified source for
each bad object, ``restore`` writes the new versions and the receipt revision, ``repair``
runs it all per copy, ``events`` builds the PREMIS events, ``progress`` is the terminal's
progress bar, ``cli`` the two commands.
"""
