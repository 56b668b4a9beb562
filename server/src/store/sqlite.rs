//! The store on disk: one SQLite database in WAL mode under `--data-dir`, with a row per
//! (token, key) and a row per token with its alarm time. One writer thread commits writes in
//! batches: writes of many tokens that arrive together share one transaction and one sync
//! (group commit), and each is acknowledged only after that sync. Reads come from a small pool
//! of connections, which WAL lets run beside the writer.
//!
//! A database that cannot be opened or read is never written over: every call answers an error
//! (the shells answer 503), and opening is tried again at most every two seconds.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, ErrorCode};
use shared::lifecycle::{Entry, META_KEY};
use shared::Token;

use super::{Job, Op, Read};
use crate::gate::Failure;

/// The database file inside `--data-dir`.
pub const FILE: &str = "rendezvous.sqlite";

/// Writes taken into one transaction at most.
const MAX_BATCH: usize = 1024;

/// How long a broken store waits before opening is tried again.
const RETRY_OPEN: Duration = Duration::from_secs(2);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries (
    token BLOB NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (token, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alarms (
    token BLOB PRIMARY KEY,
    at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alarms_by_time ON alarms (at);
";

pub struct Sqlite {
    path: PathBuf,
    state: Mutex<State>,
}

enum State {
    Open(Arc<Opened>),
    Broken { why: String, at: Instant },
    Closed,
}

struct Opened {
    /// Taken out on close, so that nothing is queued behind the writer's last batch.
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    path: PathBuf,
}

impl Sqlite {
    /// Opens (or creates) the database in `dir`. A store that cannot be opened is returned
    /// broken: it answers errors and tries again later.
    pub fn open(dir: &Path) -> Sqlite {
        let path = dir.join(FILE);
        Sqlite {
            state: Mutex::new(attempt(&path)),
            path,
        }
    }

    fn opened(&self) -> Result<Arc<Opened>, String> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(&*state, State::Broken { at, .. } if at.elapsed() >= RETRY_OPEN) {
            *state = attempt(&self.path);
            if let State::Open(_) = &*state {
                tracing::info!("store {} opened", self.path.display());
            }
        }
        match &*state {
            State::Open(o) => Ok(o.clone()),
            State::Broken { why, .. } => Err(why.clone()),
            State::Closed => Err("the server is shutting down".into()),
        }
    }

    /// Runs `f` on a reader connection, off the async threads.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let opened = self.opened()?;
        tokio::task::spawn_blocking(move || opened.read(f))
            .await
            .map_err(|e| format!("a store read panicked: {e}"))?
    }
}

impl super::Store for Sqlite {
    fn submit(&self, job: Job) {
        match self.opened() {
            Ok(o) => {
                let jobs = o.jobs.lock().unwrap_or_else(|e| e.into_inner());
                let refused = match jobs.as_ref() {
                    Some(tx) => tx.send(job).err().map(|mpsc::SendError(job)| job),
                    None => Some(job),
                };
                if let Some(job) = refused {
                    job.gate
                        .complete(job.seq, Err(Failure::Storage("the writer stopped".into())));
                }
            }
            Err(why) => job.gate.complete(job.seq, Err(Failure::Storage(why))),
        }
    }

    fn entries(&self, token: Token) -> Read<'_, Vec<Entry>> {
        Box::pin(self.read(move |c| {
            let mut stmt = c.prepare_cached("SELECT key, value FROM entries WHERE token = ?1")?;
            let rows = stmt.query_map(params![token.as_bytes().as_slice()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            rows.collect()
        }))
    }

    fn due(&self, now: u64, limit: usize) -> Read<'_, Vec<Token>> {
        let (now, limit) = (i64::try_from(now).unwrap_or(i64::MAX), limit as i64);
        Box::pin(self.read(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT token FROM alarms WHERE at <= ?1 ORDER BY at LIMIT ?2")?;
            let rows = stmt.query_map(params![now, limit], |r| r.get::<_, Vec<u8>>(0))?;
            let mut tokens = Vec::new();
            for bytes in rows {
                if let Ok(b) = <[u8; 16]>::try_from(bytes?.as_slice()) {
                    tokens.push(Token::from_random(b));
                }
            }
            Ok(tokens)
        }))
    }

    fn next_alarm(&self) -> Read<'_, Option<u64>> {
        Box::pin(self.read(|c| {
            c.query_row("SELECT MIN(at) FROM alarms", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .map(|v| v.map(|at| u64::try_from(at).unwrap_or(0)))
        }))
    }

    fn orphans(&self) -> Read<'_, Vec<Token>> {
        Box::pin(self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT DISTINCT token FROM entries WHERE token NOT IN \
                 (SELECT token FROM entries WHERE key = ?1)",
            )?;
            let rows = stmt.query_map(params![META_KEY], |r| r.get::<_, Vec<u8>>(0))?;
            let mut tokens = Vec::new();
            for bytes in rows {
                if let Ok(b) = <[u8; 16]>::try_from(bytes?.as_slice()) {
                    tokens.push(Token::from_random(b));
                }
            }
            Ok(tokens)
        }))
    }

    fn ready(&self) -> Read<'_, ()> {
        Box::pin(async move { self.opened().map(|_| ()) })
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    /// Stops taking writes, stores those taken, and closes the database.
    fn close(&self) {
        let state = std::mem::replace(
            &mut *self.state.lock().unwrap_or_else(|e| e.into_inner()),
            State::Closed,
        );
        if let State::Open(o) = state {
            o.close();
        }
    }
}

/// Opens the database at `path`, or says why it could not.
fn attempt(path: &Path) -> State {
    let dir = path.parent().unwrap_or(Path::new("."));
    match Opened::start(dir, path) {
        Ok(o) => State::Open(Arc::new(o)),
        Err(why) => {
            tracing::error!("store {} unavailable: {why}", path.display());
            State::Broken {
                why,
                at: Instant::now(),
            }
        }
    }
}

impl Opened {
    fn start(dir: &Path, path: &Path) -> Result<Opened, String> {
        // It holds live tokens: readable by this server's user only.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let conn = connect(path)?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let (jobs, rx) = mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || write_loop(conn, rx))
            .map_err(|e| format!("cannot start the writer: {e}"))?;
        Ok(Opened {
            jobs: Mutex::new(Some(jobs)),
            writer: Mutex::new(Some(writer)),
            readers: Mutex::new(Vec::new()),
            path: path.to_path_buf(),
        })
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, String> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        let result = f(&conn).map_err(|e| format!("cannot read {}: {e}", self.path.display()));
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        result
    }

    /// The writer ends once its sender is gone and every job queued is stored.
    fn close(&self) {
        drop(self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(w) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = w.join();
        }
    }
}

/// A connection with this store's settings: WAL, and a sync on every commit (`FULL`), since an
/// acknowledged write must survive a crash of the machine, not only of the process.
fn connect(path: &Path) -> Result<Connection, String> {
    let bad = |e: rusqlite::Error| format!("cannot open {}: {e}", path.display());
    let conn = Connection::open(path).map_err(bad)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(bad)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(bad)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(bad)?;
    Ok(conn)
}

/// The writer: takes every job waiting, stores them in one transaction (each job in a savepoint
/// of its own, so one refused write leaves the others), commits once, then tells each gate.
fn write_loop(mut conn: Connection, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let results = write_batch(&mut conn, &batch);
        let failed = results
            .iter()
            .any(|r| matches!(r, Err(Failure::Storage(_))));
        crate::metrics::get().store_call("commit", started.elapsed(), failed);
        for (job, result) in batch.iter().zip(results) {
            job.gate.complete(job.seq, result);
        }
    }
    let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
}

fn write_batch(conn: &mut Connection, batch: &[Job]) -> Vec<Result<(), Failure>> {
    let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let why = Failure::Storage(format!("begin: {e}"));
            return batch.iter().map(|_| Err(why.clone())).collect();
        }
    };
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        // A token whose earlier write failed takes no later one: its history would have a gap.
        if job.gate.failed() {
            results.push(Err(Failure::Storage("an earlier write failed".into())));
            continue;
        }
        results.push(write_job(&tx, job));
    }
    if let Err(e) = tx.commit() {
        let why = Failure::Storage(format!("commit: {e}"));
        return batch.iter().map(|_| Err(why.clone())).collect();
    }
    results
}

fn write_job(tx: &rusqlite::Transaction, job: &Job) -> Result<(), Failure> {
    let token = job.token.as_bytes().as_slice();
    let run = || -> rusqlite::Result<()> {
        tx.execute_batch("SAVEPOINT job")?;
        for op in &job.ops {
            match op {
                Op::Insert(entries) => {
                    let mut stmt = tx.prepare_cached(
                        "INSERT INTO entries (token, key, value) VALUES (?1, ?2, ?3)",
                    )?;
                    for (key, value) in entries {
                        stmt.execute(params![token, key, value])?;
                    }
                }
                Op::Alarm(Some(at)) => {
                    tx.prepare_cached(
                        "INSERT INTO alarms (token, at) VALUES (?1, ?2) \
                         ON CONFLICT (token) DO UPDATE SET at = excluded.at",
                    )?
                    .execute(params![token, i64::try_from(*at).unwrap_or(i64::MAX)])?;
                }
                Op::Alarm(None) => {
                    tx.prepare_cached("DELETE FROM alarms WHERE token = ?1")?
                        .execute(params![token])?;
                }
                Op::Delete => {
                    tx.prepare_cached("DELETE FROM entries WHERE token = ?1")?
                        .execute(params![token])?;
                    tx.prepare_cached("DELETE FROM alarms WHERE token = ?1")?
                        .execute(params![token])?;
                }
                Op::Lose(key) => {
                    tx.prepare_cached("DELETE FROM entries WHERE token = ?1 AND key = ?2")?
                        .execute(params![token, key])?;
                }
            }
        }
        tx.execute_batch("RELEASE job")
    };
    match run() {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = tx.execute_batch("ROLLBACK TO job; RELEASE job");
            match e.sqlite_error_code() {
                Some(ErrorCode::ConstraintViolation) if job.mint => Err(Failure::Taken),
                _ => Err(Failure::Storage(e.to_string())),
            }
        }
    }
}
