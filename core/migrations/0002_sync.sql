-- Warung local store, version 2: the sync client's staging area.
-- Pages of a long pull (an initial sync of the whole catalog) are kept here, as the exact JSON
-- text the server sent, until the last page has arrived; then the whole checkpoint is applied
-- in ONE transaction through catalog::apply and the stage is emptied in that same transaction.
-- Staging survives a killed process: the next sync resumes after the last staged op.

CREATE TABLE sync_stage (
    op_id  INTEGER PRIMARY KEY,
    body   TEXT NOT NULL  -- one CatalogOp as JSON
) STRICT;
