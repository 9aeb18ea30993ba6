-- model spend per scope and day: reservations are taken before a call and settled after it,
-- with a conditional UPDATE, so concurrent calls (on any node) can never overshoot a cap
CREATE TABLE model_spend (
  scope         TEXT NOT NULL,
  day           TEXT NOT NULL,
  reserved_nano BIGINT NOT NULL DEFAULT 0,
  spent_nano    BIGINT NOT NULL DEFAULT 0,
  tokens        BIGINT NOT NULL DEFAULT 0,
  calls         BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (scope, day)
);
-- gateway client tokens: only a SHA-256 of the token is kept
CREATE TABLE gateway_tokens (
  name             TEXT PRIMARY KEY,
  token_hash       TEXT NOT NULL UNIQUE,
  fingerprint      TEXT NOT NULL,
  usd_per_day_nano BIGINT NOT NULL,
  routes           TEXT NOT NULL,
  created_at       BIGINT NOT NULL,
  revoked_at       BIGINT
);
