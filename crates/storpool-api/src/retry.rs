//! Which faults are retried, and how long the client waits between attempts.

use std::time::Duration;

/// How transient faults are retried.
///
/// Retried: a server error with `transient: true`, a refused or reset connection, and an HTTP
/// protocol error (the connection closed before a complete answer, or an answer that is not
/// HTTP). Everything else returns at once: timeouts (the server may still act on the request),
/// decode errors, non-transient API errors, invalid arguments. The request body is encoded once
/// and the same bytes are sent on every attempt.
///
/// Like the official clients, POST calls are retried too, on the assumption that a failed
/// attempt had no effect; a caller that needs exactly-once creation should treat
/// `objectExists` after a retried create as "maybe mine" and check.
///
/// The wait before retry `n` (0-based) is `base_delay * 2^n`, capped at `max_delay`: with the
/// defaults 1, 2, 4, 8, 16 s, as the official clients do. With a `deadline`, no retry starts
/// (and no attempt runs) past `deadline` after the first attempt began: the last error is
/// returned instead, and an attempt's timeout is cut to what is left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How many times a failed request is sent again (the official clients: 5).
    pub retries: u32,
    /// The wait before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// The longest time from the first attempt to the last answer, when set.
    pub deadline: Option<Duration>,
}

impl Default for RetryPolicy {
    /// Five retries after 1, 2, 4, 8 and 16 s, no overall deadline (the official clients).
    fn default() -> Self {
        Self {
            retries: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(16),
            deadline: None,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            retries: 0,
            ..Self::default()
        }
    }

    /// Retry `retries` times without waiting (for tests against a local server).
    pub fn immediate(retries: u32) -> Self {
        Self {
            retries,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            deadline: None,
        }
    }

    /// The same policy with an overall deadline.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The wait before retry `retry` (0 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_delays_match_the_official_clients() {
        let policy = RetryPolicy::default();
        let delays: Vec<u64> = (0..5).map(|n| policy.delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16]);
        assert_eq!(policy.retries, 5);
        assert_eq!(policy.deadline, None);
    }

    #[test]
    fn delays_are_capped_and_never_overflow() {
        let policy = RetryPolicy {
            retries: 100,
            base_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(5),
            deadline: None,
        };
        assert_eq!(policy.delay(0), Duration::from_millis(300));
        assert_eq!(policy.delay(3), Duration::from_millis(2400));
        assert_eq!(policy.delay(4), Duration::from_millis(4800));
        assert_eq!(policy.delay(5), Duration::from_secs(5));
        assert_eq!(policy.delay(64), Duration::from_secs(5));
        assert_eq!(RetryPolicy::immediate(3).delay(10), Duration::ZERO);
        assert_eq!(RetryPolicy::none().retries, 0);
    }
}
