//! A bare HTTP/1.1 client for measuring a server (or fetching the exact bytes of an answer)
//! without our API client in the way.

use std::io::{self, BufRead, BufReader, Read as _, Write};
use std::net::TcpStream;

/// `host:port` of an `http://host:port[/]` URL.
fn authority(url: &str) -> io::Result<&str> {
    url.strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|a| !a.is_empty() && !a.contains('/'))
        .ok_or_else(|| io::Error::other(format!("expected http://HOST:PORT, got `{url}`")))
}

fn request_head(method: &str, call: &str, token: &str, body_len: usize, close: bool) -> String {
    format!(
        "{method} /ctrl/1.0/{call} HTTP/1.1\r\nHost: sim\r\nAuthorization: Storpool v1:{token}\r\n\
         Content-Length: {body_len}\r\n{}\r\n",
        if close { "Connection: close\r\n" } else { "" }
    )
}

/// Reads one answer: the status and the body (by `Content-Length`, or to the end of the
/// stream when there is none).
fn read_answer(r: &mut impl BufRead) -> io::Result<(u16, Vec<u8>)> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
    }
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let mut length = None;
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        if line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = Some(v.trim().parse().map_err(|_| bad("bad Content-Length"))?);
        }
    }
    let mut body = Vec::new();
    match length {
        Some(n) => {
            body.resize(n, 0);
            r.read_exact(&mut body)?;
        }
        None => {
            r.read_to_end(&mut body)?;
        }
    }
    Ok((status, body))
}

/// One call on its own connection, as the reference clients make every call: returns the
/// status and the raw body.
pub fn fetch(
    url: &str,
    token: &str,
    method: &str,
    call: &str,
    body: Option<&[u8]>,
) -> io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(authority(url)?)?;
    s.set_nodelay(true)?;
    let body = body.unwrap_or_default();
    s.write_all(request_head(method, call, token, body.len(), true).as_bytes())?;
    s.write_all(body)?;
    read_answer(&mut BufReader::with_capacity(1 << 16, s))
}

/// A keep-alive connection (the server must allow keep-alive).
pub struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
    token: String,
}

impl Conn {
    /// Connects to `http://host:port`.
    pub fn new(url: &str, token: &str) -> io::Result<Self> {
        let s = TcpStream::connect(authority(url)?)?;
        s.set_nodelay(true)?;
        Ok(Self {
            r: BufReader::new(s.try_clone()?),
            w: s,
            token: token.to_owned(),
        })
    }

    /// One call on this connection: the status and the raw body.
    pub fn call(
        &mut self,
        method: &str,
        call: &str,
        body: Option<&[u8]>,
    ) -> io::Result<(u16, Vec<u8>)> {
        let body = body.unwrap_or_default();
        let head = request_head(method, call, &self.token, body.len(), false);
        self.w.write_all(head.as_bytes())?;
        self.w.write_all(body)?;
        read_answer(&mut self.r)
    }

    /// A call that must answer 200, whose body is read and thrown away (through one small
    /// buffer): the time it takes is the server's (building and sending the answer), without
    /// this client's cost of keeping a large body (fresh memory is slow to touch). Returns
    /// the body's length.
    pub fn ok_discard(&mut self, method: &str, call: &str) -> io::Result<usize> {
        let head = request_head(method, call, &self.token, 0, false);
        self.w.write_all(head.as_bytes())?;
        let mut line = String::new();
        self.r.read_line(&mut line)?;
        if line.split(' ').nth(1) != Some("200") {
            return Err(io::Error::other(format!(
                "{method} {call}: {}",
                line.trim()
            )));
        }
        let mut length = None;
        loop {
            line.clear();
            if self.r.read_line(&mut line)? == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
            }
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse::<u64>().ok();
            }
        }
        let length = length.ok_or_else(|| io::Error::other("no Content-Length"))?;
        let copied = io::copy(&mut (&mut self.r).take(length), &mut io::sink())?;
        if copied == length {
            usize::try_from(length).map_err(io::Error::other)
        } else {
            Err(io::Error::from(io::ErrorKind::UnexpectedEof))
        }
    }

    /// A call that must answer 200.
    pub fn ok(&mut self, method: &str, call: &str, body: Option<&[u8]>) -> io::Result<Vec<u8>> {
        let (status, out) = self.call(method, call, body)?;
        if status == 200 {
            Ok(out)
        } else {
            Err(io::Error::other(format!(
                "{method} {call}: HTTP {status}: {}",
                String::from_utf8_lossy(&out)
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_wants_a_plain_http_url() {
        assert_eq!(authority("http://127.0.0.1:81").unwrap(), "127.0.0.1:81");
        assert_eq!(authority("http://127.0.0.1:81/").unwrap(), "127.0.0.1:81");
        assert!(authority("https://h:1").is_err());
        assert!(authority("http://h:1/ctrl").is_err());
    }

    #[test]
    fn answers_are_read_by_length_or_to_the_end() {
        let text = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}tail";
        let (status, body) = read_answer(&mut &text[..]).unwrap();
        assert_eq!((status, body.as_slice()), (200, &b"{}"[..]));
        let text = b"HTTP/1.0 500 Oops\r\nConnection: close\r\n\r\n{\"error\":1}";
        let (status, body) = read_answer(&mut &text[..]).unwrap();
        assert_eq!((status, body.as_slice()), (500, &b"{\"error\":1}"[..]));
        assert!(read_answer(&mut &b""[..]).is_err());
    }
}
