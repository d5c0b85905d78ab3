//! [`FileSink`]: recordings as files under a directory.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;

use super::{Download, RecordingSink, RecordingSource, SinkError};
use crate::event::StoredRecording;

/// Writes each recording to `<dir>/<provider>/<call id>/<recording id or "recording">.<ext>`
/// (names reduced to `[A-Za-z0-9._-]`, so a payload cannot steer the path), first to a
/// temporary file that is synced and then renamed into place: a crash or a failed
/// download leaves no partial recording, and storing the same recording again replaces
/// the file instead of adding one.
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
        let name = source.recording_id.as_deref().unwrap_or("recording");
        self.dir.join(safe(source.provider.as_str())).join(safe(&source.call_id)).join(format!(
            "{}.{}",
            safe(name),
            extension(content_type, &source.url)
        ))
    }
}

/// A path component made only of `[A-Za-z0-9._-]`, never `.` or `..`.
fn safe(name: &str) -> String {
    let cleaned: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    match cleaned.trim_matches('.') {
        "" => "_".to_owned(),
        trimmed => trimmed.to_owned(),
    }
}

fn extension(content_type: Option<&str>, url: &str) -> &'static str {
    let mime = content_type.and_then(|ct| ct.split(';').next()).map(str::trim).unwrap_or_default();
    match mime {
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
        let temporary =
            dir.join(format!(".{}.part-{:016x}", path.file_name().unwrap().to_string_lossy(), fastrand::u64(..)));
        let written = async {
            let mut file = tokio::fs::File::create(&temporary).await?;
            let mut size = 0u64;
            while let Some(chunk) = download.body.chunk().await? {
                size += chunk.len() as u64;
                file.write_all(&chunk).await?;
            }
            file.sync_all().await?;
            Ok::<u64, SinkError>(size)
        }
        .await;
        let size = match written {
            Ok(size) => size,
            Err(error) => {
                let _ = tokio::fs::remove_file(&temporary).await;
                return Err(error);
            }
        };
        tokio::fs::rename(&temporary, &path).await?;
        // The rename is durable once the directory is synced.
        if let Ok(directory) = tokio::fs::File::open(dir).await {
            let _ = directory.sync_all().await;
        }
        Ok(StoredRecording::new(path.to_string_lossy(), size, download.content_type.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ProviderId;

    #[test]
    fn payload_ids_cannot_escape_the_directory() {
        let sink = FileSink::new("/data/rec");
        let mut source = RecordingSource::new(ProviderId::from_static("wavoip"), "../../etc/passwd", "https://x/a.mp3");
        source.recording_id = Some("..".into());
        let path = sink.path_for(&source, None);
        assert_eq!(path, Path::new("/data/rec/wavoip/_.._etc_passwd/_.mp3"));
        assert!(path.starts_with("/data/rec"));
    }

    #[test]
    fn extensions_follow_the_content_type_then_the_url() {
        assert_eq!(extension(Some("audio/mpeg"), "https://x/1"), "mp3");
        assert_eq!(extension(Some("audio/x-wav; rate=8000"), "https://x/1"), "wav");
        assert_eq!(extension(None, "https://x/1.wav"), "wav");
        assert_eq!(extension(Some("application/octet-stream"), "https://x/1"), "bin");
    }
}
