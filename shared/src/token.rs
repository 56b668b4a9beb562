//! Discovery tokens: 16 random bytes written as 32 lowercase hex digits, as discovery.etcd.io mints them.

use std::fmt;

/// Bytes of randomness in a token (128 bits).
pub const TOKEN_BYTES: usize = 16;
/// Length of a token's text form.
pub const TOKEN_LEN: usize = TOKEN_BYTES * 2;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token([u8; TOKEN_BYTES]);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    Empty,
    /// The text is not 32 lowercase hex digits; holds what was found.
    Malformed(String),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Empty => write!(f, "no token given"),
            TokenError::Malformed(s) => write!(
                f,
                "{s:?} is not a discovery token: a token is {TOKEN_LEN} lowercase hex digits"
            ),
        }
    }
}

impl std::error::Error for TokenError {}

impl Token {
    /// A token from random bytes; the shell supplies them from a CSPRNG.
    pub fn from_random(bytes: [u8; TOKEN_BYTES]) -> Token {
        Token(bytes)
    }

    /// The token's 16 bytes, as a store may key it.
    pub fn as_bytes(&self) -> &[u8; TOKEN_BYTES] {
        &self.0
    }

    /// Parses exactly one path segment: 32 lowercase hex digits, nothing else.
    pub fn from_segment(segment: &str) -> Result<Token, TokenError> {
        let b = segment.as_bytes();
        if b.len() != TOKEN_LEN {
            return Err(TokenError::Malformed(segment.to_string()));
        }
        let mut out = [0u8; TOKEN_BYTES];
        for (i, pair) in b.chunks_exact(2).enumerate() {
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(hi), Some(lo)) => out[i] = hi << 4 | lo,
                _ => return Err(TokenError::Malformed(segment.to_string())),
            }
        }
        Ok(Token(out))
    }

    /// Parses what a person pastes: a bare token, or a discovery URL of any service whose last path
    /// segment is the token (`https://discovery.etcd.io/<token>`, `http://host/prefix/<token>/`).
    pub fn parse(input: &str) -> Result<Token, TokenError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(TokenError::Empty);
        }
        let path = match s.find("://") {
            Some(i) => {
                let rest = &s[i + 3..];
                let rest = rest.split(['?', '#']).next().unwrap_or("");
                match rest.find('/') {
                    Some(j) => &rest[j..],
                    None => return Err(TokenError::Malformed(s.to_string())),
                }
            }
            None => s,
        };
        let segment = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        Token::from_segment(segment).map_err(|_| TokenError::Malformed(s.to_string()))
    }
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "6a28e078895c5ec737174db2419bb2f3";

    #[test]
    fn random_bytes_print_as_32_lowercase_hex() {
        let t = Token::from_random([0xab; 16]);
        assert_eq!(t.to_string(), "ab".repeat(16));
        let t = Token::from_random([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 255]);
        assert_eq!(t.to_string(), "000102030405060708090a0b0c0d0eff");
    }

    #[test]
    fn parses_bare_tokens_and_urls() {
        for input in [
            HEX,
            "  6a28e078895c5ec737174db2419bb2f3\n",
            "https://discovery.etcd.io/6a28e078895c5ec737174db2419bb2f3",
            "http://127.0.0.1:8787/6a28e078895c5ec737174db2419bb2f3/",
            "https://example.com/some/prefix/6a28e078895c5ec737174db2419bb2f3?x=1#frag",
        ] {
            assert_eq!(Token::parse(input).unwrap().to_string(), HEX, "{input:?}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_token() {
        assert_eq!(Token::parse("   "), Err(TokenError::Empty));
        for input in [
            "6A28E078895C5EC737174DB2419BB2F3",
            "6a28e078895c5ec737174db2419bb2f",
            "6a28e078895c5ec737174db2419bb2f3a",
            "6a28e078895c5ec737174db2419bb2g3",
            "https://discovery.etcd.io",
            "https://discovery.etcd.io/new?size=3",
            "ééééééééééééééé",
        ] {
            assert!(
                matches!(Token::parse(input), Err(TokenError::Malformed(_))),
                "{input:?}"
            );
        }
        let msg = Token::parse("abc").unwrap_err().to_string();
        assert!(msg.contains("32 lowercase hex digits"), "{msg}");
    }

    #[test]
    fn segment_round_trips() {
        let t = Token::from_segment(HEX).unwrap();
        assert_eq!(Token::from_segment(&t.to_string()).unwrap(), t);
    }
}
