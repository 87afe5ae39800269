-- Issue 10: OTP send limits that a caller cannot reset by inventing device ids. Each
-- challenge records the client address group it was asked from (an IPv4 address, an IPv6 /64)
-- and the block of numbers it went to (the E.164 number without its last digits); the send
-- limits count these rows inside the writer transaction that inserts the next one. Rows
-- from before this migration have NULLs and count only toward the global budget.
ALTER TABLE otp_challenge ADD COLUMN client_key TEXT;
ALTER TABLE otp_challenge ADD COLUMN phone_prefix TEXT;
CREATE INDEX otp_by_client ON otp_challenge(client_key, created_at);
CREATE INDEX otp_by_prefix ON otp_challenge(phone_prefix, created_at);
CREATE INDEX otp_by_time ON otp_challenge(created_at);
