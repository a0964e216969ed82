-- Outcome metrics the vendor imports per partner and quarter (customer health, NPS,
-- implementation success, escalations, revenue, ...), for certified vs non-certified reports.
CREATE TABLE partner_outcomes (
    partner_id  TEXT NOT NULL REFERENCES partners (id),
    quarter     TEXT NOT NULL,
    metric      TEXT NOT NULL,
    value       DOUBLE PRECISION NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (partner_id, quarter, metric)
);
CREATE INDEX partner_outcomes_metric ON partner_outcomes (metric, quarter);
