-- warung-server schema v1. Applied once, in a transaction, when PRAGMA user_version < 1.

-- The authoritative catalog. Each entity keeps its wire JSON (what the catalog op carries)
-- next to the columns queries need; variants keep the EXACT stock count, phones only ever
-- see the band derived from it.
CREATE TABLE merchant (
    id          TEXT PRIMARY KEY,
    json        TEXT NOT NULL,              -- protocol::Merchant
    key_hash    BLOB UNIQUE,                -- SHA-256 of the API key; NULL: no key issued yet
    key_prefix  TEXT,
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE category (
    id    TEXT PRIMARY KEY,
    json  TEXT NOT NULL                      -- protocol::Category
) STRICT;

CREATE TABLE product (
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchant(id),
    category_id  TEXT NOT NULL REFERENCES category(id),
    json         TEXT NOT NULL               -- protocol::Product
) STRICT;
CREATE INDEX product_by_merchant ON product(merchant_id, id);

CREATE TABLE variant (
    seq          INTEGER PRIMARY KEY,        -- insertion order: a product's variants in order
    id           TEXT NOT NULL UNIQUE,
    product_id   TEXT NOT NULL REFERENCES product(id) ON DELETE CASCADE,
    stock_count  INTEGER NOT NULL CHECK (stock_count >= 0),
    json         TEXT NOT NULL               -- protocol::Variant (with the band)
) STRICT;
CREATE INDEX variant_by_product ON variant(product_id, seq);

CREATE TABLE voucher (
    code         TEXT PRIMARY KEY,           -- upper-case
    json         TEXT NOT NULL               -- protocol::Voucher
) STRICT;

-- Devices and their intents.
CREATE TABLE device (
    id             TEXT PRIMARY KEY,
    token_hash     BLOB NOT NULL UNIQUE,     -- SHA-256 of the device token
    platform       TEXT NOT NULL,
    app_version    TEXT,
    next_seq       INTEGER NOT NULL,
    registered_at  TEXT NOT NULL,
    cart_json      TEXT NOT NULL             -- sync::CartMirror
) STRICT;

CREATE TABLE intent (
    device_id        TEXT NOT NULL REFERENCES device(id),
    seq              INTEGER NOT NULL,
    idempotency_key  TEXT NOT NULL,
    payload_hash     BLOB NOT NULL,          -- SHA-256 of the intent body's JSON
    result_json      TEXT NOT NULL,          -- sync::IntentResult
    PRIMARY KEY (device_id, seq),
    UNIQUE (device_id, idempotency_key)
) STRICT;

-- The op log of every bucket. One global sequence of op ids (so ids increase within each
-- bucket); only the latest op per (bucket, kind, entity) is kept.
CREATE TABLE op_log (
    op_id       INTEGER PRIMARY KEY,
    bucket      TEXT NOT NULL,               -- 'catalog' or 'device:<id>'
    kind        TEXT NOT NULL,               -- entity kind, 'intent_result' or 'cart'
    entity_id   TEXT NOT NULL,
    tombstone   INTEGER NOT NULL,            -- 1 for a REMOVE op
    json        TEXT NOT NULL,               -- the op exactly as served
    checksum    INTEGER NOT NULL,            -- protocol::sync::op_checksum(json)
    UNIQUE (bucket, kind, entity_id)
) STRICT;
CREATE INDEX op_log_by_bucket ON op_log(bucket, op_id);
CREATE INDEX op_log_tombstones ON op_log(bucket, op_id) WHERE tombstone = 1;

CREATE TABLE bucket (
    name     TEXT PRIMARY KEY,
    head     INTEGER NOT NULL,               -- the latest op id ever appended
    horizon  INTEGER NOT NULL DEFAULT 0      -- tombstones at or below it may be gone
) STRICT;

CREATE TABLE op_sequence (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    last     INTEGER NOT NULL
) STRICT;
INSERT INTO op_sequence (id, last) VALUES (1, 0);
