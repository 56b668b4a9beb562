//! Why the registry will not carry out a request: one variant per rule, with what the client is
//! told. v2 reads each as etcd's error (`etcd`); `shared::v3` reads the same variants as gRPC
//! statuses, so a rule is checked once, here, whichever protocol asked.

use crate::v2::{ErrorCode, EtcdError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Nobody minted the token (or its life is over); `path` is the key asked for.
    NotMinted {
        path: String,
    },
    /// The key does not exist (or cannot exist) under the token.
    NoSuchKey {
        path: String,
    },
    /// A write to a key no token holds (too deep, a name members cannot have).
    BadKey {
        why: String,
    },
    /// The token's directory or `_config` written as a file.
    NotAFile {
        path: String,
    },
    /// `_config/size` is written once, when the token is minted.
    SizeFixed {
        path: String,
        deleting: bool,
    },
    ValueTooLarge {
        len: usize,
        max: usize,
    },
    /// A create (`prevExist=false`) of a key that exists.
    Exists {
        path: String,
    },
    /// `prevValue`/`prevIndex` did not match; `cause` in etcd's `[asked != held]` form.
    CompareFailed {
        cause: String,
    },
    /// One of the first `size` members of a full token: it cannot change any more.
    Founder {
        path: String,
        founders: usize,
    },
    TooManyMembers {
        held: usize,
    },
    TooManyEvents {
        recorded: u64,
    },
    TooManyWaits {
        held: usize,
    },
}

impl Refused {
    /// etcd's error code for it.
    pub fn code(&self) -> ErrorCode {
        match self {
            Refused::NotMinted { .. } | Refused::NoSuchKey { .. } => ErrorCode::KeyNotFound,
            Refused::BadKey { .. } | Refused::ValueTooLarge { .. } => ErrorCode::InvalidField,
            Refused::NotAFile { .. } => ErrorCode::NotFile,
            Refused::SizeFixed { .. } | Refused::Founder { .. } => ErrorCode::RootReadOnly,
            Refused::Exists { .. } => ErrorCode::NodeExist,
            Refused::CompareFailed { .. } => ErrorCode::TestFailed,
            Refused::TooManyMembers { .. }
            | Refused::TooManyEvents { .. }
            | Refused::TooManyWaits { .. } => ErrorCode::NoMorePeer,
        }
    }

    /// The `cause` etcd's error carries: the key, or what this service's rule says.
    pub fn cause(&self) -> String {
        match self {
            Refused::NotMinted { path }
            | Refused::NoSuchKey { path }
            | Refused::NotAFile { path }
            | Refused::Exists { path } => path.clone(),
            Refused::BadKey { why } => why.clone(),
            Refused::SizeFixed {
                path,
                deleting: false,
            } => format!("{path}: the size is fixed when the token is minted"),
            Refused::SizeFixed {
                path,
                deleting: true,
            } => format!("{path}: the size lives as long as the token"),
            Refused::ValueTooLarge { len, max } => {
                format!("value is {len} bytes: this service keeps at most {max} per member")
            }
            Refused::CompareFailed { cause } => cause.clone(),
            Refused::Founder { path, founders } => format!(
                "{path} is one of the {founders} founding members of this full token and cannot change; mint a new token for a new cluster"
            ),
            Refused::TooManyMembers { held } => {
                format!("this token already holds {held} member keys, the most this service keeps")
            }
            Refused::TooManyEvents { recorded } => format!(
                "this token has recorded {recorded} changes, the most this service keeps for one token"
            ),
            Refused::TooManyWaits { held } => format!(
                "this token already holds {held} waits, the most this service parks at once"
            ),
        }
    }

    /// As etcd's v2 error, the registry being at `index`.
    pub fn etcd(&self, index: u64) -> EtcdError {
        EtcdError::new(self.code(), self.cause(), index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_reads_as_etcds_error() {
        let cases = [
            (Refused::NotMinted { path: "/t".into() }, 100, 404),
            (
                Refused::Exists {
                    path: "/t/a".into(),
                },
                105,
                412,
            ),
            (
                Refused::CompareFailed {
                    cause: "[1 != 2]".into(),
                },
                101,
                412,
            ),
            (Refused::NotAFile { path: "/t".into() }, 102, 403),
            (Refused::ValueTooLarge { len: 9, max: 8 }, 209, 400),
            (Refused::TooManyWaits { held: 2 }, 103, 400),
            (
                Refused::SizeFixed {
                    path: "/t/_config/size".into(),
                    deleting: true,
                },
                107,
                400,
            ),
        ];
        for (refused, code, status) in cases {
            let e = refused.etcd(7);
            assert_eq!((e.code.number(), e.status(), e.index), (code, status, 7));
            assert_eq!(e.cause, refused.cause());
        }
        assert!(Refused::ValueTooLarge { len: 9, max: 8 }
            .cause()
            .contains("at most 8"));
    }
}
