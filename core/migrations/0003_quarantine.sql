-- Warung local store, version 3: catalog entities the phone cannot store, set aside.
-- A synced op whose entity fails validation, cannot be written (an amount past i64 minor
-- units), does not parse, or refers to something unresolved at the end of its checkpoint is
-- kept here instead of failing the checkpoint. A later PUT of the same kind + id that is valid,
-- or a REMOVE, clears the row.

CREATE TABLE catalog_quarantine (
    kind    TEXT NOT NULL,     -- merchant, category, product, variant, voucher
    id      TEXT NOT NULL,     -- the entity's id (a voucher's code upper-cased)
    op_id   INTEGER NOT NULL,
    reason  TEXT NOT NULL,
    body    TEXT NOT NULL,     -- the raw op JSON
    PRIMARY KEY (kind, id)
) STRICT;
