//! Writing outputs: CSV serialization, atomic file replacement, and
//! reports written whole or not at all ([`Transaction`]).

use serde::Serialize;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Serializes rows as CSV into memory.
pub fn to_csv<T: Serialize>(rows: &[T]) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(io::Error::other)?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, flushed and synced, then renamed over the target, so a
/// reader never sees a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("output path has no file name"))?;
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A report folder replaced whole or not at all.
///
/// The new report is written into a staging folder next to the target
/// (`.NAME.staging-PID`); [`Transaction::commit`] then links in what the
/// old report had that this run does not rewrite (other scenarios' folders),
/// and swaps the staging folder with the target in one step (Linux's
/// `renameat2(RENAME_EXCHANGE)`; elsewhere two renames with the old folder
/// kept aside until the new one is in place). A reader sees the whole old
/// report or the whole new one. A lock file (`.NAME.lock`, holding the PID)
/// keeps two runs from writing the same folder; a run that finds the lock
/// of a live process fails with a message, and one that finds the lock or
/// staging folders of a dead process (killed) removes them.
pub struct Transaction {
    out: PathBuf,
    staging: PathBuf,
    lock: PathBuf,
    done: bool,
}

/// Whether process `pid` still runs (Linux: its /proc entry exists;
/// elsewhere every process is assumed alive, so stale locks are reported,
/// not broken).
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

fn hidden(parent: &Path, name: &str, what: &str) -> PathBuf {
    parent.join(format!(".{name}.{what}"))
}

impl Transaction {
    /// Locks `out` (a folder, created if missing) and opens a staging
    /// folder next to it.
    pub fn begin(out: &Path) -> io::Result<Transaction> {
        std::fs::create_dir_all(out)?;
        let abs = std::fs::canonicalize(out)?;
        let (Some(parent), Some(name)) = (abs.parent(), abs.file_name()) else {
            return Err(io::Error::other("the output folder may not be the root"));
        };
        let name = name.to_string_lossy().into_owned();
        let lock = hidden(parent, &name, "lock");
        take_lock(&lock)?;
        let me = std::process::id();
        // Staging folders and old reports left by killed runs.
        if let Ok(entries) = std::fs::read_dir(parent) {
            for e in entries.flatten() {
                let file = e.file_name().to_string_lossy().into_owned();
                let pid = [".staging-", ".old-"].iter().find_map(|tag| {
                    let rest = file.strip_prefix(&format!(".{name}{tag}"))?;
                    rest.parse::<u32>().ok()
                });
                if pid.is_some_and(|p| p != me && !alive(p)) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let staging = hidden(parent, &name, &format!("staging-{me}"));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging)?;
        Ok(Transaction {
            out: abs,
            staging,
            lock,
            done: false,
        })
    }

    /// The folder to write the new report into.
    pub fn dir(&self) -> &Path {
        &self.staging
    }

    /// Links into the staging folder what the old report holds and the
    /// new one does not (yet): other scenarios' folders, old top-level
    /// files. A file written over such a link afterwards (with
    /// [`write_atomic`], which renames) replaces the link only; the old
    /// report is never touched. [`Transaction::commit`] does this too, for
    /// what is still missing.
    pub fn keep_previous(&self) -> io::Result<()> {
        for e in std::fs::read_dir(&self.out)?.flatten() {
            let to = self.staging.join(e.file_name());
            if !to.exists() && !e.file_name().to_string_lossy().starts_with('.') {
                link_tree(&e.path(), &to)?;
            }
        }
        Ok(())
    }

    /// Keeps what the old report holds and the new one does not, then
    /// puts the new report in place of the old in one step.
    pub fn commit(self) -> io::Result<()> {
        self.keep_previous()?;
        self.commit_replacing()
    }

    /// Puts the new folder in place of the old in one step, keeping
    /// nothing of the old (a shard's partial results, which must hold
    /// exactly what their manifest lists).
    pub fn commit_replacing(mut self) -> io::Result<()> {
        sync_dir(&self.staging);
        swap(&self.staging, &self.out)?;
        self.done = true;
        // The staging path now holds the old report.
        let _ = std::fs::remove_dir_all(&self.staging);
        Ok(())
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
        let _ = std::fs::remove_file(&self.lock);
    }
}

fn take_lock(lock: &Path) -> io::Result<()> {
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(lock)
        {
            Ok(mut f) => {
                f.write_all(std::process::id().to_string().as_bytes())?;
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(lock).unwrap_or_default();
                match holder.trim().parse::<u32>() {
                    Ok(pid) if alive(pid) => {
                        return Err(io::Error::other(format!(
                            "another fdsim (process {pid}) is writing this report; wait for it \
                             to finish, or remove {} if that process is gone",
                            lock.display()
                        )))
                    }
                    // The lock of a killed run.
                    _ => std::fs::remove_file(lock)?,
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "cannot take the lock {}",
        lock.display()
    )))
}

/// Recreates the tree at `from` under `to` with hard links (copies where
/// links are refused).
fn link_tree(from: &Path, to: &Path) -> io::Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for e in std::fs::read_dir(from)?.flatten() {
            link_tree(&e.path(), &to.join(e.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(|_| ()))
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Exchanges the folders `a` and `b` atomically.
#[cfg(target_os = "linux")]
fn swap(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other);
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: both are valid NUL-terminated paths; the call only reads them.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        let e = io::Error::last_os_error();
        // File systems without exchange: fall back to two renames.
        if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) {
            swap_by_renames(a, b)
        } else {
            Err(e)
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn swap(a: &Path, b: &Path) -> io::Result<()> {
    swap_by_renames(a, b)
}

/// `b` aside, `a` in its place, the old `b` where `a` was.
fn swap_by_renames(a: &Path, b: &Path) -> io::Result<()> {
    let aside = b.with_file_name(format!(
        ".{}.old-{}",
        b.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    std::fs::rename(b, &aside)?;
    if let Err(e) = std::fs::rename(a, b) {
        let _ = std::fs::rename(&aside, b);
        return Err(e);
    }
    std::fs::rename(&aside, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("fdsim-atomic-{}", std::process::id()));
        let path = dir.join("out.csv");
        write_atomic(&path, b"a,b\n").unwrap();
        write_atomic(&path, b"c,d\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"c,d\n");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
