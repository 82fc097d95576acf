//! The command line every bench target understands.

use std::path::PathBuf;

/// What a bench target was asked to do.
#[derive(Clone, Debug, Default)]
pub struct BenchArgs {
    /// Full sizes and repetitions: `--bench` (what `cargo bench` passes) without `--quick`.
    pub full: bool,
    /// `--json FILE`: append every row to FILE as a JSON line.
    pub json: Option<PathBuf>,
    /// `--sim NAME=URL` (repeatable): running simulators to measure against.
    pub sims: Vec<(String, String)>,
    /// `--token T`: the token of those simulators.
    pub token: Option<String>,
    /// `--child ARGS...`: the target was started by itself to measure something in a fresh
    /// process; everything after `--child`.
    pub child: Option<Vec<String>>,
    /// Anything else, in order (target-specific modes).
    pub rest: Vec<String>,
}

impl BenchArgs {
    /// Parses the process arguments.
    pub fn from_env() -> Self {
        Self::parse(std::env::args().skip(1))
    }

    /// Parses arguments (without the program name).
    ///
    /// # Panics
    /// On a malformed option: a benchmark has no better way to say so.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Self {
        let mut out = Self::default();
        let (mut bench, mut quick) = (false, false);
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .unwrap_or_else(|| panic!("{name} needs a value"))
            };
            match arg.as_str() {
                "--bench" => bench = true,
                "--quick" => quick = true,
                "--json" => out.json = Some(PathBuf::from(value("--json"))),
                "--token" => out.token = Some(value("--token")),
                "--sim" => {
                    let spec = value("--sim");
                    let (name, url) = spec
                        .split_once('=')
                        .unwrap_or_else(|| panic!("--sim wants NAME=URL, got `{spec}`"));
                    out.sims.push((name.to_owned(), url.to_owned()));
                }
                "--child" => {
                    out.child = Some(args.by_ref().collect());
                    break;
                }
                _ => out.rest.push(arg),
            }
        }
        out.full = bench && !quick;
        out
    }

    /// `full` in a full run, `quick` otherwise.
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        if self.full { full } else { quick }
    }

    /// The URL given with `--sim NAME=URL`, with the token.
    ///
    /// # Panics
    /// When the simulator is given without `--token`.
    pub fn sim(&self, name: &str) -> Option<(String, String)> {
        let url = self
            .sims
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, u)| u.clone())?;
        let token = self
            .token
            .clone()
            .unwrap_or_else(|| panic!("--sim {name}=... needs --token"));
        Some((url, token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> BenchArgs {
        BenchArgs::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn cargo_bench_means_full_unless_quick() {
        assert!(parse(&["--bench"]).full);
        assert!(!parse(&["--bench", "--quick"]).full);
        assert!(!parse(&[]).full);
    }

    #[test]
    fn simulators_options_and_child_arguments() {
        let a = parse(&[
            "--sim",
            "close=http://127.0.0.1:1",
            "--token",
            "7",
            "--json",
            "/tmp/x",
            "seed",
            "--child",
            "peak",
            "--json",
        ]);
        assert_eq!(
            a.sim("close"),
            Some(("http://127.0.0.1:1".to_owned(), "7".to_owned()))
        );
        assert_eq!(a.sim("keep-alive"), None);
        assert_eq!(a.json, Some(PathBuf::from("/tmp/x")));
        assert_eq!(a.rest, ["seed"]);
        assert_eq!(a.child.unwrap(), ["peak", "--json"]);
    }
}
