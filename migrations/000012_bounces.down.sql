DROP TABLE IF EXISTS email_events;
UPDATE subscribers SET status = 'bounced' WHERE status = 'complained';
ALTER TABLE subscribers
    DROP COLUMN IF EXISTS status_at,
    DROP COLUMN IF EXISTS soft_bounces,
    DROP COLUMN IF EXISTS last_soft_bounce_at,
    DROP COLUMN IF EXISTS last_soft_bounce_reason,
    DROP COLUMN IF EXISTS reactivated_at,
    DROP COLUMN IF EXISTS reactivated_by,
    DROP COLUMN IF EXISTS reactivated_from,
    DROP COLUMN IF EXISTS reactivation_reason,
    DROP COLUMN IF EXISTS reactivation_override;
ALTER TABLE subscribers DROP CONSTRAINT subscribers_status_check;
ALTER TABLE subscribers ADD CONSTRAINT subscribers_status_check
    CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced', 'gone'));
