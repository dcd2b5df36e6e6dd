-- Upload batches kept `expires_at` in seconds beside `created_at` in microseconds; every
-- instant in the database is now microseconds since the Unix epoch.
UPDATE media_batches SET expires_at = expires_at * 1000000;
