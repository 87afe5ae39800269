-- warung-server schema v2: identity and verification (issue 5).
-- Times are unix seconds (INTEGER): every check is a comparison with "now". Secrets are
-- stored only as SHA-256 (tokens, OTP codes, binding tokens) or PBKDF2 (PINs); the TOTP
-- secret is the exception (the server must know it to verify codes; no at-rest encryption
-- yet, a known gap).

CREATE TABLE user_account (
    id                 TEXT PRIMARY KEY,
    phone              TEXT NOT NULL UNIQUE,     -- E.164
    created_at         INTEGER NOT NULL,
    pin_hash           BLOB,                     -- PBKDF2-HMAC-SHA256, 32 bytes
    pin_salt           BLOB,                     -- 16 random bytes
    pin_iterations     INTEGER,
    pin_failures       INTEGER NOT NULL DEFAULT 0,
    pin_locked_until   INTEGER,
    totp_secret        BLOB,                     -- 20 bytes, RFC 6238 SHA1
    totp_last_step     INTEGER,                  -- the last accepted step (replay refusal)
    totp_failures      INTEGER NOT NULL DEFAULT 0,
    totp_window_start  INTEGER                   -- start of the current failure window
) STRICT;

-- SMS OTP challenges. Kept after use: the send limits count them.
CREATE TABLE otp_challenge (
    id           TEXT PRIMARY KEY,
    phone        TEXT NOT NULL,
    purpose      TEXT NOT NULL CHECK (purpose IN ('register', 'login', 'step_up')),
    device_id    TEXT NOT NULL,
    user_id      TEXT REFERENCES user_account(id), -- step_up: the requesting user
    tx_digest    TEXT,                             -- step_up: what it confirms
    code_hash    BLOB NOT NULL,                    -- SHA-256(id ":" code)
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,       -- wrong codes so far
    verified_at  INTEGER,                          -- the code was accepted (single use)
    grant_expires_at INTEGER,                      -- step_up: the grant's deadline
    consumed_at  INTEGER                           -- step_up: the action used the grant
) STRICT;
CREATE INDEX otp_by_phone ON otp_challenge(phone, created_at);
CREATE INDEX otp_by_device ON otp_challenge(device_id, created_at);

-- Sessions: a family per login; its access and refresh tokens (hashes). A refresh token is
-- single use (rotated_at); presenting a rotated one revokes the family.
CREATE TABLE session_family (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES user_account(id),
    device_id      TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    revoke_reason  TEXT
) STRICT;
CREATE INDEX session_by_user_device ON session_family(user_id, device_id);

CREATE TABLE session_token (
    token_hash  BLOB PRIMARY KEY,
    family_id   TEXT NOT NULL REFERENCES session_family(id),
    kind        TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    rotated_at  INTEGER                              -- refresh only: already exchanged
) STRICT;
CREATE INDEX session_token_by_family ON session_token(family_id);

-- A user's devices (installations). Bound: public_key set and revoked_at NULL.
CREATE TABLE user_device (
    user_id        TEXT NOT NULL REFERENCES user_account(id),
    device_id      TEXT NOT NULL,
    public_key     BLOB,                             -- Ed25519, 32 bytes
    bound_at       INTEGER,
    revoked_at     INTEGER,
    last_login_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id)
) STRICT;

-- SIM bindings: a token the phone sends by SMS from its SIM.
CREATE TABLE binding (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES user_account(id),
    device_id   TEXT NOT NULL,
    public_key  BLOB NOT NULL,
    token_hash  BLOB NOT NULL,                       -- SHA-256 of the token
    state       TEXT NOT NULL CHECK (state IN ('pending', 'bound', 'revoked')),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    bound_at    INTEGER,
    revoked_at  INTEGER
) STRICT;
CREATE INDEX binding_by_token ON binding(token_hash);
CREATE INDEX binding_by_user_device ON binding(user_id, device_id);

-- Nonces of signed requests (replay refusal), pruned after the clock-skew window.
CREATE TABLE request_nonce (
    device_id  TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    seen_at    INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)
) STRICT;
CREATE INDEX request_nonce_by_age ON request_nonce(seen_at);

-- Inbound (mobile-originated) SMS: message_id de-duplication and the per-sender limit.
CREATE TABLE inbound_sms (
    message_id   TEXT PRIMARY KEY,
    sender       TEXT NOT NULL,                      -- normalised when possible
    received_at  INTEGER NOT NULL,
    result       TEXT NOT NULL,
    reason       TEXT
) STRICT;
CREATE INDEX inbound_by_sender ON inbound_sms(sender, received_at);

-- The development gateway's outbox.
CREATE TABLE dev_sms (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    to_phone    TEXT NOT NULL,
    sender      TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX dev_sms_by_to ON dev_sms(to_phone, seq);
