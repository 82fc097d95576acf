//! Scenario tests against the in-process simulator (added in the next commit).
