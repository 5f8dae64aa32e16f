-- Component status changes held back from subscribers while a maintenance window covers the component (BC-11).
-- One row per component: what subscribers were last told before the first held change. When no window covers the
-- component any more, the maintenance sweep deletes the row (exactly once, whichever process sweeps) and, when the
-- component's status now differs from told_status, sends one component.update from told_status to it.
CREATE TABLE component_holds (
    component   text PRIMARY KEY REFERENCES components (slug) ON DELETE CASCADE ON UPDATE CASCADE,
    told_status text NOT NULL,
    held_at     timestamptz NOT NULL
);
