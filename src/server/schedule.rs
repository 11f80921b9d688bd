//! Owns one connection's timeline of pending `request` replies and subscription ticks: each
//! has a deadline (arrival + delay or interval + a seeded random jitter), and the session sends
//! whichever is due first, ties going to the earlier arrival. Replies therefore leave in
//! completion order, not send order, and concurrent streams interleave.
//!
//! Everything runs inside the session's own task (no task per request or stream), so the
//! per-connection limits ([`MAX_SUBSCRIPTIONS`], [`MAX_PENDING_REQUESTS`]) bound the work and
//! shutdown stops it with the session.
//!
//! Jitter: every accepted request or subscription gets its own random generator, seeded from
//! the connection's seed (`jitter_seed`, or a fresh random one) and its arrival number, so its
//! draws do not depend on how its neighbours were timed. With a seed, messages arriving within
//! [`BURST_WINDOW`] of the first message of a burst are timed from that first message: two
//! subscriptions sent together then share their start and their interleaving depends only on
//! the seed and the order of the messages, not on how many microseconds apart they were read.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::rpc::{self, Fault, MAX_PENDING_REQUESTS, MAX_SUBSCRIPTIONS, Subscribe, Topic, code};
use crate::server_options::ServerOptions;

/// With a seed: how long after a burst's first message later ones share its start time.
pub(super) const BURST_WINDOW: Duration = Duration::from_millis(50);

/// One connection's pending replies and streams.
pub(super) struct Schedule {
    seed: u64,
    jitter: Duration,
    /// `Some` when seeded: the start shared by the current burst.
    burst: Option<Option<Instant>>,
    /// Requests and subscriptions accepted so far: tie-break and generator seed.
    arrivals: u64,
    pending: Vec<Pending>,
}

struct Pending {
    due: Instant,
    arrival: u64,
    rng: SplitMix64,
    id: Value,
    kind: Kind,
}

enum Kind {
    Reply(Result<Value, Fault>),
    Stream {
        topic: Topic,
        count: u64,
        interval: Duration,
        sent: u64,
    },
}

impl Schedule {
    /// An empty schedule with the jitter settings of `options`.
    pub(super) fn new(options: &ServerOptions) -> Self {
        let seed = options
            .jitter_seed
            .unwrap_or_else(|| uuid::Uuid::new_v4().as_u64_pair().0);
        Self {
            seed,
            jitter: options.jitter,
            burst: options.jitter_seed.map(|_| None),
            arrivals: 0,
            pending: Vec::new(),
        }
    }

    /// The start time and random generator of a request or subscription arriving at `now`.
    fn arrive(&mut self, now: Instant) -> (Instant, u64, SplitMix64) {
        let start = match &mut self.burst {
            None => now,
            Some(Some(first)) if now.duration_since(*first) < BURST_WINDOW => *first,
            Some(burst) => *burst.insert(now),
        };
        let arrival = self.arrivals;
        self.arrivals += 1;
        let rng = SplitMix64(mix(self.seed ^ mix(arrival.wrapping_add(1))));
        (start, arrival, rng)
    }

    fn count(&self, streams: bool) -> usize {
        self.pending
            .iter()
            .filter(|p| matches!(p.kind, Kind::Stream { .. }) == streams)
            .count()
    }

    /// Schedules the reply `outcome` to request `id`, due after `delay` plus jitter.
    pub(super) fn add_reply(
        &mut self,
        now: Instant,
        id: Value,
        delay: Duration,
        outcome: Result<Value, Fault>,
    ) -> Result<(), Fault> {
        if self.count(false) >= MAX_PENDING_REQUESTS {
            return Err(Fault::new(
                code::LIMIT_EXCEEDED,
                format!("at most {MAX_PENDING_REQUESTS} requests may wait for a reply"),
            ));
        }
        let (start, arrival, mut rng) = self.arrive(now);
        let due = start + delay + rng.up_to(self.jitter);
        self.pending.push(Pending {
            due,
            arrival,
            rng,
            id,
            kind: Kind::Reply(outcome),
        });
        Ok(())
    }

    /// Starts streaming `sub`: its first tick is due after one interval plus jitter.
    pub(super) fn add_stream(&mut self, now: Instant, sub: Subscribe) -> Result<(), Fault> {
        if self.stream_index(&sub.id).is_some() {
            return Err(Fault::new(
                code::DUPLICATE_ID,
                "a subscription with this id is still streaming",
            ));
        }
        if self.count(true) >= MAX_SUBSCRIPTIONS {
            return Err(Fault::new(
                code::LIMIT_EXCEEDED,
                format!("at most {MAX_SUBSCRIPTIONS} subscriptions may stream at once"),
            ));
        }
        let (start, arrival, mut rng) = self.arrive(now);
        let due = start + sub.interval + rng.up_to(self.jitter);
        self.pending.push(Pending {
            due,
            arrival,
            rng,
            id: sub.id,
            kind: Kind::Stream {
                topic: sub.topic,
                count: sub.count,
                interval: sub.interval,
                sent: 0,
            },
        });
        Ok(())
    }

    fn stream_index(&self, id: &Value) -> Option<usize> {
        self.pending
            .iter()
            .position(|p| matches!(p.kind, Kind::Stream { .. }) && p.id == *id)
    }

    /// Stops the subscription `id`; false when none with that id is streaming.
    pub(super) fn cancel(&mut self, id: &Value) -> bool {
        match self.stream_index(id) {
            Some(i) => {
                self.pending.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// The earliest deadline, if anything is pending.
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.due).min()
    }

    /// The frames of the earliest pending item if it is due at `now` (a reply; a tick; a last
    /// tick and its end), advancing or removing it. Empty when nothing is due.
    pub(super) fn fire(&mut self, now: Instant) -> Vec<String> {
        let Some(i) = self
            .pending
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| (p.due, p.arrival))
            .map(|(i, _)| i)
        else {
            return Vec::new();
        };
        if self.pending[i].due > now {
            return Vec::new();
        }
        let jitter = self.jitter;
        let item = &mut self.pending[i];
        match &mut item.kind {
            Kind::Reply(outcome) => {
                let frame = match outcome {
                    Ok(result) => rpc::response(&item.id, result),
                    Err(fault) => rpc::error(&item.id, fault),
                };
                self.pending.swap_remove(i);
                vec![frame]
            }
            Kind::Stream {
                topic,
                count,
                interval,
                sent,
            } => {
                let topic = *topic;
                let mut frames = Vec::with_capacity(2);
                if *sent < *count {
                    *sent += 1;
                    frames.push(rpc::next(&item.id, topic, *sent));
                }
                if *sent == *count {
                    frames.push(rpc::end(&item.id, topic));
                    self.pending.swap_remove(i);
                } else {
                    item.due += *interval + item.rng.up_to(jitter);
                }
                frames
            }
        }
    }
}

/// SplitMix64's output function: a 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A small, seedable random generator (SplitMix64): reproducible draws, no dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A uniform duration in `[0, max]`, nanosecond resolution.
    fn up_to(&mut self, max: Duration) -> Duration {
        if max.is_zero() {
            return Duration::ZERO;
        }
        let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(self.next_u64() % nanos.saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(jitter_ms: u64, seed: Option<u64>) -> ServerOptions {
        ServerOptions {
            jitter: Duration::from_millis(jitter_ms),
            jitter_seed: seed,
            ..Default::default()
        }
    }

    fn sub(id: &str, count: u64, interval_ms: u64) -> Subscribe {
        Subscribe {
            id: json!(id),
            topic: Topic::Ticks,
            count,
            interval: Duration::from_millis(interval_ms),
        }
    }

    /// Ids of the frames in the order the schedule releases them, driving time by hand.
    fn drain(schedule: &mut Schedule) -> Vec<String> {
        let mut order = Vec::new();
        while let Some(due) = schedule.next_due() {
            for frame in schedule.fire(due) {
                let v: Value = serde_json::from_str(&frame).expect("json");
                order.push(format!("{}:{}", v["id"].as_str().unwrap_or("?"), v["type"]));
            }
            assert!(order.len() < 1000, "runaway schedule");
        }
        order
    }

    fn interleaving(seed: u64, gap: Duration) -> Vec<String> {
        let mut s = Schedule::new(&options(30, Some(seed)));
        let t0 = Instant::now();
        s.add_stream(t0, sub("a", 8, 10)).expect("a");
        s.add_stream(t0 + gap, sub("b", 8, 10)).expect("b");
        drain(&mut s)
    }

    #[test]
    fn replies_leave_in_deadline_order() {
        let mut s = Schedule::new(&options(0, None));
        let t0 = Instant::now();
        s.add_reply(t0, json!("slow"), Duration::from_millis(30), Ok(json!(1)))
            .expect("slow");
        s.add_reply(t0, json!("fast"), Duration::ZERO, Ok(json!(2)))
            .expect("fast");
        assert!(
            s.fire(t0 - Duration::from_millis(1)).is_empty(),
            "not due yet"
        );
        assert_eq!(drain(&mut s), ["fast:\"response\"", "slow:\"response\""]);
    }

    #[test]
    fn seeded_interleaving_ignores_small_arrival_gaps() {
        let a = interleaving(7, Duration::ZERO);
        assert_eq!(a.len(), 18);
        assert_eq!(a, interleaving(7, Duration::from_millis(3)));
        let distinct: std::collections::HashSet<_> = (0..8)
            .map(|seed| interleaving(seed, Duration::ZERO))
            .collect();
        assert!(distinct.len() >= 2, "every seed gave the same interleaving");
    }

    #[test]
    fn limits_cancel_and_duplicates() {
        let mut s = Schedule::new(&options(0, None));
        let now = Instant::now();
        for i in 0..MAX_SUBSCRIPTIONS {
            s.add_stream(now, sub(&format!("s{i}"), 5, 10))
                .expect("room");
        }
        assert_eq!(
            s.add_stream(now, sub("one-more", 1, 0)).map_err(|f| f.code),
            Err(code::LIMIT_EXCEEDED)
        );
        assert_eq!(
            s.add_stream(now, sub("s0", 1, 0)).map_err(|f| f.code),
            Err(code::DUPLICATE_ID)
        );
        assert!(s.cancel(&json!("s0")));
        assert!(!s.cancel(&json!("s0")));
        for i in 0..MAX_PENDING_REQUESTS {
            s.add_reply(now, json!(i), Duration::ZERO, Ok(Value::Null))
                .expect("room");
        }
        assert_eq!(
            s.add_reply(now, json!("x"), Duration::ZERO, Ok(Value::Null))
                .map_err(|f| f.code),
            Err(code::LIMIT_EXCEEDED)
        );
    }

    #[test]
    fn jitter_stays_in_bounds() {
        let mut rng = SplitMix64(1);
        let max = Duration::from_millis(5);
        assert!((0..1000).all(|_| rng.up_to(max) <= max));
        assert_eq!(rng.up_to(Duration::ZERO), Duration::ZERO);
    }
}
