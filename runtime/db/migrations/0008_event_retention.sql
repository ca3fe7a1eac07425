-- Hourly pruning of delivered events (runtime/events/retention.py) finds old ones by this
-- index instead of scanning the whole outbox.
CREATE INDEX events_delivered ON events (delivered_at) WHERE delivered_at IS NOT NULL;
