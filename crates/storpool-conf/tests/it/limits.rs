//! Files that are not configuration files (FIFOs, devices, huge files) are refused, promptly,
//! and errors never echo a huge value (issue 13, defect 19).

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use storpool_conf::{ConfError, Loader};

use crate::Etc;

/// How long a load may take before the test calls it hung.
const DEADLINE: Duration = Duration::from_secs(10);

/// Loads on another thread, so that a load that blocks fails the test instead of hanging it;
/// `unblock` is called before failing (to let the blocked thread go).
fn load_within_deadline(loader: Loader, unblock: impl FnOnce()) -> Result<(), ConfError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(loader.load().map(|_| ()));
    });
    rx.recv_timeout(DEADLINE).unwrap_or_else(|_| {
        unblock();
        panic!("loading did not finish within {DEADLINE:?}");
    })
}

fn mkfifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

/// Opens the FIFO for writing and closes it, so that a reader waiting on it sees its end.
fn release(path: &Path) {
    let _ = std::fs::OpenOptions::new().write(true).open(path);
}

#[test]
fn a_fifo_as_the_main_file_or_a_drop_in_is_refused_without_waiting() {
    let etc = Etc::new();
    mkfifo(&etc.main());
    let main = etc.main();
    let err = load_within_deadline(etc.loader(), || release(&main)).unwrap_err();
    assert!(
        matches!(&err, ConfError::NotAFile { path, .. } if *path == main),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("{} is not a regular file but a FIFO", main.display())
    );

    let etc = Etc::new();
    etc.write_main("A=1\n").write_drop_in("a.conf", "B=2\n");
    let fifo = etc.path().join("storpool.conf.d/b.conf");
    mkfifo(&fifo);
    let err = load_within_deadline(etc.loader(), || release(&fifo)).unwrap_err();
    assert!(
        matches!(&err, ConfError::NotAFile { path, .. } if *path == fifo),
        "{err:?}"
    );
}

#[test]
fn devices_and_folders_are_refused() {
    let err = Loader::new("/dev/null").use_env(false).load().unwrap_err();
    assert_eq!(
        err.to_string(),
        "/dev/null is not a regular file but a character device"
    );

    // /dev/zero would read until memory runs out.
    let etc = Etc::new();
    etc.write_main("A=1\n").write_drop_in("a.conf", "B=2\n");
    let zero = etc.path().join("storpool.conf.d/zero.conf");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let err = load_within_deadline(etc.loader(), || {}).unwrap_err();
    assert!(
        matches!(&err, ConfError::NotAFile { path, kind: "a character device" } if *path == zero),
        "{err:?}"
    );

    let etc = Etc::new();
    std::fs::create_dir(etc.main()).unwrap();
    let err = etc.loader().load().unwrap_err();
    assert!(
        matches!(
            &err,
            ConfError::NotAFile {
                kind: "a folder",
                ..
            }
        ),
        "{err:?}"
    );
}

/// `A=1` and comment lines: a valid file of exactly `size` bytes.
fn file_of(size: usize) -> String {
    let line = "# a comment line of the usual kind, repeated to fill the file up\n";
    let mut text = String::from("A=1\n");
    while text.len() + line.len() < size {
        text.push_str(line);
    }
    text.push_str(&"#".repeat(size - text.len() - 1));
    text.push('\n');
    assert_eq!(text.len(), size);
    text
}

#[test]
fn a_file_larger_than_the_limit_is_refused_and_one_at_the_limit_is_read() {
    let limit = usize::try_from(storpool_conf::MAX_FILE_SIZE).unwrap();
    let etc = Etc::new();
    etc.write_main(&file_of(limit));
    assert_eq!(etc.loader().load().unwrap().get("A"), Some("1"));

    let etc = Etc::new();
    etc.write_main(&file_of(limit + 1));
    let err = etc.loader().load().unwrap_err();
    assert!(
        matches!(&err, ConfError::TooLarge { path, limit: l } if *path == etc.main() && *l == storpool_conf::MAX_FILE_SIZE),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{} is larger than 1048576 bytes, the limit for a configuration file",
            etc.main().display()
        )
    );
}

#[test]
fn a_huge_value_is_cut_when_an_error_shows_it() {
    // A 200,000-line continuation: far too long to repeat in one error line.
    let etc = Etc::new();
    let mut text = String::from("SP_OURID=1\\\n");
    text.push_str(&"2\\\n".repeat(200_000));
    text.push_str("3\n");
    etc.write_main(&text);
    let config = etc.loader().load().unwrap();
    let err = config.our_id().unwrap_err();
    let shown = err.to_string();
    assert!(shown.len() < 300, "{} bytes: {shown:.300}", shown.len());
    assert!(
        shown.starts_with(&format!(
            "invalid SP_OURID value `1{}...` (200002 characters)",
            "2".repeat(79)
        )),
        "{shown}"
    );
    assert!(shown.ends_with("an integer client id 1..4095"), "{shown}");

    // A huge variable name in a syntax error is cut too.
    let etc = Etc::new();
    etc.write_main(&"N".repeat(100_000));
    let shown = etc.loader().load().unwrap_err().to_string();
    assert!(shown.len() < 300, "{} bytes: {shown:.300}", shown.len());
}
