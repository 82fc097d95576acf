//! How detaches retry devices that are still open.

use std::time::Duration;

/// What to do when the cluster refuses a detach because the device is open on this node
/// (`busy`, or `invalidParam` on older servers, with `is open at`).
///
/// The detach is sent up to `1 + retries` times, `delay` apart; with `force_last` the last
/// attempt sets `force: true`, which detaches even an open device (and is logged as a
/// warning). The default is os-brick's: 10 retries 0.2 s apart, the last one forced, so 11
/// attempts at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DetachRetry {
    /// How many times a refused detach is sent again.
    pub retries: u32,
    /// The wait before each retry.
    pub delay: Duration,
    /// Whether the last attempt forces the detach.
    pub force_last: bool,
}

impl Default for DetachRetry {
    /// 10 retries, 200 ms apart, the last one forced (os-brick).
    fn default() -> Self {
        Self {
            retries: 10,
            delay: Duration::from_millis(200),
            force_last: true,
        }
    }
}

impl DetachRetry {
    /// One attempt, never forced: an open device fails the detach at once.
    pub fn none() -> Self {
        Self {
            retries: 0,
            delay: Duration::ZERO,
            force_last: false,
        }
    }

    /// How many times the detach is sent at most.
    pub fn max_attempts(&self) -> u32 {
        self.retries.saturating_add(1)
    }
}

/// Options of one detach.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetachOptions {
    /// Force from the first attempt: detach even if the device is open here (what the
    /// process holding it sees next is I/O errors). Logged as a warning.
    pub force: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_os_bricks_policy() {
        let policy = DetachRetry::default();
        assert_eq!(policy.max_attempts(), 11);
        assert_eq!(policy.delay, Duration::from_millis(200));
        assert!(policy.force_last);
        assert_eq!(DetachRetry::none().max_attempts(), 1);
        assert!(!DetachRetry::none().force_last);
    }
}
