//! Whether a file's path still names the open file SQLite writes (a file deleted, or
//! replaced or moved while open, takes what is written to it with it), and how much
//! room its file system has left.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::health::{Refusal, Unhealthy};

/// How thoroughly to check the files (see [`Health::verify_files`](crate::health::Health::verify_files)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Only that the open database file still has a name (`fstat`, no path lookup):
    /// catches it deleted, or replaced by a rename over it, which unlinks it. The sync
    /// thread's check after every sync.
    Linked,
    /// That each file's path still names it (`stat`): catches them deleted, replaced,
    /// moved away, or unlinked on a file system that keeps open files named (NFS
    /// renames them). `ping`'s check, and the sync thread's at most every
    /// [`PATH_CHECK_EVERY`].
    Path,
}

/// How often the sync thread checks the files' paths, the WAL's included (see
/// [`Check::Path`]): writes acknowledged within this long after the WAL is deleted may
/// be lost with it (as is everything it held since the last checkpoint).
pub(crate) const PATH_CHECK_EVERY: Duration = Duration::from_millis(10);

/// A file held open, to tell whether its path still names it: a file deleted or
/// replaced (renamed over) while SQLite writes it takes everything written since with
/// it. Holding it keeps its inode from being reused, so identities never collide.
#[derive(Debug)]
pub(crate) struct FileIdentity {
    what: &'static str,
    path: PathBuf,
    file: File,
    #[cfg(unix)]
    id: (u64, u64),
}

impl FileIdentity {
    /// `file`, opened on `path`; `what` names it in messages ("database file").
    pub(crate) fn new(what: &'static str, path: &Path, file: File) -> std::io::Result<Self> {
        #[cfg(unix)]
        let id = {
            use std::os::unix::fs::MetadataExt;
            let metadata = file.metadata()?;
            (metadata.dev(), metadata.ino())
        };
        Ok(Self {
            what,
            path: path.to_path_buf(),
            file,
            #[cfg(unix)]
            id,
        })
    }

    /// The file, opened read-only.
    pub(crate) fn open(what: &'static str, path: &Path) -> std::io::Result<Self> {
        Self::new(what, path, File::open(path)?)
    }

    /// The open file.
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// The path it was opened on.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Checks the open file is still linked (one `fstat`) and, for [`Check::Path`], that
    /// its path names it (one `stat`, symbolic links followed). Without unix file
    /// identities, nothing to compare: always fine.
    pub(crate) fn check(&self, check: Check) -> Result<(), Unhealthy> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let unverifiable = |error| Unhealthy::Unverifiable { file: self.what, error };
            if check == Check::Linked && self.file.metadata().map_err(unverifiable)?.nlink() > 0 {
                return Ok(());
            }
            match std::fs::metadata(&self.path) {
                Ok(metadata) if (metadata.dev(), metadata.ino()) == self.id => Ok(()),
                Ok(_) => Err(Unhealthy::Refused(Refusal::Replaced(self.what))),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    Err(Unhealthy::Refused(Refusal::Deleted(self.what)))
                }
                Err(error) => Err(unverifiable(error)),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = check;
            Ok(())
        }
    }

    /// Bytes available to this process on the file's file system (`None` where it
    /// cannot be told).
    #[cfg(unix)]
    pub(crate) fn available_space(&self) -> Option<u64> {
        match rustix::fs::fstatvfs(&self.file) {
            Ok(stat) => Some(stat.f_bavail.saturating_mul(stat.f_frsize)),
            Err(error) => {
                // Some file systems cannot tell; that is no reason to call the store unhealthy.
                tracing::debug!(%error, "could not measure the free space of the database's file system");
                None
            }
        }
    }

    /// Bytes available on the file's file system: not told here.
    #[cfg(not(unix))]
    pub(crate) fn available_space(&self) -> Option<u64> {
        None
    }
}
