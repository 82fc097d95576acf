//! The API secret, in a type that never shows it.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// The StorPool API token (`SP_AUTH_TOKEN`).
///
/// `Debug` and `Display` print `<redacted>`; the value is only reachable through
/// [`AuthToken::expose`], which the API client calls when it builds the `Authorization` header.
/// The memory holding it is wiped when the last copy is dropped.
#[derive(Clone)]
pub struct AuthToken(SecretString);

impl AuthToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }

    /// The token itself. Call this only where the value must leave the process (the HTTP header).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether the token is the empty string.
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl From<String> for AuthToken {
    fn from(token: String) -> Self {
        Self::new(token)
    }
}

impl From<&str> for AuthToken {
    fn from(token: &str) -> Self {
        Self::new(token)
    }
}

impl PartialEq for AuthToken {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for AuthToken {}

impl fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthToken(<redacted>)")
    }
}

impl fmt::Display for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::AuthToken;

    #[test]
    fn debug_and_display_never_show_the_token() {
        let token = AuthToken::new("1556129910218014736");
        assert_eq!(format!("{token:?}"), "AuthToken(<redacted>)");
        assert_eq!(token.to_string(), "<redacted>");
        assert_eq!(
            format!("{:?}", Some(token.clone())),
            "Some(AuthToken(<redacted>))"
        );
        assert_eq!(token.expose(), "1556129910218014736");
    }
}
