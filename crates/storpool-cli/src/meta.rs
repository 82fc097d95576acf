//! What every binary can tell about itself: its version with the commit, shell completions,
//! and man pages.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The git commit the tools were built from (see the crate's `build.rs`): the
/// `STORPOOL_RS_GIT_COMMIT` of the build environment, else `git rev-parse --short=12 HEAD` of
/// the checkout, else none (a source tarball).
pub const GIT_COMMIT: Option<&str> = option_env!("STORPOOL_RS_GIT_COMMIT");

/// `VERSION (commit COMMIT)`, or `VERSION` when the commit is not known.
pub fn version_text(version: &str) -> String {
    match GIT_COMMIT {
        Some(commit) => format!("{version} (commit {commit})"),
        None => version.to_owned(),
    }
}

/// `completions SHELL`: prints a completion script for the binary. The binary gives the
/// subcommand its examples ([`completions_examples!`](crate::completions_examples)).
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// The shells completions are made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// bash
    Bash,
    /// zsh
    Zsh,
    /// fish
    Fish,
}

/// `man [--dir DIR]`: prints the binary's man page, or writes one page per command into DIR.
/// The binary gives the subcommand its examples ([`man_examples!`](crate::man_examples)).
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct ManArgs {
    /// Write BIN.1 and a BIN-SUBCOMMAND.1 per subcommand into DIR (made if missing) instead of
    /// printing BIN.1
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The examples of `BIN completions` (a literal, for `#[command(after_help = ...)]`).
#[macro_export]
macro_rules! completions_examples {
    ($bin:literal) => {
        concat!(
            "Examples:\n  ",
            $bin,
            " completions bash > /etc/bash_completion.d/",
            $bin,
            "\n  ",
            $bin,
            " completions zsh > \"${fpath[1]}/_",
            $bin,
            "\"\n  ",
            $bin,
            " completions fish > ~/.config/fish/completions/",
            $bin,
            ".fish"
        )
    };
}

/// The examples of `BIN man` (a literal, for `#[command(after_help = ...)]`).
#[macro_export]
macro_rules! man_examples {
    ($bin:literal) => {
        concat!(
            "Examples:\n  ",
            $bin,
            " man | man -l -\n  ",
            $bin,
            " man --dir /usr/local/share/man/man1"
        )
    };
}

/// Writes the completion script of `command` (the binary's full parser) for `shell`.
pub fn write_completions(mut command: clap::Command, shell: Shell, out: &mut dyn Write) {
    let name = command.get_name().to_owned();
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(generator, &mut command, name, out);
}

/// Prints the completion script on stdout (a closed pipe is not an error).
pub fn print_completions(command: clap::Command, shell: Shell) -> io::Result<()> {
    let mut text = Vec::new();
    write_completions(command, shell, &mut text);
    crate::emit(&String::from_utf8_lossy(&text))
}

/// Prints the man page of `command` on stdout, or with `dir` writes one page per command
/// there and returns the files written.
pub fn man_pages(command: clap::Command, dir: Option<&Path>) -> anyhow::Result<Vec<PathBuf>> {
    let mut command = command;
    command.build();
    let Some(dir) = dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .context("cannot render the man page")?;
        crate::emit(&String::from_utf8_lossy(&page)).context("cannot write the man page")?;
        return Ok(Vec::new());
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    write_pages(&command, None, dir, &mut written)?;
    Ok(written)
}

fn write_pages(
    command: &clap::Command,
    parent: Option<&str>,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let name = match parent {
        Some(parent) => format!("{parent}-{}", command.get_name()),
        None => command.get_name().to_owned(),
    };
    let page = command.clone().name(name.clone());
    let path = dir.join(format!("{name}.1"));
    let mut text = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut text)
        .context("cannot render a man page")?;
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path);
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        write_pages(sub, Some(&name), dir, written)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command() -> clap::Command {
        clap::Command::new("tool")
            .version("1.0")
            .subcommand(clap::Command::new("run").about("Run it"))
    }

    #[test]
    fn completions_name_the_binary_in_every_shell() {
        for (shell, needle) in [
            (Shell::Bash, "complete -F _tool"),
            (Shell::Zsh, "#compdef tool"),
            (Shell::Fish, "complete -c tool"),
        ] {
            let mut out = Vec::new();
            write_completions(command(), shell, &mut out);
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains(needle), "{shell:?}: {text}");
            assert!(text.contains("run"), "{shell:?}: {text}");
        }
    }

    #[test]
    fn man_pages_are_written_per_command() {
        let tmp = tempfile::tempdir().unwrap();
        let written = man_pages(command(), Some(tmp.path())).unwrap();
        assert_eq!(
            written,
            [tmp.path().join("tool.1"), tmp.path().join("tool-run.1")]
        );
        let page = std::fs::read_to_string(&written[1]).unwrap();
        assert!(page.contains(".TH tool-run 1"), "{page}");
    }

    #[test]
    fn the_version_carries_the_commit_when_known() {
        let text = version_text("1.2.3");
        match GIT_COMMIT {
            Some(commit) => assert_eq!(text, format!("1.2.3 (commit {commit})")),
            None => assert_eq!(text, "1.2.3"),
        }
    }
}
