//! Faults of the database and the disk under it, each injected the way a clean clone can run:
//! a full disk (a file-size limit on the bot's process, raised again to free space), bytes
//! damaged on disk, the file deleted while the bot runs, another program's database, and
//! another process holding the write lock.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use metricord::error::STORAGE_FULL;

use crate::support::TestDb;

/// `metricord console` on a test database, typed into line by line.
struct Console {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Console {
    /// Starts the console; with `file_limit`, no file it writes may grow past that many bytes
    /// (`RLIMIT_FSIZE`, with SIGXFSZ ignored so that a write past it fails as on a full disk).
    fn start(db: &TestDb, file_limit: Option<u64>) -> Console {
        let mut command = Command::new(env!("CARGO_BIN_EXE_metricord"));
        command
            .args(["--database", &db.url(), "console"])
            .env("RUST_LOG", "off")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if let Some(bytes) = file_limit {
            // SAFETY: between fork and exec only async-signal-safe calls are made.
            unsafe {
                command.pre_exec(move || {
                    libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                    set_file_limit(0, bytes)
                });
            }
        }
        let mut child = command.spawn().expect("metricord starts");
        let input = child.stdin.take().expect("stdin");
        let output = BufReader::new(child.stdout.take().expect("stdout"));
        Console {
            child,
            input,
            output,
        }
    }

    /// Types `line` and returns the answer, up to its blank line.
    fn run(&mut self, line: &str) -> String {
        writeln!(self.input, "{line}").expect("the console reads");
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            if self
                .output
                .read_line(&mut line)
                .expect("the console answers")
                == 0
                || line == "\n"
            {
                return reply;
            }
            reply.push_str(&line);
        }
    }

    /// Sets how large a file the running console may write.
    fn limit_files(&self, bytes: u64) {
        set_file_limit(self.child.id() as libc::pid_t, bytes).expect("prlimit");
    }

    fn stop(mut self) {
        drop(self.input);
        self.child.wait().expect("the console ends");
    }
}

/// Sets `RLIMIT_FSIZE` of process `pid` (0: this one) to `bytes`.
fn set_file_limit(pid: libc::pid_t, bytes: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: `limit` outlives the call, and the old limit is not asked for.
    match unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, &limit, std::ptr::null_mut()) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

#[test]
fn a_full_disk_fails_each_write_clearly_and_writes_resume_once_space_is_back() {
    let db = TestDb::new();
    // The database, created and migrated, then a console that may not grow any file past
    // about 256 KiB: the write-ahead log reaches that after some writes, failing their commits.
    // The limit falls inside a write, not between two, so that the write fails part-way as
    // on a full disk (SQLITE_FULL) rather than not at all (EFBIG, an I/O error).
    Console::start(&db, None).stop();
    let mut console = Console::start(&db, Some(256 * 1024 + 1000));
    let log = |console: &mut Console, i: usize| {
        console.run(&format!(
            "/mentions mentions:{i} brand:\"Brand {i} with a name long enough to fill pages\" date:2026-11-02"
        ))
    };
    let mut stored = 0;
    let first_full = loop {
        let reply = log(&mut console, stored);
        if !reply.contains("Stored:") {
            break reply;
        }
        stored += 1;
        assert!(stored < 10_000, "the disk never filled");
    };
    assert!(first_full.contains(STORAGE_FULL), "{first_full}");
    // Still full: each later write fails the same clear way, not with a connection stuck in
    // the failed transaction.
    for i in 0..5 {
        let reply = log(&mut console, 100_000 + i);
        assert!(reply.contains(STORAGE_FULL), "{reply}");
    }
    // Space is back: the same process writes again, without a restart.
    console.limit_files(libc::RLIM_INFINITY);
    for i in 0..20 {
        let reply = log(&mut console, 200_000 + i);
        assert!(reply.contains("Stored:"), "after freeing: {reply}");
    }
    console.stop();

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let (integrity, values) = runtime.block_on(async {
        let store = db.store().await;
        let integrity = store.integrity_check().await.expect("checks");
        let values = store.snapshots(0, None, None).await.expect("reads").len();
        store.close().await;
        (integrity, values)
    });
    assert_eq!(integrity, "ok");
    assert_eq!(
        values,
        stored + 20,
        "every acknowledged write, and no other"
    );
    println!("full disk: {stored} writes fitted, 6 refused as full, 20 stored after freeing");
}
