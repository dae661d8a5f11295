"""The command's logs: ``--log-format text`` (people) or ``json`` (one object per line, for a
log shipper). ``context`` holds what the line is about (the item, its version and stage, the
run), ``json_lines`` turns a record into one JSON line, ``setup`` installs either format."""
