//! [`FileSink`]: recordings as files under a directory.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;

use super::{Download, RecordingSink, RecordingSource, SinkError};
use crate::event::StoredRecording;

/// Writes each recording to `<dir>/<provider>/<call id>/<recording id or "recording">.<ext>`,
/// first to a temporary file that is synced and then renamed into place: a crash or a
/// failed download leaves no partial recording, and storing the same recording again
/// replaces the file instead of adding one.
///
/// Names come from the payload, so each is encoded to be safe, one-to-one and short:
/// `[A-Za-z0-9._-]` stay as they are (but a leading `.`), every other byte becomes
/// `%XX`, and a name longer than 120 bytes is cut to 87 and ends with `+` and a 128-bit
/// hash of the whole id. Different calls or recordings never share a file (`.` and
/// `..`, `a/b` and `a_b` are all different names), nothing escapes the directory, and no
/// id is too long to store. Letters keep their case: on a file system that ignores case
/// (macOS's and Windows' defaults), ids differing only in case would share a file, so
/// keep recordings on one that does not (provider ids seen so far never differ only in
/// case).
///
/// ```
/// use callhook::recording::FileSink;
/// let sink = FileSink::new("./recordings");
/// assert_eq!(sink.dir(), std::path::Path::new("./recordings"));
/// ```
#[derive(Clone, Debug)]
pub struct FileSink {
    dir: PathBuf,
}

impl FileSink {
    /// A sink writing under `dir` (created when needed).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_for(&self, source: &RecordingSource, content_type: Option<&str>) -> PathBuf {
        let stem = match source.recording_id.as_deref() {
            Some(id) => component(id, true),
            None => UNNAMED.to_owned(),
        };
        self.dir
            .join(component(source.provider.as_str(), false))
            .join(component(&source.call_id, false))
            .join(format!("{stem}.{}", extension(content_type, &source.url)))
    }
}

/// The file stem of a recording without an id of its own.
const UNNAMED: &str = "recording";
/// The longest encoded name kept whole, in bytes (file systems allow 255).
const MAX_NAME: usize = 120;
/// How much of a longer name is kept before `+` and its 32-digit hash.
const KEPT_PREFIX: usize = MAX_NAME - 33;

/// A path component for `id`: one-to-one (different ids, different components), never
/// empty, `.`, `..` or hidden, and at most [`MAX_NAME`] bytes. With `recording_id`, the
/// id `recording` is encoded too, so that it cannot take the place of [`UNNAMED`].
fn component(id: &str, recording_id: bool) -> String {
    let mut out = String::with_capacity(id.len());
    for (i, byte) in id.bytes().enumerate() {
        let kept = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_') || (byte == b'.' && i > 0);
        if kept && !(recording_id && i == 0 && id == UNNAMED) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    if out.is_empty() {
        // No id encodes to this: a `%` in an id is always escaped.
        return "%".to_owned();
    }
    if out.len() <= MAX_NAME {
        return out;
    }
    // `+` is escaped in every kept name, so a shortened one never equals a kept one.
    let mut cut = KEPT_PREFIX;
    while out.as_bytes()[cut - 1] == b'%' || out.as_bytes()[cut - 2] == b'%' {
        cut -= 1;
    }
    let digest = <sha2::Sha256 as sha2::Digest>::digest(id.as_bytes());
    format!("{}+{}", &out[..cut], hex::encode(&digest[..16]))
}

fn extension(content_type: Option<&str>, url: &str) -> &'static str {
    let mime = content_type.and_then(|ct| ct.split(';').next()).map(str::trim).unwrap_or_default().to_ascii_lowercase();
    match mime.as_str() {
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        "audio/ogg" | "audio/opus" => "ogg",
        "audio/webm" => "webm",
        "audio/mp4" | "audio/aac" => "m4a",
        _ if url.ends_with(".mp3") => "mp3",
        _ if url.ends_with(".wav") => "wav",
        _ => "bin",
    }
}

#[async_trait]
impl RecordingSink for FileSink {
    async fn store(&self, source: &RecordingSource, mut download: Download) -> Result<StoredRecording, SinkError> {
        let path = self.path_for(source, download.content_type.as_deref());
        let dir = path.parent().expect("the path has a call directory");
        tokio::fs::create_dir_all(dir).await?;
        let temporary = PartFile(Some(dir.join(format!(
            ".{}.part-{:016x}",
            path.file_name().expect("the path ends with a file name").to_string_lossy(),
            fastrand::u64(..)
        ))));
        // Created synchronously, so that no cancellation falls between the guard and
        // the file (a cancelled asynchronous create would finish after the guard).
        let file = std::fs::File::create(temporary.path())?;
        let written = async {
            let mut file = tokio::fs::File::from_std(file);
            let mut size = 0u64;
            while let Some(chunk) = download.body.chunk().await? {
                size += chunk.len() as u64;
                file.write_all(&chunk).await?;
            }
            file.sync_all().await?;
            Ok::<u64, SinkError>(size)
        }
        .await;
        // A failed write leaves nothing behind: the guard removes the partial file.
        let size = written?;
        tokio::fs::rename(temporary.path(), &path).await?;
        temporary.kept();
        // The rename is durable once the directory is synced.
        if let Ok(directory) = tokio::fs::File::open(dir).await {
            let _ = directory.sync_all().await;
        }
        Ok(StoredRecording::new(path.to_string_lossy(), size, download.content_type.clone()))
    }
}

/// A partial download's temporary file, removed when dropped unless it was kept (renamed
/// into place): also when the download is cancelled (a shutdown, a timeout).
struct PartFile(Option<PathBuf>);

impl PartFile {
    fn path(&self) -> &Path {
        self.0.as_deref().expect("a part file has its path until kept")
    }

    fn kept(mut self) {
        self.0 = None;
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ProviderId;

    fn path_of(call_id: &str, recording_id: Option<&str>) -> PathBuf {
        let mut source = RecordingSource::new(ProviderId::from_static("wavoip"), call_id, "https://x/a.mp3");
        source.recording_id = recording_id.map(str::to_owned);
        FileSink::new("/data/rec").path_for(&source, None)
    }

    #[test]
    fn payload_ids_cannot_escape_the_directory() {
        let path = path_of("../../etc/passwd", Some(".."));
        assert_eq!(path, Path::new("/data/rec/wavoip/%2E.%2F..%2Fetc%2Fpasswd/%2E..mp3"));
        assert!(path.starts_with("/data/rec"));
        assert_eq!(path.components().count(), Path::new("/data/rec/wavoip/c/r.mp3").components().count());
        assert_eq!(
            path_of("RE7", Some("RE7.a-b_c")),
            Path::new("/data/rec/wavoip/RE7/RE7.a-b_c.mp3"),
            "plain ids stay"
        );
    }

    #[test]
    fn different_ids_never_share_a_file() {
        let ids =
            [".", "..", "_", "%", "%2E", "a/b", "a_b", "a%2Fb", "a b", "a+b", "", "recording", "%72ecording", "é"];
        let mut paths = std::collections::HashSet::new();
        for call in ids {
            for recording in ids.iter().map(|id| Some(*id)).chain([None]) {
                assert!(paths.insert(path_of(call, recording)), "{call:?} {recording:?} shares a file");
            }
        }
        for call in ids {
            let path = path_of(call, None);
            for part in path.strip_prefix("/data/rec").unwrap().iter() {
                let part = part.to_str().unwrap();
                assert!(!part.is_empty() && !part.starts_with('.'), "{part:?}");
            }
        }
    }

    #[test]
    fn long_ids_are_shortened_with_a_hash_never_refused() {
        let long = "x".repeat(300);
        let other = format!("{}y", "x".repeat(299));
        let (a, b) = (path_of(&long, Some(&long)), path_of(&other, Some(&other)));
        assert_ne!(a, b, "same prefix, different ids");
        for part in a.iter().chain(b.iter()) {
            assert!(part.len() <= MAX_NAME + ".mp3".len(), "{} bytes", part.len());
        }
        // Escapes are never cut in half.
        let escaped = component(&"é".repeat(100), false);
        assert!(escaped.len() <= MAX_NAME);
        let kept = escaped.split('+').next().unwrap();
        assert!(kept.len().is_multiple_of(3) && kept.starts_with("%C3%A9"), "{kept}");
        // A short id never looks like a shortened one.
        assert_eq!(component("a+b", false), "a%2Bb");
    }

    #[test]
    fn extensions_follow_the_content_type_then_the_url() {
        assert_eq!(extension(Some("audio/mpeg"), "https://x/1"), "mp3");
        assert_eq!(extension(Some("audio/x-wav; rate=8000"), "https://x/1"), "wav");
        assert_eq!(extension(None, "https://x/1.wav"), "wav");
        assert_eq!(extension(Some("application/octet-stream"), "https://x/1"), "bin");
        assert_eq!(extension(Some("Audio/MPEG"), "https://x/1"), "mp3", "MIME types ignore case");
    }
}
