//! `folio serve` as a process of its own (for what is set up once per process: tracing,
//! the command line, stdout): every service on a free port, only the given `FOLIO_`
//! settings, killed when dropped.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `folio` command with no `FOLIO_` variable but `FOLIO_DATA_DIR=data`.
pub fn folio_command(bin: &str, data: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FOLIO_") {
            cmd.env_remove(key);
        }
    }
    cmd.args(args)
        .env("FOLIO_DATA_DIR", data)
        .stdin(Stdio::null());
    cmd
}

/// A running `folio serve`.
pub struct Served {
    child: Child,
    /// The router's base URL (`http://127.0.0.1:<port>`), as `folio is up:` printed it.
    pub url: String,
    /// What it printed on stdout before that line.
    pub printed: Vec<String>,
}

impl Served {
    /// Runs `bin serve <args>` on `data` with `settings` (and its stderr to `stderr`),
    /// every service on a free port, and waits (90 s at most) for its `folio is up`
    /// line.
    pub fn start(
        bin: &str,
        data: &Path,
        args: &[&str],
        settings: &[(&str, &str)],
        stderr: Stdio,
    ) -> Served {
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        let mut cmd = folio_command(bin, data, &all);
        for service in folio::platform::service_names() {
            let key = format!("FOLIO_{}_ADDR", service.to_ascii_uppercase());
            cmd.env(key, "127.0.0.1:0");
        }
        for (key, value) in settings {
            cmd.env(key, value);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("folio serve runs");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut printed = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(90)) {
                Ok(line) => match line.strip_prefix("folio is up: ") {
                    Some(url) => {
                        let url = url.to_owned();
                        return Served {
                            child,
                            url,
                            printed,
                        };
                    }
                    None => printed.push(line),
                },
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("no `folio is up` line within 90 s; it printed {printed:?}");
                }
            }
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
