//! The tamper-evident audit trail: each event's hash covers its content and the previous
//! event's hash, so changing, removing or reordering any event breaks every link after it.

use sha2::{Digest, Sha256};

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an event says; the hash covers exactly these fields and the previous hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContent {
    pub seq: i64,
    /// RFC 3339 UTC instant, as stored.
    pub occurred_at: String,
    /// Who acted: `person:<id>`, `token:<id>` or `system`.
    pub actor: String,
    /// What happened, e.g. `person.created`.
    pub action: String,
    /// What it happened to, e.g. `person:<id>`.
    pub subject: String,
    /// A JSON object summarising the change, as stored.
    pub summary: String,
    pub request_id: Option<String>,
}

/// A stored event: content plus its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub content: AuditContent,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an event that follows `prev_hash`.
pub fn event_hash(prev_hash: &str, content: &AuditContent) -> String {
    // A JSON array gives every field an unambiguous boundary, so no two different events can
    // serialise to the same bytes.
    let canonical = serde_json::json!([
        prev_hash,
        content.seq,
        content.occurred_at,
        content.actor,
        content.action,
        content.subject,
        content.summary,
        content.request_id,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Links a new event onto the chain whose last hash is `prev_hash`.
pub fn seal(prev_hash: &str, content: AuditContent) -> AuditRecord {
    let hash = event_hash(prev_hash, &content);
    AuditRecord {
        content,
        prev_hash: prev_hash.to_owned(),
        hash,
    }
}

/// The first link that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit event {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Checks events one by one in sequence order, so a long trail never has to sit in memory.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    expected_prev: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            expected_prev: GENESIS_HASH.to_owned(),
        }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, record: &AuditRecord) -> Result<(), ChainBreak> {
        let seq = record.content.seq;
        if seq != self.expected_seq {
            return Err(ChainBreak {
                seq,
                reason: format!(
                    "expected event {} next; events are missing or reordered",
                    self.expected_seq
                ),
            });
        }
        if record.prev_hash != self.expected_prev {
            return Err(ChainBreak {
                seq,
                reason: "its link to the previous event does not match (an earlier event was altered or removed)".into(),
            });
        }
        if event_hash(&record.prev_hash, &record.content) != record.hash {
            return Err(ChainBreak {
                seq,
                reason: "its content does not match its hash (the event was altered)".into(),
            });
        }
        self.expected_seq += 1;
        self.expected_prev.clone_from(&record.hash);
        Ok(())
    }

    /// Ends the walk; `head` is the last sequence number and hash the database recorded, which
    /// catches events removed from the end of the trail.
    pub fn finish(self, head: Option<(i64, &str)>) -> Result<i64, ChainBreak> {
        let last = self.expected_seq - 1;
        if let Some((head_seq, head_hash)) = head
            && (head_seq != last || head_hash != self.expected_prev)
        {
            return Err(ChainBreak {
                seq: head_seq,
                reason: format!(
                    "the trail ends at event {last} but the recorded head is event {head_seq}; events were removed or altered at the end"
                ),
            });
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let record = seal(
                    &prev,
                    AuditContent {
                        seq,
                        occurred_at: format!("2026-01-01T00:00:{seq:02}Z"),
                        actor: "system".into(),
                        action: "person.created".into(),
                        subject: format!("person:{seq}"),
                        summary: r#"{"email":"a@b.c"}"#.into(),
                        request_id: None,
                    },
                );
                prev.clone_from(&record.hash);
                record
            })
            .collect()
    }

    fn verify(records: &[AuditRecord]) -> Result<i64, ChainBreak> {
        let mut verifier = ChainVerifier::default();
        for r in records {
            verifier.push(r)?;
        }
        let head = records.last().map(|r| (r.content.seq, r.hash.as_str()));
        verifier.finish(head)
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn altering_any_field_names_that_event() {
        for field in 0..5 {
            let mut records = chain(5);
            let c = &mut records[2].content;
            match field {
                0 => c.actor.push('x'),
                1 => c.action.push('x'),
                2 => c.subject.push('x'),
                3 => c.summary = r#"{"email":"evil@b.c"}"#.into(),
                _ => c.request_id = Some("r".into()),
            }
            assert_eq!(verify(&records).unwrap_err().seq, 3);
        }
    }

    #[test]
    fn rehashing_an_altered_event_breaks_the_next_link() {
        let mut records = chain(4);
        records[1].content.actor = "person:mallory".into();
        records[1].hash = event_hash(&records[1].prev_hash, &records[1].content);
        let err = verify(&records).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("link"));
    }

    #[test]
    fn removed_events_are_detected_in_the_middle_and_at_the_end() {
        let mut records = chain(4);
        records.remove(1);
        assert_eq!(verify(&records).unwrap_err().seq, 3);

        let records = chain(4);
        let mut verifier = ChainVerifier::default();
        for r in &records[..3] {
            verifier.push(r).unwrap();
        }
        let err = verifier.finish(Some((4, &records[3].hash))).unwrap_err();
        assert_eq!(err.seq, 4);
    }
}
