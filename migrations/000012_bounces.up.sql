-- Bounces and complaints (BC-32): the provider's webhooks suppress an address (hard bounce: bounced; spam
-- complaint: complained), record soft bounces without suppressing, and an admin's reactivation is kept on the row.
ALTER TABLE subscribers DROP CONSTRAINT subscribers_status_check;
ALTER TABLE subscribers ADD CONSTRAINT subscribers_status_check
    CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced', 'complained', 'gone'));

ALTER TABLE subscribers
    -- when the status last changed (for bounced and complained: when the provider says it happened)
    ADD COLUMN status_at               timestamptz,
    ADD COLUMN soft_bounces            int NOT NULL DEFAULT 0,
    ADD COLUMN last_soft_bounce_at     timestamptz,
    ADD COLUMN last_soft_bounce_reason text NOT NULL DEFAULT '',
    -- the last admin reactivation: who, when, from which status, why, and whether it overrode a complaint
    ADD COLUMN reactivated_at          timestamptz,
    ADD COLUMN reactivated_by          text NOT NULL DEFAULT '',
    ADD COLUMN reactivated_from        text NOT NULL DEFAULT '',
    ADD COLUMN reactivation_reason     text NOT NULL DEFAULT '',
    ADD COLUMN reactivation_override   boolean NOT NULL DEFAULT false;

-- Every email event the provider's webhook delivered, by its id: the same event posted twice is applied once.
CREATE TABLE email_events (
    event_id      text PRIMARY KEY,
    type          text NOT NULL CHECK (type IN ('hard_bounce', 'soft_bounce', 'complaint')),
    email         text NOT NULL,
    reason        text NOT NULL DEFAULT '',
    occurred_at   timestamptz NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    -- the subscriber it was applied to; null when no subscriber has the address
    subscriber_id uuid REFERENCES subscribers (id) ON DELETE SET NULL
);
CREATE INDEX email_events_subscriber ON email_events (subscriber_id) WHERE subscriber_id IS NOT NULL;
