//! etcd v2 error codes with etcd's own messages and HTTP statuses (etcd's `v2error` package).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    KeyNotFound,
    TestFailed,
    NotFile,
    NoMorePeer,
    NotDir,
    NodeExist,
    RootReadOnly,
    DirNotEmpty,
    Unauthorized,
    PrevValueRequired,
    TtlNan,
    IndexNan,
    InvalidField,
    InvalidForm,
    RaftInternal,
    LeaderElect,
    WatcherCleared,
    EventIndexCleared,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 18] = [
        ErrorCode::KeyNotFound,
        ErrorCode::TestFailed,
        ErrorCode::NotFile,
        ErrorCode::NoMorePeer,
        ErrorCode::NotDir,
        ErrorCode::NodeExist,
        ErrorCode::RootReadOnly,
        ErrorCode::DirNotEmpty,
        ErrorCode::Unauthorized,
        ErrorCode::PrevValueRequired,
        ErrorCode::TtlNan,
        ErrorCode::IndexNan,
        ErrorCode::InvalidField,
        ErrorCode::InvalidForm,
        ErrorCode::RaftInternal,
        ErrorCode::LeaderElect,
        ErrorCode::WatcherCleared,
        ErrorCode::EventIndexCleared,
    ];

    pub fn number(self) -> u32 {
        match self {
            ErrorCode::KeyNotFound => 100,
            ErrorCode::TestFailed => 101,
            ErrorCode::NotFile => 102,
            ErrorCode::NoMorePeer => 103,
            ErrorCode::NotDir => 104,
            ErrorCode::NodeExist => 105,
            ErrorCode::RootReadOnly => 107,
            ErrorCode::DirNotEmpty => 108,
            ErrorCode::Unauthorized => 110,
            ErrorCode::PrevValueRequired => 201,
            ErrorCode::TtlNan => 202,
            ErrorCode::IndexNan => 203,
            ErrorCode::InvalidField => 209,
            ErrorCode::InvalidForm => 210,
            ErrorCode::RaftInternal => 300,
            ErrorCode::LeaderElect => 301,
            ErrorCode::WatcherCleared => 400,
            ErrorCode::EventIndexCleared => 401,
        }
    }

    pub fn from_number(n: u32) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.number() == n)
    }

    /// etcd's message for the code, word for word.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::KeyNotFound => "Key not found",
            ErrorCode::TestFailed => "Compare failed",
            ErrorCode::NotFile => "Not a file",
            ErrorCode::NoMorePeer => "Reached the max number of peers in the cluster",
            ErrorCode::NotDir => "Not a directory",
            ErrorCode::NodeExist => "Key already exists",
            ErrorCode::RootReadOnly => "Root is read only",
            ErrorCode::DirNotEmpty => "Directory not empty",
            ErrorCode::Unauthorized => "The request requires user authentication",
            ErrorCode::PrevValueRequired => "PrevValue is Required in POST form",
            ErrorCode::TtlNan => "The given TTL in POST form is not a number",
            ErrorCode::IndexNan => "The given index in POST form is not a number",
            ErrorCode::InvalidField => "Invalid field",
            ErrorCode::InvalidForm => "Invalid POST form",
            ErrorCode::RaftInternal => "Raft Internal Error",
            ErrorCode::LeaderElect => "During Leader Election",
            ErrorCode::WatcherCleared => "watcher is cleared due to etcd recovery",
            ErrorCode::EventIndexCleared => "The event in requested index is outdated and cleared",
        }
    }

    /// The HTTP status etcd answers with this code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::KeyNotFound => 404,
            ErrorCode::NotFile | ErrorCode::DirNotEmpty => 403,
            ErrorCode::Unauthorized => 401,
            ErrorCode::TestFailed | ErrorCode::NodeExist => 412,
            ErrorCode::RaftInternal | ErrorCode::LeaderElect => 500,
            _ => 400,
        }
    }
}

/// An etcd error as it travels: `{"errorCode":N,"message":"...","cause":"...","index":N}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdError {
    pub code: ErrorCode,
    pub cause: String,
    pub index: u64,
}

#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    #[serde(rename = "errorCode")]
    error_code: u32,
    message: &'a str,
    #[serde(skip_serializing_if = "str::is_empty", default)]
    cause: &'a str,
    index: u64,
}

impl EtcdError {
    pub fn new(code: ErrorCode, cause: impl Into<String>, index: u64) -> EtcdError {
        EtcdError {
            code,
            cause: cause.into(),
            index,
        }
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The body etcd writes: the JSON object and a newline.
    pub fn to_json(&self) -> String {
        let wire = Wire {
            error_code: self.code.number(),
            message: self.code.message(),
            cause: &self.cause,
            index: self.index,
        };
        let mut s = serde_json::to_string(&wire).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Reads an error body back (for clients and tests). Unknown codes are refused.
    pub fn from_json(text: &str) -> Option<EtcdError> {
        let w: Wire = serde_json::from_str(text).ok()?;
        Some(EtcdError::new(
            ErrorCode::from_number(w.error_code)?,
            w.cause,
            w.index,
        ))
    }
}

impl std::fmt::Display for EtcdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The form etcd's client prints: "100: Key not found (/cause) [7]".
        write!(
            f,
            "{}: {} ({}) [{}]",
            self.code.number(),
            self.code.message(),
            self.cause,
            self.index
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_etcds_number_status_and_message() {
        let table: [(u32, u16, &str); 18] = [
            (100, 404, "Key not found"),
            (101, 412, "Compare failed"),
            (102, 403, "Not a file"),
            (103, 400, "Reached the max number of peers in the cluster"),
            (104, 400, "Not a directory"),
            (105, 412, "Key already exists"),
            (107, 400, "Root is read only"),
            (108, 403, "Directory not empty"),
            (110, 401, "The request requires user authentication"),
            (201, 400, "PrevValue is Required in POST form"),
            (202, 400, "The given TTL in POST form is not a number"),
            (203, 400, "The given index in POST form is not a number"),
            (209, 400, "Invalid field"),
            (210, 400, "Invalid POST form"),
            (300, 500, "Raft Internal Error"),
            (301, 500, "During Leader Election"),
            (400, 400, "watcher is cleared due to etcd recovery"),
            (
                401,
                400,
                "The event in requested index is outdated and cleared",
            ),
        ];
        for (code, (number, status, message)) in ErrorCode::ALL.into_iter().zip(table) {
            assert_eq!(code.number(), number);
            assert_eq!(code.status(), status, "{number}");
            assert_eq!(code.message(), message);
            assert_eq!(ErrorCode::from_number(number), Some(code));
        }
        assert_eq!(ErrorCode::from_number(999), None);
    }

    #[test]
    fn json_is_etcds_shape_with_newline() {
        let e = EtcdError::new(ErrorCode::NodeExist, "/tok/abc", 7);
        assert_eq!(
            e.to_json(),
            "{\"errorCode\":105,\"message\":\"Key already exists\",\"cause\":\"/tok/abc\",\"index\":7}\n"
        );
        assert_eq!(e.status(), 412);
        assert_eq!(EtcdError::from_json(&e.to_json()), Some(e.clone()));
        assert_eq!(e.to_string(), "105: Key already exists (/tok/abc) [7]");
        let no_cause = EtcdError::new(ErrorCode::KeyNotFound, "", 0);
        assert_eq!(
            no_cause.to_json(),
            "{\"errorCode\":100,\"message\":\"Key not found\",\"index\":0}\n"
        );
    }

    #[test]
    fn hostile_causes_stay_valid_json() {
        let e = EtcdError::new(ErrorCode::InvalidField, "\"}<script>\u{0}\n", 1);
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["cause"], "\"}<script>\u{0}\n");
    }
}
