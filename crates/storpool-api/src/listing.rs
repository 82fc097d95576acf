//! Listings (`VolumesList`, `SnapshotsList`, their `Space` calls, `AttachmentsList`): an
//! answer of several MiB is decoded on several threads.
//!
//! A listing's elements are independent, so the array is cut into parts of about 512 KiB, which
//! the calling thread and helper threads take in turn. A cut is guessed from the bytes (the
//! `{` after a `},`), which may be wrong (inside a string, say); it is trusted only when the
//! part before it, decoded by a real parser element by element, ends exactly there. Parts are
//! chained from the first element that way, and a cut that no part lands on is skipped over
//! (the part before it goes on to the next cut or to the end). The calling thread appends each
//! part to the result as soon as the parts before it are in, so little more memory is held
//! than on one thread. Anything unusual (an `error` member, a `data` member twice, a decode
//! error anywhere) gives up and decodes the whole answer again on one thread, so what is
//! accepted, and every error and its message, is what the one-thread path gives. One
//! difference: `serde_json`'s limit of 128 levels of nesting counts from each element instead
//! of from the answer.
//!
//! Measured on 2 cores, `VolumesList` of 100,000 volumes (49 MB): see `docs/benchmarks.md`
//! (issue 16, item 1).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};

use serde::de::{DeserializeOwned, IgnoredAny};

use crate::client::{Decoded, decode};

/// Answers shorter than this are decoded on one thread: threads pay off from a few MiB on
/// (a thread costs tens of microseconds; 4 MiB of volumes take about 6 ms to decode).
const PARALLEL_FROM: usize = 4 << 20;

/// The size of a part: small enough that the parts decoded ahead of their turn hold little
/// memory, big enough that handing them out costs nothing (about 1,000 volumes, 0.7 ms).
/// For 100,000 volumes, parts of 1 MiB raised the peak memory by 4 MiB more, of 256 KiB saved
/// no time.
const PART_BYTES: usize = 512 << 10;

/// Fewer bytes than any listed volume or snapshot takes (the names of their required members
/// alone take more): the capacity reserved per byte, so that vectors are not grown by doubling,
/// which copies them and faults their pages in twice. Unused capacity is address space only.
const BYTES_PER_ENTRY: usize = 300;

/// What a listing call's answer decodes to: the `data` member as a `Vec<T>`.
pub(crate) fn decode_listing<T: DeserializeOwned + Send>(
    status: u16,
    body: &[u8],
) -> Decoded<Vec<T>> {
    if status == 200
        && body.len() >= PARALLEL_FROM
        && let Some(items) = std::str::from_utf8(body)
            .ok()
            .and_then(|text| decode_in_parts(text, body.len() / PART_BYTES, threads()))
    {
        return Decoded::Data(items);
    }
    decode::<Vec<T>>(status, body)
}

/// How many threads may decode one answer: the cores this process may use, at most four.
/// Asked once: `available_parallelism` reads the cgroup's CPU quota from files.
fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(4)
    })
}

/// The `data` array of a successful answer decoded in up to `parts` parts on `threads`
/// threads, or `None` when the answer is anything but a plain success (see the module's
/// documentation).
pub(crate) fn decode_in_parts<T: DeserializeOwned + Send>(
    text: &str,
    parts: usize,
    threads: usize,
) -> Option<Vec<T>> {
    if parts < 2 || threads < 2 {
        return None;
    }
    let mut cursor = Cursor { text, pos: 0 };
    cursor.expect(b'{')?;
    // Members before `data`.
    let mut first = true;
    loop {
        if !first {
            cursor.expect(b',')?;
        }
        first = false;
        match cursor.key()?.as_str() {
            "data" => break,
            "error" => return None,
            _ => {
                cursor.value::<IgnoredAny>()?;
            }
        }
    }
    cursor.expect(b'[')?;
    cursor.skip_whitespace();
    let (items, end) = decode_elements(text, cursor.pos, parts, threads)?;
    cursor.pos = end;
    // Members after `data`.
    loop {
        if cursor.expect(b'}').is_some() {
            break;
        }
        cursor.expect(b',')?;
        match cursor.key()?.as_str() {
            "data" | "error" => return None,
            _ => {
                cursor.value::<IgnoredAny>()?;
            }
        }
    }
    cursor.skip_whitespace();
    (cursor.pos == text.len()).then_some(items)
}

/// Where a part stopped.
enum Stop {
    /// On the first element of the part with this index.
    At(usize),
    /// After the array's `]`, at this offset.
    Close(usize),
}

impl Stop {
    /// `At` counted among all parts instead of among those after the part's own.
    fn shifted(self, by: usize) -> Self {
        match self {
            Self::At(index) => Self::At(index + by),
            close @ Self::Close(_) => close,
        }
    }
}

/// The elements of the array whose first element (or `]`) is at `from`, and the offset after
/// its `]`.
fn decode_elements<T: DeserializeOwned + Send>(
    text: &str,
    from: usize,
    parts: usize,
    threads: usize,
) -> Option<(Vec<T>, usize)> {
    let starts = cuts(text.as_bytes(), from, parts);
    let board = Board {
        next: AtomicUsize::new(0),
        parts: starts.len(),
        done: Mutex::new((0..starts.len()).map(|_| None).collect()),
        changed: Condvar::new(),
        spare: Mutex::new(Vec::new()),
    };
    let decode = |part: usize, items: &mut Vec<T>| {
        let stops = &starts[part + 1..];
        decode_part(text, starts[part], stops, items).map(|stop| stop.shifted(part + 1))
    };
    let reserve = |part: usize| {
        let end = starts.get(part + 1).copied().unwrap_or(text.len());
        (end - starts[part]) / BYTES_PER_ENTRY
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.min(starts.len()) {
            let spawned = std::thread::Builder::new()
                .name("storpool-api-decode".to_owned())
                .spawn_scoped(scope, || {
                    while let Some(part) = board.claim() {
                        let decoded = catch_unwind(AssertUnwindSafe(|| {
                            let mut items = board.buffer(reserve(part));
                            decode(part, &mut items).map(|stop| (items, stop))
                        }));
                        board.finish(part, decoded.ok().flatten());
                    }
                });
            if spawned.is_err() {
                break;
            }
        }
        let result = gather(
            &board,
            &decode,
            (text.len() - from) / BYTES_PER_ENTRY,
            &reserve,
        );
        // Helpers stop after the part they are on (half of `usize::MAX`: no wrapping around).
        board.next.store(usize::MAX / 2, Ordering::Relaxed);
        result
    })
}

/// The calling thread's share of [`decode_elements`]: appends the decoded parts whose turn it
/// is, then takes the next part (decoding it straight into the result when its turn has come),
/// until the part that ends the array is in. Appending all that is ready first keeps the parts
/// decoded ahead of their turn to one or two.
fn gather<T>(
    board: &Board<T>,
    decode: &impl Fn(usize, &mut Vec<T>) -> Option<Stop>,
    capacity: usize,
    reserve: &impl Fn(usize) -> usize,
) -> Option<(Vec<T>, usize)> {
    let mut items = Vec::with_capacity(capacity);
    // The part whose elements come next.
    let mut next = 0;
    loop {
        let stop = match board.take(next, false) {
            Some(done) => board.append(&mut items, done?),
            None => match board.claim() {
                Some(part) if part == next => decode(part, &mut items)?,
                Some(part) => {
                    let mut own = board.buffer(reserve(part));
                    let decoded = decode(part, &mut own).map(|stop| (own, stop));
                    board.finish(part, decoded);
                    continue;
                }
                None => board.append(&mut items, board.take(next, true)??),
            },
        };
        match stop {
            Stop::Close(end) => return Some((items, end)),
            Stop::At(part) => next = part,
        }
    }
}

/// A decoded part: its elements and where it stopped; `None` if it did not decode.
type Part<T> = Option<(Vec<T>, Stop)>;

/// The parts of one answer: which is handed out next, and the decoded ones not yet appended.
struct Board<T> {
    next: AtomicUsize,
    /// How many parts there are.
    parts: usize,
    /// Per part: `None` until decoded.
    done: Mutex<Vec<Option<Part<T>>>>,
    changed: Condvar,
    /// Emptied part vectors, to be filled again. Freeing them instead cost 20 MiB of peak
    /// memory for 100,000 volumes: memory freed by another thread than the one that took it
    /// is not handed out again at once (mimalloc), so every part took fresh memory.
    spare: Mutex<Vec<Vec<T>>>,
}

impl<T> Board<T> {
    /// An empty vector for a part, with room for at least `reserve` elements.
    fn buffer(&self, reserve: usize) -> Vec<T> {
        let mut buffer = self
            .spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        buffer.reserve(reserve);
        buffer
    }

    /// Moves a part's elements to the end of `items` and keeps its vector for another part;
    /// where the part stopped.
    fn append(&self, items: &mut Vec<T>, (mut part, stop): (Vec<T>, Stop)) -> Stop {
        items.append(&mut part);
        self.spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(part);
        stop
    }

    /// The next part nobody has taken, if any.
    fn claim(&self) -> Option<usize> {
        let part = self.next.fetch_add(1, Ordering::Relaxed);
        (part < self.parts).then_some(part)
    }

    fn finish(&self, part: usize, decoded: Part<T>) {
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        done[part] = Some(decoded);
        self.changed.notify_all();
    }

    /// The decoded `part`, waiting for it if `wait`; `None` if not decoded yet.
    fn take(&self, part: usize, wait: bool) -> Option<Part<T>> {
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(decoded) = done[part].take() {
                return Some(decoded);
            }
            if !wait {
                return None;
            }
            done = self
                .changed
                .wait(done)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Where parts start: `from`, then for each further part the first element that seems to
/// start after its even share of the bytes (the `{` after a `},`). Increasing, no repeats.
fn cuts(bytes: &[u8], from: usize, parts: usize) -> Vec<usize> {
    let mut starts = vec![from];
    let len = bytes.len() - from;
    for part in 1..parts {
        let mut at = from + len / parts * part;
        let found = loop {
            let Some(close) = bytes
                .get(at..)
                .and_then(|rest| rest.iter().position(|&b| b == b'}'))
            else {
                break None;
            };
            at += close + 1;
            let mut next = at;
            if bytes.get(next) != Some(&b',') {
                continue;
            }
            next += 1;
            while is_space(bytes.get(next)) {
                next += 1;
            }
            if bytes.get(next) == Some(&b'{') {
                break Some(next);
            }
        };
        match found {
            Some(start) if start > *starts.last().unwrap_or(&from) => starts.push(start),
            Some(_) => {}
            None => break,
        }
    }
    starts
}

/// Decodes elements from `from` into `items` until the position after an element's `,` is one
/// of `stops` (`Stop::At` its index in `stops`) or the array ends. `None` at the first thing
/// that does not decode.
fn decode_part<T: DeserializeOwned>(
    text: &str,
    from: usize,
    stops: &[usize],
    items: &mut Vec<T>,
) -> Option<Stop> {
    let mut cursor = Cursor { text, pos: from };
    if cursor.expect(b']').is_some() {
        return Some(Stop::Close(cursor.pos));
    }
    let mut next = 0;
    loop {
        items.push(cursor.value::<T>()?);
        cursor.skip_whitespace();
        match cursor.text.as_bytes().get(cursor.pos) {
            Some(b',') => cursor.pos += 1,
            Some(b']') => return Some(Stop::Close(cursor.pos + 1)),
            _ => return None,
        }
        cursor.skip_whitespace();
        while stops.get(next).is_some_and(|&stop| stop < cursor.pos) {
            next += 1;
        }
        if stops.get(next) == Some(&cursor.pos) {
            return Some(Stop::At(next));
        }
    }
}

/// Whether `byte` is JSON whitespace.
fn is_space(byte: Option<&u8>) -> bool {
    matches!(byte, Some(b' ' | b'\n' | b'\r' | b'\t'))
}

/// A position in the answer, moved by decoding values with `serde_json`.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn skip_whitespace(&mut self) {
        while is_space(self.text.as_bytes().get(self.pos)) {
            self.pos += 1;
        }
    }

    /// Skips whitespace and `byte`, or `None` if something else is next.
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_whitespace();
        (self.text.as_bytes().get(self.pos) == Some(&byte)).then(|| self.pos += 1)
    }

    /// An object's key and the `:` after it.
    fn key(&mut self) -> Option<String> {
        let key = self.value::<String>()?;
        self.expect(b':')?;
        Some(key)
    }

    /// One JSON value (after optional whitespace) decoded as a `V`.
    fn value<V: DeserializeOwned>(&mut self) -> Option<V> {
        // `pos` is always just after an ASCII byte or whitespace: a character boundary.
        let rest = self.text.get(self.pos..)?;
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<V>();
        let value = stream.next()?.ok()?;
        self.pos += stream.byte_offset();
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// A listing of `count` small objects whose names hold `},{`, in compact JSON.
    fn listing(count: usize) -> String {
        let data: Vec<Value> = (0..count)
            .map(|i| json!({"name": format!("v{i}\"}},{{\"x\":[{{}},{{}}]"), "tags": {"i": i.to_string()}}))
            .collect();
        json!({"generation": 7, "data": data, "more": {"a": [1, 2]}}).to_string()
    }

    fn sequential(text: &str) -> Result<Vec<Value>, String> {
        match decode::<Vec<Value>>(200, text.as_bytes()) {
            Decoded::Data(items) => Ok(items),
            Decoded::Invalid(err) => Err(err.to_string()),
            Decoded::Server(raw) => Err(format!("server {}", raw.name)),
        }
    }

    #[test]
    fn every_split_gives_the_elements_the_one_thread_path_gives() {
        for count in [0, 1, 2, 3, 17, 200] {
            let text = listing(count);
            let expected = sequential(&text).unwrap();
            for parts in [2, 3, 4, 5, 9, 40] {
                for threads in 2..=4 {
                    let got = decode_in_parts::<Value>(&text, parts, threads).unwrap();
                    assert_eq!(
                        got, expected,
                        "{count} elements, {parts} parts, {threads} threads"
                    );
                }
            }
        }
    }

    #[test]
    fn whitespace_anywhere_and_members_in_any_order_are_accepted() {
        let data: Vec<Value> = (0..50).map(|i| json!({"id": i, "s": "},{"})).collect();
        let text = serde_json::to_string_pretty(&json!({"data": data, "generation": 1})).unwrap();
        let expected = sequential(&text).unwrap();
        for parts in 2..=5 {
            assert_eq!(decode_in_parts::<Value>(&text, parts, 2).unwrap(), expected);
        }
    }

    #[test]
    fn cuts_inside_strings_or_nested_arrays_are_never_trusted() {
        // Every element's string holds what looks like an element boundary, and so do the
        // nested arrays: whichever cut is guessed, the chain must skip the false ones.
        let data: Vec<Value> = (0..40)
            .map(|i| json!({"a": [{"b": i}, {"c": "},{"}], "d": "},\n {"}))
            .collect();
        let text = json!({"data": data}).to_string();
        let expected = sequential(&text).unwrap();
        for parts in 2..=12 {
            assert_eq!(decode_in_parts::<Value>(&text, parts, 2).unwrap(), expected);
        }
    }

    #[test]
    fn anything_but_a_plain_success_is_left_to_the_one_thread_path() {
        let good = listing(30);
        let cases = [
            good.replacen("\"generation\"", "\"error\"", 1),
            good.replacen("\"more\"", "\"data\"", 1),
            good.replacen("\"more\"", "\"error\"", 1),
            format!("{good} x"),
            good.replacen("{\"name\":\"v20", "{\"name\":v20", 1),
            good.replacen("},{\"name\":\"v25", "} {\"name\":\"v25", 1),
            good.replacen("\"data\":[", "\"data\":{", 1),
            good[..good.len() - 1].to_owned(),
            "{}".to_owned(),
            "[]".to_owned(),
        ];
        for (i, text) in cases.iter().enumerate() {
            for parts in 2..=4 {
                assert!(
                    decode_in_parts::<Value>(text, parts, 2).is_none(),
                    "case {i} in {parts} parts"
                );
            }
        }
    }

    #[test]
    fn a_bad_element_in_a_later_part_gives_the_one_thread_error() {
        #[derive(Debug, serde::Deserialize)]
        struct Item {
            name: String,
            tags: std::collections::BTreeMap<String, String>,
        }
        let good = listing(3_000);
        let items = decode_in_parts::<Item>(&good, 4, 2).unwrap();
        assert_eq!(
            (items[2500].name.get(..5), items[2500].tags.len()),
            (Some("v2500"), 1)
        );
        let body = good.replacen("\"i\":\"2500\"", "\"i\":2500", 1);
        assert!(decode_in_parts::<Item>(&body, 4, 2).is_none());
        let Decoded::Invalid(err) = decode_listing::<Item>(200, body.as_bytes()) else {
            panic!("a number where a string belongs must not decode");
        };
        let Decoded::Invalid(expected) = decode::<Vec<Item>>(200, body.as_bytes()) else {
            panic!("the one-thread path must refuse it too");
        };
        assert_eq!(err.to_string(), expected.to_string());
    }

    #[test]
    fn big_answers_take_the_parallel_path_and_match_the_one_thread_path() {
        let text = listing(80_000);
        assert!(text.len() >= PARALLEL_FROM, "{} bytes", text.len());
        let Decoded::Data(got) = decode_listing::<Value>(200, text.as_bytes()) else {
            panic!("a valid listing must decode");
        };
        assert_eq!(got, sequential(&text).unwrap());
        assert!(decode_in_parts::<Value>(&text, 2, 2).is_some());
    }
}
