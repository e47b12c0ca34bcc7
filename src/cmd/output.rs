//! The files commands write: `--output` reports, formatted policy files and
//! a new project's template.
//!
//! A file is written to a temporary file beside it (`.aims-XXXXXX.tmp`) and
//! renamed over it, so the target is either whole and new or untouched; a
//! symbolic link at the target is replaced, never written through. The
//! temporary is made when the command starts, before any work, so a folder
//! that cannot be written is refused at once, and it does not outlive the
//! command: it is removed when the command fails or is interrupted (SIGINT,
//! SIGTERM, SIGHUP), and, after a `kill -9`, by the next write into the same
//! folder. A live writer holds an exclusive lock on its temporary; one that
//! nobody holds is stale.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once};

/// A file about to be written: checked, its temporary made and locked.
pub struct Pending {
    target: PathBuf,
    /// The path as the operator wrote it, for messages.
    shown: String,
    how: How,
}

enum How {
    /// Through a temporary file and a rename.
    Atomic(tempfile::NamedTempFile<File>),
    /// Written in place: a character device, a pipe or a socket (`/dev/null`,
    /// `/dev/stdout`), which is not a file to replace.
    Stream,
}

/// Checks that `target` can be written and makes its temporary file; every
/// refusal happens here, before the command does any work.
pub fn prepare(target: &Path) -> Result<Pending, String> {
    let shown = target.display().to_string();
    let Some(name) = target.file_name() else { return Err(format!("`{shown}` is not a file name")) };
    let folder = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match std::fs::metadata(folder) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(format!("cannot write `{shown}`: `{}` is not a folder", folder.display())),
        Err(e) => return Err(format!("cannot write `{shown}`: the folder `{}`: {}", folder.display(), reason(&e))),
    }
    let target = folder.join(name);
    if let Ok(meta) = std::fs::metadata(&target) {
        if meta.is_dir() {
            return Err(format!("cannot write `{shown}`: it is a folder"));
        }
        if !meta.is_file() {
            return Ok(Pending { target, shown, how: How::Stream });
        }
    }
    check_replaceable(folder, &target).map_err(|why| format!("cannot write `{shown}`: {why}"))?;
    remove_stale_temporaries(folder);
    let temp = make_temporary(folder).map_err(|e| format!("cannot write `{shown}`: {}", reason(&e)))?;
    Ok(Pending { target, shown, how: How::Atomic(temp) })
}

impl Pending {
    /// Writes the file (piece by piece: a large report is never held whole).
    pub fn write(mut self, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), String> {
        let shown = self.shown.clone();
        self.write_inner(write).map_err(|e| format!("cannot write `{shown}`: {}", reason(&e)))
    }

    fn write_inner(&mut self, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> std::io::Result<()> {
        let temp = match &mut self.how {
            How::Stream => {
                let mut out = std::io::BufWriter::new(std::fs::OpenOptions::new().write(true).open(&self.target)?);
                write(&mut out)?;
                return out.flush();
            }
            How::Atomic(temp) => temp,
        };
        {
            let mut out = std::io::BufWriter::new(temp.as_file_mut());
            write(&mut out)?;
            out.flush()?;
        }
        temp.as_file().sync_all()?;
        // A temporary file is private (0600); the result keeps the
        // permissions of the file it replaces, or gets the usual ones.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let permissions = match std::fs::symlink_metadata(&self.target) {
                Ok(meta) if meta.is_file() => meta.permissions(),
                _ => std::fs::Permissions::from_mode(0o644),
            };
            temp.as_file().set_permissions(permissions)?;
        }
        let How::Atomic(temp) = std::mem::replace(&mut self.how, How::Stream) else { return Ok(()) };
        let path = temp.path().to_path_buf();
        // The rename replaces a symbolic link at the target, not its target.
        let persisted = temp.persist(&self.target);
        forget(&path);
        persisted.map(drop).map_err(|e| e.error)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let How::Atomic(temp) = &self.how {
            forget(temp.path());
        }
        // The temporary itself is removed by `NamedTempFile`'s own drop.
    }
}

/// Writes `text` to `path` atomically (for files the command itself picks).
pub fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    prepare(path)?.write(|w| w.write_all(text.as_bytes()))
}

/// What a rename over `target` needs besides a writable folder: in a
/// sticky folder (`/tmp`), an existing file must be the writer's own.
#[cfg(unix)]
fn check_replaceable(folder: &Path, target: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let (Ok(dir), Ok(existing)) = (std::fs::metadata(folder), std::fs::symlink_metadata(target)) else {
        return Ok(());
    };
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if dir.mode() & 0o1000 != 0 && me != 0 && existing.uid() != me && dir.uid() != me {
        return Err(format!(
            "`{}` belongs to another user in a folder where only its owner may replace it",
            target.display()
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_replaceable(_folder: &Path, _target: &Path) -> Result<(), String> {
    Ok(())
}

/// Creates a file that did not exist, readable by its owner only.
fn create_new_private(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// A new temporary file in `folder`, locked while this process lives.
fn make_temporary(folder: &Path) -> std::io::Result<tempfile::NamedTempFile<File>> {
    let mut attempts = 0;
    loop {
        // Remembered before it exists: a signal at any moment after its
        // creation finds it in the list.
        let temp = tempfile::Builder::new().prefix(".aims-").suffix(".tmp").make_in(folder, |path| {
            remember(path);
            let created = create_new_private(path);
            if created.is_err() {
                forget(path);
            }
            created
        })?;
        // Between its creation and its lock, another run's sweep may take
        // the new file for a stale one and remove it: then make another.
        if lock(temp.as_file()) && same_file(temp.as_file(), temp.path()) || attempts == 3 {
            return Ok(temp);
        }
        forget(temp.path());
        attempts += 1;
    }
}

/// Without advisory locks, a live temporary cannot be told from a stale one.
#[cfg(not(unix))]
fn remove_stale_temporaries(_folder: &Path) {}

/// Removes the `.aims-*.tmp` files in `folder` that no live writer holds
/// (left by a run killed with SIGKILL, or by a power cut); once per folder.
#[cfg(unix)]
fn remove_stale_temporaries(folder: &Path) {
    use std::collections::HashSet;
    static SWEPT: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let key = folder.canonicalize().unwrap_or_else(|_| folder.to_path_buf());
    if !guard(&SWEPT).get_or_insert_with(HashSet::new).insert(key) {
        return;
    }
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(".aims-") && name.ends_with(".tmp")) {
            continue;
        }
        let path = entry.path();
        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
            continue;
        }
        let Ok(file) = open_without_following(&path) else { continue };
        if lock(&file) && same_file(&file, &path) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(unix)]
fn open_without_following(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)
}

/// Takes the exclusive lock on `file` if no one holds it. It lasts as long
/// as the file stays open (for the temporary: until it is renamed).
#[cfg(unix)]
fn lock(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the duration of the call.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn lock(_file: &File) -> bool {
    true
}

/// Whether `path` still names the file open as `file`.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, _path: &Path) -> bool {
    true
}

/// The temporaries of this process, removed if it is interrupted.
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn guard<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn remember(path: &Path) {
    // The handler is in place before the file exists.
    on_interrupt_remove_temporaries();
    guard(&TEMPORARIES).push(path.to_path_buf());
}

fn forget(path: &Path) {
    guard(&TEMPORARIES).retain(|p| p != path);
}

/// On SIGINT, SIGTERM or SIGHUP: remove the temporaries, then die of the
/// signal as if it had not been caught (the exit status tells the caller).
fn on_interrupt_remove_temporaries() {
    static INSTALLED: Once = Once::new();
    #[cfg(unix)]
    INSTALLED.call_once(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else { return };
        let _ = std::thread::Builder::new().name("aims-signals".into()).spawn(move || {
            if let Some(signal) = signals.forever().next() {
                for path in guard(&TEMPORARIES).drain(..) {
                    let _ = std::fs::remove_file(path);
                }
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        });
    });
    #[cfg(not(unix))]
    INSTALLED.call_once(|| {});
}

/// An I/O error in the words of the other messages.
fn reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("read dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_refused_write_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pending = prepare(&dir.path().join("out.txt")).expect("prepared");
        assert_eq!(listing(dir.path()).len(), 1, "the temporary exists while the command works");
        let failed = pending.write(|_| Err(std::io::Error::other("disk full")));
        assert!(failed.is_err_and(|e| e.contains("disk full")));
        assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
    }

    #[cfg(unix)]
    #[test]
    fn a_stale_temporary_is_removed_and_a_live_one_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(".aims-stale1.tmp"), "half a report").expect("write");
        let live = dir.path().join(".aims-live01.tmp");
        let held = File::create(&live).expect("create");
        assert!(lock(&held), "a live writer holds its temporary");
        std::fs::write(dir.path().join("other.tmp"), "not ours").expect("write");
        let pending = prepare(&dir.path().join("out.txt")).expect("prepared");
        pending.write(|w| w.write_all(b"new")).expect("written");
        assert_eq!(listing(dir.path()), [".aims-live01.tmp", "other.tmp", "out.txt"]);
        drop(held);
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().expect("temp dir");
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "precious").expect("write");
        let link = dir.path().join("report.txt");
        std::os::unix::fs::symlink(&victim, &link).expect("symlink");
        write_atomically(&link, "report").expect("written");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
        assert!(!std::fs::symlink_metadata(&link).expect("meta").file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&link).expect("read"), "report");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_in_place() {
        write_atomically(Path::new("/dev/null"), "nothing").expect("written");
        assert!(!std::fs::metadata("/dev/null").expect("meta").is_file(), "still the device");
    }

    #[test]
    fn a_missing_folder_or_a_folder_target_is_refused_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = prepare(&dir.path().join("no/such/out.txt")).err().expect("refused");
        assert!(missing.contains("no such file or folder"), "{missing}");
        let folder = prepare(dir.path()).err().expect("refused");
        assert!(folder.contains("is a folder") || folder.contains("not a file name"), "{folder}");
        assert!(listing(dir.path()).is_empty());
    }
}
