-- Migration 3: which customer each device (anonymous_id) belongs to, as of the last run.
-- A run that re-stitches a device reads its previous customer here to rebuild both.
CREATE TABLE IF NOT EXISTS customer_devices (
  anonymous_id VARCHAR PRIMARY KEY, customer_id VARCHAR NOT NULL);
