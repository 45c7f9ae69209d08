//! Local files that metricord reads and writes for an operator: settings, benchmarks, files named
//! for an attachment option, exports and charts written to disk.
//!
//! A path typed by an operator can name anything: `/dev/zero`, a FIFO nobody writes to, a
//! terabyte file, a dangling symbolic link where an export goes. So a file is read only if it is
//! a regular file, checked on the opened handle (opened without blocking, so a FIFO cannot stall
//! the open), and never past a cap, whatever size it claims. A file is written new: an existing
//! file or a link in its place is never written through, and replacing one is asked for
//! explicitly and replaces the link itself, not what it points to.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Settings and benchmark files are a few kilobytes; anything over this is not one.
pub const MAX_SETTINGS_BYTES: u64 = 1024 * 1024;

/// The bytes of the regular file at `path`, if it holds at most `limit` bytes. A device, a FIFO,
/// a socket or a folder is refused without reading from it; the read stops one byte past
/// `limit` whatever the file claims its size is (a file can grow while it is read).
pub fn read_regular(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Opening a FIFO for reading blocks until a writer comes; without blocking it opens at once
    // and is then refused below. Reads of a regular file are not affected by the flag.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    let too_large = || std::io::Error::other(format!("it is larger than {}", size(limit)));
    if metadata.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The text of the regular file at `path`, of at most `limit` bytes, as UTF-8.
pub fn read_text(path: &Path, limit: u64) -> std::io::Result<String> {
    String::from_utf8(read_regular(path, limit)?)
        .map_err(|_| std::io::Error::other("it is not UTF-8 text"))
}

/// A byte count as people read it: `64 MB`, `1 MB`, `512 KB`.
fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MB", bytes / 1024 / 1024)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// Writes `bytes` to a new file at `path`. Without `replace`, an existing file, folder or link
/// (even a dangling one) at `path` is an `AlreadyExists` error and nothing is written. With
/// `replace`, the bytes go to a new file beside it that is then renamed over `path`: a link at
/// `path` is replaced, never followed, and a reader never sees half a file.
pub fn write_new(path: &Path, bytes: &[u8], replace: bool) -> std::io::Result<()> {
    if !replace {
        return write_created(path, bytes);
    }
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("it names no file"))?;
    let staging = path.with_file_name(format!(
        ".{}.{}.partial",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = write_created(&staging, bytes).and_then(|()| std::fs::rename(&staging, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&staging);
    }
    written
}

/// Creates `path` (failing if anything is there, a link included) and writes `bytes` into it.
fn write_created(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates `folder/name`, or `folder/name-2`, `-3`... if taken, and writes `bytes` into it: a
/// second chart must not overwrite the first one the user is still looking at. Only the file
/// name of `name` is used, so a name from a reply never chooses the folder.
pub fn write_numbered(folder: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(folder)?;
    let name = Path::new(name);
    let stem = name
        .file_stem()
        .map_or_else(|| "file".into(), |s| s.to_string_lossy().into_owned());
    let extension = name
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let mut n = 1;
    loop {
        let path = if n == 1 {
            folder.join(format!("{stem}{extension}"))
        } else {
            folder.join(format!("{stem}-{n}{extension}"))
        };
        match write_created(&path, bytes) {
            Ok(()) => return Ok(path),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => n += 1,
            Err(err) => return Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_folders_and_fifos_are_refused_without_reading_them() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        for path in [
            Path::new("/dev/zero"),
            Path::new("/dev/urandom"),
            dir.path(),
            &fifo,
        ] {
            let err = read_regular(path, 1024).unwrap_err();
            assert_eq!(err.to_string(), "it is not a regular file", "{path:?}");
        }
    }

    #[test]
    fn a_file_over_the_cap_is_refused_whatever_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let sparse = dir.path().join("huge.toml");
        // A terabyte that takes no space: refused by its size, never read.
        std::fs::File::create(&sparse)
            .unwrap()
            .set_len(1 << 40)
            .unwrap();
        let err = read_regular(&sparse, MAX_SETTINGS_BYTES).unwrap_err();
        assert_eq!(err.to_string(), "it is larger than 1 MB");
        let small = dir.path().join("small.toml");
        std::fs::write(&small, "x".repeat(2048)).unwrap();
        assert!(read_regular(&small, 1024).is_err());
        assert_eq!(read_regular(&small, 2048).unwrap().len(), 2048);
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_is_never_written_through_a_link_and_replacing_replaces_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        let link = dir.path().join("export.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = write_new(&link, b"rows", false).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert!(!target.exists(), "written through a dangling link");
        write_new(&link, b"rows", true).unwrap();
        assert!(!target.exists(), "replacing followed the link");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
        assert_eq!(std::fs::read(&link).unwrap(), b"rows");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no leftovers"
        );
    }
}
