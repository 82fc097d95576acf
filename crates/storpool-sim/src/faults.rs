//! Seeded, deterministic fault injection.

use std::time::Duration;

use crate::error::{ApiErr, names};

/// Faults the server injects, decided per request by a pseudo-random generator seeded with
/// `seed` (the same seed and the same request order give the same faults).
///
/// Faults are decided before a call runs. Every fault but a lost answer happens before the call
/// has any effect; a lost answer happens after it took effect (the case only idempotent callers
/// get right).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Seed of the generator.
    pub seed: u64,
    /// Fraction (0..=1) of API requests answered with a transient error
    /// (`busy`, `transient: true`).
    pub error_rate: f64,
    /// Added before every API answer.
    pub latency: Duration,
    /// Fraction (0..=1) of API requests whose connection is closed without an answer.
    pub drop_rate: f64,
    /// Fraction (0..=1) of API requests that stall: nothing is answered for [`Faults::stall`],
    /// then the connection is closed.
    pub stall_rate: f64,
    /// How long a stalled request hangs.
    pub stall: Duration,
    /// Fraction (0..=1) of API requests that take effect but whose answer is lost: the
    /// connection is closed after the change is made.
    pub lost_answer_rate: f64,
    /// Scripted errors, used before the random ones; each applies to its next `times` matching
    /// calls.
    pub errors: Vec<InjectedError>,
}

/// A scripted error: the next `times` calls (of `call`, or of any call) fail with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InjectedError {
    /// Call name (`VolumeCreate`); `None` matches every call.
    pub call: Option<String>,
    /// How many calls fail.
    pub times: u32,
    /// Error name.
    pub name: String,
    /// Error description.
    pub descr: String,
    /// The `transient` flag.
    pub transient: bool,
    /// HTTP status of the answer.
    pub status: u16,
}

impl InjectedError {
    /// A transient `busy` error (status 500) for the next `times` calls of `call`.
    pub fn transient(call: Option<&str>, times: u32) -> Self {
        Self {
            call: call.map(str::to_owned),
            times,
            name: names::BUSY.to_owned(),
            descr: "injected transient fault".to_owned(),
            transient: true,
            status: 500,
        }
    }
}

/// What to do with one request.
#[derive(Debug, PartialEq)]
pub(crate) enum Action {
    Proceed,
    Fail(ApiErr),
    Drop,
    Stall(Duration),
    /// Run the call, then close the connection without answering.
    LoseAnswer,
}

/// The fault settings with their generator.
pub(crate) struct FaultState {
    pub(crate) faults: Faults,
    rng: u64,
}

impl FaultState {
    pub(crate) fn new(faults: Faults) -> Self {
        let rng = faults.seed;
        Self { faults, rng }
    }

    pub(crate) fn set(&mut self, faults: Faults) {
        self.rng = faults.seed;
        self.faults = faults;
    }

    /// splitmix64, as a fraction in [0, 1).
    fn next(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        #[allow(clippy::cast_precision_loss)]
        let f = (z >> 11) as f64 / (1u64 << 53) as f64;
        f
    }

    /// Decide the fate of a request for `call`.
    pub(crate) fn decide(&mut self, call: &str) -> Action {
        if let Some(e) = self
            .faults
            .errors
            .iter_mut()
            .find(|e| e.times > 0 && e.call.as_deref().is_none_or(|c| c == call))
        {
            e.times -= 1;
            let mut err = ApiErr::new(&e.name, e.descr.clone()).with_status(e.status);
            err.transient = e.transient;
            return Action::Fail(err);
        }
        let f = &self.faults;
        let (drop_rate, stall_rate, error_rate, stall) =
            (f.drop_rate, f.stall_rate, f.error_rate, f.stall);
        if drop_rate > 0.0 && self.next() < drop_rate {
            return Action::Drop;
        }
        if stall_rate > 0.0 && self.next() < stall_rate {
            return Action::Stall(stall);
        }
        if error_rate > 0.0 && self.next() < error_rate {
            return Action::Fail(
                ApiErr::new(names::BUSY, "injected transient fault: the cluster is busy")
                    .transient(),
            );
        }
        let lost_answer_rate = self.faults.lost_answer_rate;
        if lost_answer_rate > 0.0 && self.next() < lost_answer_rate {
            return Action::LoseAnswer;
        }
        Action::Proceed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let f = Faults {
            seed: 42,
            error_rate: 0.3,
            drop_rate: 0.1,
            ..Faults::default()
        };
        let run = || {
            let mut s = FaultState::new(f.clone());
            (0..200)
                .map(|_| format!("{:?}", s.decide("X")))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let errors = a.iter().filter(|x| x.starts_with("Fail")).count();
        assert!(
            (20..=100).contains(&errors),
            "{errors} errors of 200 at rate 0.3"
        );
    }

    #[test]
    fn scripted_errors_apply_to_their_call_only_and_run_out() {
        let mut s = FaultState::new(Faults {
            errors: vec![InjectedError::transient(Some("VolumeCreate"), 2)],
            ..Faults::default()
        });
        assert_eq!(s.decide("VolumesList"), Action::Proceed);
        assert!(matches!(s.decide("VolumeCreate"), Action::Fail(e) if e.transient));
        assert!(matches!(s.decide("VolumeCreate"), Action::Fail(_)));
        assert_eq!(s.decide("VolumeCreate"), Action::Proceed);
    }
}
