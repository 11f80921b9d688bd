//! Owns the progress of `expect_sequence` / `expect_unordered` through their events, without a
//! socket: which event a message is offered to, counts of repeated events (`count`,
//! `min`/`max`, `until`), when the step is done, and the words of its reports ("612 of 800
//! messages matching … (event 1 of 2)").

use serde_json::Value;

use crate::pattern::Pattern;
use crate::scenario::EventPlan;
use crate::transcript::Failure;

/// What offering a message to the step gave.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// The message is claimed by this event (index in `events`).
    Claimed(usize),
    /// The message ended the last event (its `until`): it is not claimed, and not a violation.
    EndsEvent,
    /// The message matches no open event; `later` names a later event of a sequence it
    /// matches (out of order).
    Unexpected {
        /// A later event of a sequence the message matches.
        later: Option<usize>,
    },
    /// An `until` message arrived before the event had its `min`.
    UntilTooEarly(Box<Failure>),
}

/// One event, compiled.
struct Event {
    pattern: Pattern,
    until: Option<Pattern>,
    min: usize,
    max: Option<usize>,
    repeats: bool,
    /// The inbox indexes of the messages this event claimed.
    claimed: Vec<usize>,
}

impl Event {
    fn full(&self) -> bool {
        self.max.is_some_and(|m| self.claimed.len() >= m)
    }

    fn satisfied(&self) -> bool {
        self.claimed.len() >= self.min
    }

    fn expected_count(&self) -> String {
        match (self.min, self.max) {
            (a, Some(b)) if a == b => a.to_string(),
            (a, Some(b)) => format!("{a}–{b}"),
            (a, None) => format!("at least {a}"),
        }
    }
}

/// Where a step is among its events.
pub(crate) struct Progress {
    events: Vec<Event>,
    ordered: bool,
    /// The current event of a sequence.
    current: usize,
}

impl Progress {
    /// Compiles the events with `compile(pattern, what)`.
    pub(crate) fn new(
        plans: &[EventPlan],
        ordered: bool,
        mut compile: impl FnMut(&Value, &str) -> Result<Pattern, Failure>,
    ) -> Result<Progress, Failure> {
        let mut events = Vec::with_capacity(plans.len());
        for e in plans {
            events.push(Event {
                pattern: compile(&e.pattern, "event")?,
                until: e.until.as_ref().map(|u| compile(u, "until")).transpose()?,
                min: e.min,
                max: e.max,
                repeats: e.repeats(),
                claimed: Vec::new(),
            });
        }
        let mut p = Progress {
            events,
            ordered,
            current: 0,
        };
        p.skip_empty();
        Ok(p)
    }

    /// A sequence moves past events that are full already (`max: 0` cannot be written, so
    /// this only matters after a claim).
    fn skip_empty(&mut self) {
        while self.ordered && self.current < self.events.len() && self.events[self.current].full() {
            self.current += 1;
        }
    }

    /// Whether every event has all it needs.
    pub(crate) fn done(&self) -> bool {
        if self.ordered {
            self.current >= self.events.len()
        } else {
            self.events.iter().all(Event::full)
        }
    }

    /// Whether the step may end now that its deadline passed (or the connection ended):
    /// every remaining event has its `min` (a trailing range waits for `max` or the deadline).
    pub(crate) fn done_at_deadline(&self) -> bool {
        if self.ordered {
            self.events[self.current.min(self.events.len())..]
                .iter()
                .all(|e| e.satisfied() && e.until.is_none())
        } else {
            self.events.iter().all(Event::satisfied)
        }
    }

    /// Offers a visible message; `handle` (its inbox index) is kept for captures.
    pub(crate) fn offer(&mut self, v: &Value, handle: usize) -> Verdict {
        if !self.ordered {
            return match self
                .events
                .iter()
                .position(|e| !e.full() && e.pattern.matches(v))
            {
                Some(k) => {
                    self.events[k].claimed.push(handle);
                    Verdict::Claimed(k)
                }
                None => Verdict::Unexpected { later: None },
            };
        }
        loop {
            let k = self.current;
            let Some(e) = self.events.get(k) else {
                return Verdict::Unexpected { later: None };
            };
            if let Some(u) = &e.until
                && u.matches(v)
            {
                if !e.satisfied() {
                    return Verdict::UntilTooEarly(Box::new(
                        Failure::new(format!(
                            "event {} of the sequence ended early: its `until` arrived after {} of {} messages matching {}",
                            k + 1,
                            e.claimed.len(),
                            e.expected_count(),
                            e.pattern.raw()
                        ))
                        .expected(format!("{} messages matching {}, then {}", e.expected_count(), e.pattern.raw(), u.raw())),
                    ));
                }
                // The `until` message ends this event and is offered to the next one.
                self.current += 1;
                if self.current >= self.events.len() {
                    return Verdict::EndsEvent;
                }
                continue;
            }
            if !e.full() && e.pattern.matches(v) {
                self.events[k].claimed.push(handle);
                if self.events[k].full() {
                    self.current += 1;
                    self.skip_empty();
                }
                return Verdict::Claimed(k);
            }
            // A range that has its `min` gives way to the next event.
            if e.satisfied()
                && e.until.is_none()
                && self
                    .events
                    .get(k + 1)
                    .is_some_and(|next| next.pattern.matches(v))
            {
                self.current += 1;
                continue;
            }
            let later = (k + 1..self.events.len()).find(|j| self.events[*j].pattern.matches(v));
            return Verdict::Unexpected { later };
        }
    }

    /// The patterns a passed-over message is compared with for "nearest".
    pub(crate) fn open_patterns(&self) -> Vec<&Pattern> {
        if self.ordered {
            self.events
                .get(self.current)
                .map(|e| vec![&e.pattern])
                .unwrap_or_default()
        } else {
            self.events
                .iter()
                .filter(|e| !e.full())
                .map(|e| &e.pattern)
                .collect()
        }
    }

    /// `event 2 of the sequence`, with the count so far for a repeated event.
    pub(crate) fn current_name(&self) -> String {
        match self.events.get(self.current) {
            Some(e) if e.repeats => format!(
                "event {} of the sequence ({} of {} messages matching {})",
                self.current + 1,
                e.claimed.len(),
                e.expected_count(),
                e.pattern.raw()
            ),
            _ => format!("event {} of the sequence", self.current + 1),
        }
    }

    /// The current event's pattern, for reports.
    pub(crate) fn current_pattern(&self) -> String {
        self.events
            .get(self.current)
            .map(|e| e.pattern.raw().to_string())
            .unwrap_or_default()
    }

    /// What the step is waiting for: `event 2 of 5 ({...})`, or the open unordered events.
    pub(crate) fn waiting(&self) -> String {
        let n = self.events.len();
        if self.ordered {
            let Some(e) = self.events.get(self.current) else {
                return "nothing more".into();
            };
            if e.repeats {
                format!(
                    "event {} of {n} ({} of {} messages matching {})",
                    self.current + 1,
                    e.claimed.len(),
                    e.expected_count(),
                    e.pattern.raw()
                )
            } else {
                format!("event {} of {n} ({})", self.current + 1, e.pattern.raw())
            }
        } else {
            let open: Vec<String> = self
                .events
                .iter()
                .filter(|e| !e.full())
                .map(|e| {
                    if e.repeats {
                        format!(
                            "{} ({} of {})",
                            e.pattern.raw(),
                            e.claimed.len(),
                            e.expected_count()
                        )
                    } else {
                        e.pattern.raw().to_string()
                    }
                })
                .collect();
            format!("{} unordered event(s): {}", open.len(), open.join(", "))
        }
    }

    /// The first line of a deadline failure (the caller adds ` within …`).
    pub(crate) fn shortfall(&self) -> String {
        if self.ordered
            && let Some(e) = self.events.get(self.current)
            && e.repeats
        {
            return format!(
                "only {} of {} messages matching {} (event {} of {}) arrived",
                e.claimed.len(),
                e.expected_count(),
                e.pattern.raw(),
                self.current + 1,
                self.events.len()
            );
        }
        format!("no message matched {}", self.waiting())
    }

    /// `2 of 5 events complete` and the counts of repeated events.
    pub(crate) fn tally(&self) -> String {
        let complete = self.events.iter().filter(|e| e.full()).count();
        let mut out = format!("{complete} of {} events complete", self.events.len());
        for (k, e) in self.events.iter().enumerate() {
            if e.repeats {
                out.push_str(&format!(
                    "; event {}: {} of {}",
                    k + 1,
                    e.claimed.len(),
                    e.expected_count()
                ));
            }
        }
        out
    }

    /// What captures read: one entry per event, the message (or the list of messages of a
    /// repeated event), read through `value_of` (inbox index → message).
    pub(crate) fn captured<'a>(&self, value_of: impl Fn(usize) -> &'a Value) -> Value {
        Value::Array(
            self.events
                .iter()
                .map(|e| {
                    if e.repeats {
                        Value::Array(e.claimed.iter().map(|h| value_of(*h).clone()).collect())
                    } else {
                        e.claimed
                            .first()
                            .map(|h| value_of(*h).clone())
                            .unwrap_or_default()
                    }
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn progress(events: Vec<EventPlan>, ordered: bool) -> Progress {
        Progress::new(&events, ordered, |p, _| {
            Pattern::compile(p).map_err(|e| Failure::new(e.message))
        })
        .expect("valid patterns")
    }

    fn repeat(pattern: Value, min: usize, max: Option<usize>, until: Option<Value>) -> EventPlan {
        EventPlan {
            pattern,
            min,
            max,
            until,
        }
    }

    #[test]
    fn a_sequence_claims_in_order_and_names_a_later_event() {
        let mut p = progress(
            vec![
                EventPlan::once(json!({"type": "a"})),
                EventPlan::once(json!({"type": "b"})),
            ],
            true,
        );
        assert!(matches!(
            p.offer(&json!({"type": "b"}), 0),
            Verdict::Unexpected { later: Some(1) }
        ));
        assert!(matches!(
            p.offer(&json!({"type": "x"}), 0),
            Verdict::Unexpected { later: None }
        ));
        assert!(matches!(
            p.offer(&json!({"type": "a"}), 0),
            Verdict::Claimed(0)
        ));
        assert!(!p.done());
        assert!(matches!(
            p.offer(&json!({"type": "b"}), 1),
            Verdict::Claimed(1)
        ));
        assert!(p.done());
        let msgs = [json!({"type": "a"}), json!({"type": "b"})];
        assert_eq!(
            p.captured(|h| &msgs[h]),
            json!([{"type": "a"}, {"type": "b"}])
        );
    }

    #[test]
    fn a_count_takes_exactly_n_and_the_shortfall_names_it() {
        let mut p = progress(
            vec![
                repeat(json!({"type": "next"}), 3, Some(3), None),
                EventPlan::once(json!({"type": "complete"})),
            ],
            true,
        );
        for _ in 0..2 {
            assert!(matches!(
                p.offer(&json!({"type": "next"}), 0),
                Verdict::Claimed(0)
            ));
        }
        assert_eq!(
            p.shortfall(),
            r#"only 2 of 3 messages matching {"type":"next"} (event 1 of 2) arrived"#
        );
        // `complete` before the third `next`: out of order.
        assert!(matches!(
            p.offer(&json!({"type": "complete"}), 0),
            Verdict::Unexpected { later: Some(1) }
        ));
        assert!(matches!(
            p.offer(&json!({"type": "next"}), 0),
            Verdict::Claimed(0)
        ));
        // A fourth `next` is not taken: the count is full.
        assert!(matches!(
            p.offer(&json!({"type": "next"}), 0),
            Verdict::Unexpected { later: None }
        ));
        assert!(matches!(
            p.offer(&json!({"type": "complete"}), 0),
            Verdict::Claimed(1)
        ));
        assert!(p.done());
        let msg = json!({"type": "next"});
        assert_eq!(p.captured(|_| &msg)[0].as_array().map(Vec::len), Some(3));
    }

    #[test]
    fn until_ends_an_event_and_leaves_its_message_for_the_next() {
        let mut p = progress(
            vec![
                repeat(
                    json!({"type": "next"}),
                    1,
                    None,
                    Some(json!({"type": "complete"})),
                ),
                EventPlan::once(json!({"type": "complete"})),
            ],
            true,
        );
        assert!(matches!(
            p.offer(&json!({"type": "complete"}), 0),
            Verdict::UntilTooEarly(_)
        ));
        assert!(matches!(
            p.offer(&json!({"type": "next"}), 0),
            Verdict::Claimed(0)
        ));
        assert!(matches!(
            p.offer(&json!({"type": "next"}), 0),
            Verdict::Claimed(0)
        ));
        assert!(matches!(
            p.offer(&json!({"type": "complete"}), 0),
            Verdict::Claimed(1)
        ));
        assert!(p.done());
    }

    #[test]
    fn a_range_gives_way_to_the_next_event_once_it_has_its_min() {
        let mut p = progress(
            vec![
                repeat(json!({"type": "tick"}), 1, Some(5), None),
                EventPlan::once(json!({"type": "end"})),
            ],
            true,
        );
        assert!(matches!(
            p.offer(&json!({"type": "end"}), 0),
            Verdict::Unexpected { later: Some(1) }
        ));
        assert!(matches!(
            p.offer(&json!({"type": "tick"}), 0),
            Verdict::Claimed(0)
        ));
        assert!(matches!(
            p.offer(&json!({"type": "end"}), 0),
            Verdict::Claimed(1)
        ));
        assert!(p.done());
    }

    #[test]
    fn unordered_events_take_messages_in_any_order_with_counts() {
        let mut p = progress(
            vec![
                repeat(json!({"id": 1}), 2, Some(2), None),
                EventPlan::once(json!({"id": 2})),
            ],
            false,
        );
        assert!(matches!(p.offer(&json!({"id": 2}), 0), Verdict::Claimed(1)));
        assert!(matches!(
            p.offer(&json!({"id": 2}), 0),
            Verdict::Unexpected { later: None }
        ));
        assert!(matches!(p.offer(&json!({"id": 1}), 0), Verdict::Claimed(0)));
        assert!(!p.done());
        assert!(p.tally().contains("event 1: 1 of 2"), "{}", p.tally());
        assert!(matches!(p.offer(&json!({"id": 1}), 0), Verdict::Claimed(0)));
        assert!(p.done());
    }

    #[test]
    fn a_trailing_range_is_done_at_the_deadline_once_it_has_its_min() {
        let mut p = progress(vec![repeat(json!({"t": 1}), 2, Some(10), None)], true);
        assert!(!p.done_at_deadline());
        p.offer(&json!({"t": 1}), 0);
        p.offer(&json!({"t": 1}), 0);
        assert!(!p.done());
        assert!(p.done_at_deadline());
    }
}
