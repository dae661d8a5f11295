"""The tiered fixity audit of every copy on every storage target, with its catalogue records.

- :mod:`.report`: what one pass found (per copy, per target) as JSON and as a table;
- :mod:`.target`: one target's pass: the fast tier (HEAD and listing,
  :mod:`archive_ingest.storage.audit_fast`) over every copy, then the budgeted full re-hash
  (:mod:`archive_ingest.storage.rehash`), least-recently re-hashed objects first;
- :mod:`.record`: every check into the catalogue (objects' last check and re-hash, the copy's
  status, one PREMIS fixity event per copy), copies found in storage adopted;
- :mod:`.run`: every target (or the ones named), one after the other.
"""
