//! Owns what several integration modules share: running a command with a deadline (killed
//! after it), its exit code and its output.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How a bounded command ended.
pub struct Out {
    pub code: Option<i32>,
    /// Standard output, then standard error.
    pub text: String,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` with `stdin` (`None`: no standard input at all), killed after `deadline`.
pub fn bounded(mut cmd: Command, stdin: Option<&str>, deadline: Duration) -> Out {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let shown = format!("{cmd:?}");
    let mut child = cmd.spawn().expect("the command starts");
    let pid = child.id();
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        input.write_all(text.as_bytes()).expect("stdin written");
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(deadline) {
        Ok(out) => out.expect("the command ran"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("{shown} did not finish within {deadline:?}");
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Out {
        code: out.status.code(),
        text: format!("{stdout}{stderr}"),
        stdout,
        stderr,
    }
}
