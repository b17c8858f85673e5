-- Up Migration

-- Each approval token works once: its nonce is claimed by the first decision event that uses it.
-- A retried review of the same event finds its own claim (event_key) and goes on.
CREATE TABLE approval_token_uses (
  nonce      text PRIMARY KEY,
  event_key  text NOT NULL,
  used_at    timestamptz NOT NULL DEFAULT now()
);

-- accepted | refused | not-waiting (too early, or after the run was decided); when the decision arrived.
ALTER TABLE approval_events ADD COLUMN state text;
UPDATE approval_events SET state = CASE WHEN accepted THEN 'accepted' ELSE 'refused' END;
ALTER TABLE approval_events ALTER COLUMN state SET NOT NULL;
ALTER TABLE approval_events ADD CONSTRAINT approval_events_state CHECK (state IN ('accepted', 'refused', 'not-waiting'));
ALTER TABLE approval_events ADD COLUMN received_at timestamptz;

-- Down Migration
ALTER TABLE approval_events DROP COLUMN received_at;
ALTER TABLE approval_events DROP CONSTRAINT approval_events_state;
ALTER TABLE approval_events DROP COLUMN state;
DROP TABLE approval_token_uses;
