-- warung-server schema v3, PostgreSQL dialect (twin of ../0003_otp_send_limits.sql): the
-- client address group and the number block of each challenge, counted by the send limits.
ALTER TABLE otp_challenge ADD COLUMN client_key TEXT;
ALTER TABLE otp_challenge ADD COLUMN phone_prefix TEXT;
CREATE INDEX otp_by_client ON otp_challenge(client_key, created_at);
CREATE INDEX otp_by_prefix ON otp_challenge(phone_prefix, created_at);
CREATE INDEX otp_by_time ON otp_challenge(created_at);
