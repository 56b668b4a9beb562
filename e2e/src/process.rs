//! Child processes in their own process group, so that stopping one stops all it started
//! (wrangler starts workerd; killing only the npm/node PID would leave it serving).

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct Group {
    child: Child,
    pub log: PathBuf,
    pub what: String,
}

impl Group {
    /// Starts `cmd` in a new process group with stdout and stderr to `log`.
    pub fn spawn(mut cmd: Command, log: &Path, what: &str) -> Group {
        let out = File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Group {
            child,
            log: log.to_path_buf(),
            what: what.to_string(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` once the leader has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `url` answers; panics with the log if the process exits first or `within`
    /// passes. Then checks that it is still running, since something else may answer there.
    pub fn wait_until_serving(&mut self, url: &str, within: Duration) {
        let start = Instant::now();
        while !crate::http::answers(url) {
            if let Some(status) = self.exited() {
                panic!(
                    "{} exited ({status}) before serving:\n{}",
                    self.what,
                    self.log_text()
                );
            }
            if start.elapsed() > within {
                panic!(
                    "{} did not serve within {within:?}:\n{}",
                    self.what,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(50));
        if let Some(status) = self.exited() {
            panic!("{} exited ({status}):\n{}", self.what, self.log_text());
        }
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) with a negative pid signals the group this process leads.
        unsafe {
            libc::kill(-(self.child.id() as libc::pid_t), sig);
        }
    }

    /// SIGTERM to the group, then SIGKILL if it lingers; waits for the leader and returns how
    /// it ended.
    pub fn stop(&mut self) -> ExitStatus {
        if self.exited().is_none() {
            self.signal(libc::SIGTERM);
            let start = Instant::now();
            while self.exited().is_none() && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // Children (workerd) may outlive the leader: always sweep the group.
        self.signal(libc::SIGKILL);
        self.child.wait().expect("the child's status")
    }

    /// SIGKILL to the whole group at once: a crash, not a shutdown.
    pub fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
