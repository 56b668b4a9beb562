//! A chunked request body (RFC 9112 7.1), decoded as its bytes arrive: sizes in hex, each chunk
//! ended by CRLF, a zero-size chunk, trailer lines, an empty line. Strict: a line that does not
//! end in CRLF, a size that is not hex or does not fit, trailers past `MAX_TRAILER_BYTES` are
//! errors (the connection closes), since a lenient reading is how a body gets smuggled.

/// Bytes of trailer lines taken after the last chunk.
const MAX_TRAILER_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a chunk's size: digits so far, and whether an extension (`;...`) began.
    Size {
        size: u64,
        digits: u8,
        ext: bool,
    },
    /// The size line's CR was read; its LF comes next.
    SizeLf {
        size: u64,
    },
    Data {
        left: u64,
    },
    DataCr,
    DataLf,
    /// Trailer lines: bytes in the current line, and how many trailer bytes in all.
    Trailer {
        line: usize,
        total: usize,
    },
    TrailerLf {
        line: usize,
        total: usize,
    },
    Done,
}

#[derive(Debug)]
pub struct Chunked {
    state: State,
}

impl Default for Chunked {
    fn default() -> Self {
        Chunked {
            state: State::Size {
                size: 0,
                digits: 0,
                ext: false,
            },
        }
    }
}

impl Chunked {
    /// Whether the body has ended (the last chunk and the trailers are read).
    pub fn done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes what it can of `input`, handing the body's bytes to `out`; how many bytes of
    /// `input` it used (all of them unless the body ended in its middle). The error says what
    /// was wrong.
    pub fn feed(&mut self, input: &[u8], mut out: impl FnMut(&[u8])) -> Result<usize, String> {
        let mut i = 0;
        while i < input.len() && self.state != State::Done {
            let b = input[i];
            self.state = match self.state {
                State::Size { size, digits, ext } => match b {
                    b'\r' if digits > 0 => State::SizeLf { size },
                    _ if ext => {
                        if b == b'\n' || b.is_ascii_control() && b != b'\t' {
                            return Err("a chunk extension holds a control character".into());
                        }
                        State::Size { size, digits, ext }
                    }
                    b';' | b' ' | b'\t' if digits > 0 => State::Size {
                        size,
                        digits,
                        ext: true,
                    },
                    _ => {
                        let d = (b as char)
                            .to_digit(16)
                            .ok_or_else(|| format!("a chunk size is not hex ({:?})", b as char))?;
                        if digits >= 16 {
                            return Err("a chunk size is too large".into());
                        }
                        State::Size {
                            size: size * 16 + u64::from(d),
                            digits: digits + 1,
                            ext,
                        }
                    }
                },
                State::SizeLf { size } => match (b, size) {
                    (b'\n', 0) => State::Trailer { line: 0, total: 0 },
                    (b'\n', size) => State::Data { left: size },
                    _ => return Err("a chunk size line does not end in CRLF".into()),
                },
                State::Data { left } => {
                    let n = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(input.len() - i);
                    out(&input[i..i + n]);
                    i += n;
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::DataCr
                    } else {
                        State::Data { left }
                    };
                    continue;
                }
                State::DataCr if b == b'\r' => State::DataLf,
                State::DataLf if b == b'\n' => State::Size {
                    size: 0,
                    digits: 0,
                    ext: false,
                },
                State::DataCr | State::DataLf => {
                    return Err("a chunk's data does not end in CRLF".into())
                }
                State::Trailer { line, total } => {
                    if total >= MAX_TRAILER_BYTES {
                        return Err(format!(
                            "the trailers are longer than {MAX_TRAILER_BYTES} bytes"
                        ));
                    }
                    match b {
                        b'\r' => State::TrailerLf { line, total },
                        b'\n' => return Err("a trailer line does not end in CRLF".into()),
                        _ => State::Trailer {
                            line: line + 1,
                            total: total + 1,
                        },
                    }
                }
                State::TrailerLf { line, total } => match (b, line) {
                    (b'\n', 0) => State::Done,
                    (b'\n', _) => State::Trailer { line: 0, total },
                    _ => return Err("a trailer line does not end in CRLF".into()),
                },
                State::Done => State::Done,
            };
            i += 1;
        }
        Ok(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes; the body, or the error.
    fn decode(input: &[u8], step: usize) -> Result<(Vec<u8>, usize), String> {
        let mut c = Chunked::default();
        let mut body = Vec::new();
        let mut used = 0;
        for piece in input.chunks(step) {
            used += c.feed(piece, |b| body.extend_from_slice(b))?;
            if c.done() {
                return Ok((body, used));
            }
        }
        Err("unfinished".into())
    }

    #[test]
    fn chunks_decode_whatever_pieces_they_arrive_in() {
        let input = b"7\r\nvalue=m\r\n1;ext=1\r\n1\r\n0\r\nX-Trailer: t\r\n\r\nGET / HTTP/1.1";
        for step in [1, 2, 3, 7, 100] {
            let (body, used) = decode(input, step).unwrap();
            assert_eq!(body, b"value=m1", "{step}");
            assert_eq!(
                &input[used..],
                b"GET / HTTP/1.1",
                "the next request is left"
            );
        }
        assert_eq!(decode(b"0\r\n\r\n", 1).unwrap().0, b"");
        assert_eq!(
            decode(b"A\r\n0123456789\r\n0\r\n\r\n", 4).unwrap().0.len(),
            10
        );
    }

    #[test]
    fn what_is_not_chunked_strictly_is_an_error() {
        for bad in [
            b"x\r\n".as_slice(),
            b"\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloX\r\n",
            b"5\r\nhello\r\r",
            b"11111111111111111\r\n",
            b"0\r\nX: y\n\r\n",
            b"3;a\nb\r\nabc\r\n",
        ] {
            assert!(
                decode(bad, 1).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut long = b"0\r\n".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_TRAILER_BYTES + 1));
        assert!(decode(&long, 64).unwrap_err().contains("trailers"));
    }
}
