//! The one error type of this crate, and the StorPool error names a caller branches on.

use std::fmt;
use std::time::Duration;

use crate::transport::TransportError;

/// The error names (`error.name`) the StorPool API is known to return.
///
/// The server may send names not listed here; [`ServerError::name`] keeps whatever it sent.
pub mod error_name {
    /// The named volume, snapshot, template or other object does not exist.
    pub const OBJECT_DOES_NOT_EXIST: &str = "objectDoesNotExist";
    /// An object with that name already exists.
    pub const OBJECT_EXISTS: &str = "objectExists";
    /// Invalid or unacceptable parameters (also: unknown client, no free attachment slot, and on
    /// older servers a detach of a device that is open).
    pub const INVALID_PARAM: &str = "invalidParam";
    /// The object is in use (attached, open on a client).
    pub const BUSY: &str = "busy";
    /// Not enough space or disks to place the data.
    pub const INSUFFICIENT_RESOURCES: &str = "insufficientResources";
    /// `KV/Set` with a `runIfVersionIs` that does not match the bucket's version.
    pub const RUN_IF_VERSION_IS_MISMATCH: &str = "runIfVersionIsMismatch";
    /// Placeholder used by this client (like the official ones) when an error has no name.
    pub const MISSING_NAME: &str = "<Missing error name>";
    /// Placeholder used by this client when an error has no description.
    pub const MISSING_DESCRIPTION: &str = "<Missing error description>";

    /// Every name above that a server sends (the placeholders excluded).
    pub const KNOWN: &[&str] = &[
        OBJECT_DOES_NOT_EXIST,
        OBJECT_EXISTS,
        INVALID_PARAM,
        BUSY,
        INSUFFICIENT_RESOURCES,
        RUN_IF_VERSION_IS_MISMATCH,
    ];

    /// Text of a `busy` or `invalidParam` description when a device is open on a client.
    pub const DESCR_IS_OPEN_AT: &str = "is open at";
    /// Text of an `invalidParam` description when a client id is not registered.
    pub const DESCR_NO_SUCH_CLIENT: &str = "No such client registered";
}

/// An error answer of the StorPool API: the HTTP status plus the `error` member of the body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerError {
    /// The call that failed, as `METHOD /ctrl/1.0/PATH`.
    pub call: String,
    /// The HTTP status code (StorPool does not document which status goes with which name;
    /// classify by [`ServerError::name`]).
    pub status: u16,
    /// The machine-readable error class, e.g. `objectDoesNotExist` (see [`error_name`]).
    pub name: String,
    /// The human-readable description.
    pub descr: String,
    /// Whether the server said the request may succeed if retried later.
    pub transient: bool,
    /// How many times the request was sent (more than one when transient errors were retried).
    pub attempts: u32,
    /// Time from the first attempt to this answer.
    pub elapsed: Duration,
}

impl ServerError {
    /// Whether the error name is `name`.
    pub fn is(&self, name: &str) -> bool {
        self.name == name
    }

    /// `objectDoesNotExist`.
    pub fn is_object_not_found(&self) -> bool {
        self.is(error_name::OBJECT_DOES_NOT_EXIST)
    }

    /// `objectExists`.
    pub fn is_object_exists(&self) -> bool {
        self.is(error_name::OBJECT_EXISTS)
    }

    /// `busy`.
    pub fn is_busy(&self) -> bool {
        self.is(error_name::BUSY)
    }

    /// `invalidParam`.
    pub fn is_invalid_param(&self) -> bool {
        self.is(error_name::INVALID_PARAM)
    }

    /// `insufficientResources`.
    pub fn is_insufficient_resources(&self) -> bool {
        self.is(error_name::INSUFFICIENT_RESOURCES)
    }

    /// A detach refused because the device is open on a client: `busy`, or `invalidParam` on
    /// older servers, with a description containing `is open at`.
    pub fn is_open_at(&self) -> bool {
        (self.is_busy() || self.is_invalid_param())
            && self.descr.contains(error_name::DESCR_IS_OPEN_AT)
    }

    /// `invalidParam` because the client id is not registered (`No such client registered`).
    pub fn is_no_such_client(&self) -> bool {
        self.is_invalid_param() && self.descr.contains(error_name::DESCR_NO_SUCH_CLIENT)
    }

    /// Whether the server marked the error transient (the request may succeed later).
    pub fn is_transient(&self) -> bool {
        self.transient
    }

    /// Whether the name is one of [`error_name::KNOWN`].
    pub fn is_known(&self) -> bool {
        error_name::KNOWN.contains(&self.name.as_str())
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "StorPool API call `{}` failed with HTTP {} `{}`: {}{}",
            self.call,
            self.status,
            self.name,
            self.descr,
            Retried(self.attempts, self.elapsed)
        )?;
        if self.transient {
            f.write_str(" (transient)")?;
        }
        Ok(())
    }
}

/// Formats " (after N attempts in X s)" when a call was sent more than once.
struct Retried(u32, Duration);

impl fmt::Display for Retried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 > 1 {
            write!(
                f,
                " (after {} attempts in {:.1} s)",
                self.0,
                self.1.as_secs_f64()
            )
        } else {
            Ok(())
        }
    }
}

/// Everything that can go wrong while talking to the StorPool API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The API answered with an error (HTTP status other than 200, or an `error` member).
    #[error("{0}")]
    Server(Box<ServerError>),

    /// No HTTP response was received, or it broke off: connection refused or reset, the
    /// connection closed before an answer, DNS or TLS failure. Refused and reset connections
    /// and protocol errors were retried first as the retry policy allows
    /// ([`TransportError::is_connect`] and the other predicates tell them apart).
    #[error("StorPool API call `{call}` got no usable response{}", Retried(*attempts, *elapsed))]
    Transport {
        /// The call, as `METHOD /ctrl/1.0/PATH`.
        call: String,
        /// How many times the request was sent.
        attempts: u32,
        /// Time from the first attempt to the last failure.
        elapsed: Duration,
        /// What went wrong; its own source is the operating system's error, when there is
        /// one (e.g. `Connection refused`).
        #[source]
        source: TransportError,
    },

    /// An attempt took longer than the request timeout (or the rest of the retry deadline).
    /// Timeouts are not retried: the server may still be working on the request.
    #[error(
        "StorPool API call `{call}` timed out after {:.1} s{}",
        timeout.as_secs_f64(),
        Retried(*attempts, *elapsed)
    )]
    Timeout {
        /// The call, as `METHOD /ctrl/1.0/PATH`.
        call: String,
        /// The time limit of the last attempt.
        timeout: Duration,
        /// How many times the request was sent.
        attempts: u32,
        /// Time from the first attempt to the timeout.
        elapsed: Duration,
        /// The timeout, as the HTTP layer saw it ([`TransportError::is_timeout`] is true).
        #[source]
        source: TransportError,
    },

    /// The response body is not the JSON this call returns (for instance an HTML page from a
    /// proxy, or a member of the wrong type). Not retried.
    #[error(
        "could not decode the response to StorPool API call `{call}` (HTTP {status}, body `{excerpt}`)"
    )]
    Decode {
        /// The call, as `METHOD /ctrl/1.0/PATH`.
        call: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the body (at most a few hundred characters).
        excerpt: String,
        /// Where and why decoding failed.
        #[source]
        source: serde_json::Error,
    },

    /// A value given to the client breaks StorPool's rules; nothing was sent.
    #[error("invalid {field} `{value}`: {reason}")]
    InvalidArgument {
        /// What the value is (e.g. `volume name`, `size`, `tag name`).
        field: &'static str,
        /// The rejected value.
        value: String,
        /// The rule it breaks.
        reason: String,
    },

    /// [`crate::ClientBuilder::from_conf`] could not read the endpoint or the token.
    #[error("could not take the StorPool API settings from the configuration")]
    Config(#[source] storpool_conf::ConfError),

    /// The HTTP client could not be set up for an `https://` base URL (e.g. the TLS trust
    /// store could not be loaded).
    #[error("could not set up the HTTP client for the StorPool API")]
    HttpClient(#[source] TransportError),

    /// A call of the blocking client (feature `blocking`) could not run: it was made inside a
    /// Tokio runtime, or the client's runtime could not be started.
    #[cfg(feature = "blocking")]
    #[error("cannot run the blocking StorPool API client")]
    Blocking(#[source] crate::blocking::BlockingError),

    /// A request body could not be turned into JSON (a raw call with a non-string map key).
    #[error("could not encode the request body of StorPool API call `{call}`")]
    Encode {
        /// The call, as `METHOD /ctrl/1.0/PATH`.
        call: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
}

impl ApiError {
    /// An [`ApiError::InvalidArgument`].
    pub(crate) fn invalid(
        field: &'static str,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::InvalidArgument {
            field,
            value: value.into(),
            reason: reason.into(),
        }
    }

    /// The server's error, when the API answered with one.
    pub fn server(&self) -> Option<&ServerError> {
        match self {
            Self::Server(err) => Some(err),
            _ => None,
        }
    }

    /// The server's error name, when the API answered with an error.
    pub fn name(&self) -> Option<&str> {
        self.server().map(|err| err.name.as_str())
    }

    /// `objectDoesNotExist` from the server.
    pub fn is_object_not_found(&self) -> bool {
        self.server().is_some_and(ServerError::is_object_not_found)
    }

    /// `objectExists` from the server.
    pub fn is_object_exists(&self) -> bool {
        self.server().is_some_and(ServerError::is_object_exists)
    }

    /// `busy` from the server.
    pub fn is_busy(&self) -> bool {
        self.server().is_some_and(ServerError::is_busy)
    }

    /// `invalidParam` from the server.
    pub fn is_invalid_param(&self) -> bool {
        self.server().is_some_and(ServerError::is_invalid_param)
    }

    /// `insufficientResources` from the server.
    pub fn is_insufficient_resources(&self) -> bool {
        self.server()
            .is_some_and(ServerError::is_insufficient_resources)
    }

    /// A detach refused because the device is open on a client (see
    /// [`ServerError::is_open_at`]).
    pub fn is_open_at(&self) -> bool {
        self.server().is_some_and(ServerError::is_open_at)
    }

    /// An unknown client id (see [`ServerError::is_no_such_client`]).
    pub fn is_no_such_client(&self) -> bool {
        self.server().is_some_and(ServerError::is_no_such_client)
    }

    /// Whether this is a fault the client retries: a server error marked transient, a refused
    /// or reset connection, or an HTTP protocol error. When such an error is returned, the
    /// retries allowed by the policy have been used up.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Server(err) => err.transient,
            Self::Transport { source, .. } => source.retry_reason().is_some(),
            _ => false,
        }
    }

    /// An attempt timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// A value was rejected before anything was sent.
    pub fn is_invalid_argument(&self) -> bool {
        matches!(self, Self::InvalidArgument { .. })
    }

    /// How many times the request was sent (0 when it never was).
    pub fn attempts(&self) -> u32 {
        match self {
            Self::Server(err) => err.attempts,
            Self::Transport { attempts, .. } | Self::Timeout { attempts, .. } => *attempts,
            Self::Decode { .. } => 1,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(name: &str, descr: &str) -> ServerError {
        ServerError {
            call: "POST /ctrl/1.0/VolumesReassignWait".into(),
            status: 500,
            name: name.into(),
            descr: descr.into(),
            transient: false,
            attempts: 1,
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn open_at_matches_busy_and_invalid_param_with_the_text() {
        assert!(server("busy", "'v' is open at client 3").is_open_at());
        assert!(server("invalidParam", "'v' is open at client 3").is_open_at());
        assert!(!server("busy", "volume is attached").is_open_at());
        assert!(!server("objectExists", "'v' is open at client 3").is_open_at());
    }

    #[test]
    fn no_such_client_needs_invalid_param_and_the_text() {
        assert!(server("invalidParam", "No such client registered: 12").is_no_such_client());
        assert!(!server("busy", "No such client registered").is_no_such_client());
        assert!(!server("invalidParam", "no free slot").is_no_such_client());
    }

    #[test]
    fn display_is_one_lowercase_line_with_retries() {
        let mut err = server("busy", "it is busy");
        assert_eq!(
            ApiError::Server(Box::new(err.clone())).to_string(),
            "StorPool API call `POST /ctrl/1.0/VolumesReassignWait` failed with HTTP 500 `busy`: it is busy"
        );
        err.attempts = 6;
        err.elapsed = Duration::from_secs(31);
        err.transient = true;
        assert!(
            err.to_string()
                .ends_with("it is busy (after 6 attempts in 31.0 s) (transient)")
        );
        let invalid = ApiError::invalid("size", "1000", "must be a multiple of 512");
        assert_eq!(
            invalid.to_string(),
            "invalid size `1000`: must be a multiple of 512"
        );
        assert_eq!(invalid.attempts(), 0);
    }

    #[test]
    fn predicates_are_false_for_non_server_errors() {
        let err = ApiError::invalid("size", "0", "must be positive");
        assert!(!err.is_object_not_found());
        assert!(!err.is_transient());
        assert!(err.is_invalid_argument());
        assert_eq!(err.name(), None);
        let err = ApiError::Server(Box::new(server("objectDoesNotExist", "gone")));
        assert!(err.is_object_not_found());
        assert_eq!(err.name(), Some("objectDoesNotExist"));
        assert!(err.server().is_some_and(ServerError::is_known));
    }
}
