"""The builder: from the editable sources to an immutable release on disk.

It owns reading the sources (`sources`: ontology/, shapes/, data/ into quads, with their file and
line), validating them (`validation`: pySHACL and the source checks; a Violation refuses the
release), describing the release (`description`: DCAT-AP and VoID), the spreadsheet tables
(`tables`), the change feed (`feed`), writing the release atomically (`writer`: dumps, checksums,
the query store, the switch of `current`) and removing old releases (`prune`). It may import only
the base (`config`, `errors`, `release`, `integrity`, `vocab`, `changes`, `feed`): nothing that
serves, so a server never loads it.
"""
