-- Warung local store, version 1: catalog, FTS index, cart, outbox.
-- Amounts are stored twice: `amount` is the exact decimal text (the source of truth) and
-- `amount_minor` the integer count of minor units, for indexed filters and sorts. No REALs.
-- Catalog foreign keys are DEFERRABLE so that one sync batch may carry a product before its
-- category; they are checked when the batch commits.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE merchant (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('shop', 'seller')),
    city      TEXT NOT NULL,
    contact   TEXT NOT NULL,  -- JSON
    policies  TEXT NOT NULL   -- JSON
) STRICT;

CREATE TABLE category (
    id        TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES category(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    name      TEXT NOT NULL,
    position  INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX category_parent ON category(parent_id);

-- `product` is kept narrow (ids, filter and sort columns): search joins it for thousands of
-- FTS matches, and a narrow row costs a third of a wide one. What only a detail page or a
-- result row needs lives in `product_detail`.
CREATE TABLE product (
    pk           INTEGER PRIMARY KEY,   -- the FTS rowid
    id           TEXT NOT NULL UNIQUE,
    merchant_id  TEXT NOT NULL REFERENCES merchant(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    category_id  TEXT REFERENCES category(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    rating_x10   INTEGER NOT NULL, -- rating * 10, for sorting
    rating_count INTEGER NOT NULL,
    created_at   INTEGER NOT NULL, -- unix ms
    stock        TEXT NOT NULL DEFAULT 'out' CHECK (stock IN ('in_stock', 'low', 'out')) -- best of its variants
) STRICT;
CREATE INDEX product_merchant ON product(merchant_id);
CREATE INDEX product_category ON product(category_id);
CREATE INDEX product_created ON product(created_at, pk);
CREATE INDEX product_rating ON product(rating_x10, pk);

CREATE TABLE product_detail (
    pk           INTEGER PRIMARY KEY REFERENCES product(pk) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    brand        TEXT,
    attributes   TEXT NOT NULL,  -- JSON object
    image_urls   TEXT NOT NULL,  -- JSON array
    rating_avg   TEXT NOT NULL,  -- decimal text, 0..5
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE variant (
    id           TEXT PRIMARY KEY,
    product_id   TEXT NOT NULL REFERENCES product(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    sku          TEXT NOT NULL,
    options      TEXT NOT NULL, -- JSON object
    stock        TEXT NOT NULL CHECK (stock IN ('in_stock', 'low', 'out')),
    weight_grams INTEGER NOT NULL
) STRICT;
CREATE INDEX variant_product ON variant(product_id);

CREATE TABLE variant_price (
    variant_id         TEXT NOT NULL REFERENCES variant(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    currency           TEXT NOT NULL,
    amount             TEXT NOT NULL,
    amount_minor       INTEGER NOT NULL,
    compare_at         TEXT,
    PRIMARY KEY (variant_id, currency)
) STRICT, WITHOUT ROWID;

-- Per product and currency, everything a search filters or sorts on: the cheapest and dearest
-- variant, and copies of the product's category, merchant, stock band, rating and age. A text
-- search joins each of its matches to this one row only (half the cost of also joining
-- `product`). Kept in step with `product` by catalog::Writer::finish, in the same transaction.
CREATE TABLE product_price (
    product_pk  INTEGER NOT NULL REFERENCES product(pk) ON DELETE CASCADE,
    currency    TEXT NOT NULL,
    min_minor   INTEGER NOT NULL,
    max_minor   INTEGER NOT NULL,
    category_id TEXT,
    merchant_id TEXT NOT NULL,
    stock       TEXT NOT NULL,
    rating_x10  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (product_pk, currency)
) STRICT, WITHOUT ROWID;
CREATE INDEX product_price_sort ON product_price(currency, min_minor, product_pk);

CREATE TABLE voucher (
    code        TEXT PRIMARY KEY,  -- upper-case
    body        TEXT NOT NULL      -- JSON of protocol::Voucher
) STRICT;

-- Contentless: the columns hold folded words plus their stems (see catalog::text), which are
-- only useful to the index; what users see comes from `product_detail`.
CREATE VIRTUAL TABLE product_fts USING fts5(
    title, brand, description,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4'
);
CREATE VIRTUAL TABLE product_fts_vocab USING fts5vocab(product_fts, 'row');

CREATE TRIGGER product_fts_delete AFTER DELETE ON product BEGIN
    DELETE FROM product_fts WHERE rowid = old.pk;
END;

CREATE TABLE cart_line (
    variant_id     TEXT PRIMARY KEY,  -- no FK: a removed variant leaves an `unavailable` line
    quantity       INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    seen_amount    TEXT NOT NULL,     -- price when added
    currency       TEXT NOT NULL,
    added_at       INTEGER NOT NULL,
    position       INTEGER NOT NULL
) STRICT;

CREATE TABLE cart_voucher (
    code        TEXT PRIMARY KEY,
    -- '' for the platform voucher: at most one per merchant plus one platform voucher
    scope       TEXT NOT NULL UNIQUE,
    applied_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY,  -- per device, gap-free from 1
    device_id       TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,        -- JSON of protocol::IntentBody
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'applied', 'rejected')),
    reason          TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_pending ON outbox(state, seq);
