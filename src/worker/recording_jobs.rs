//! The worker's recording jobs: scheduling a download or a poll after a call's event
//! is processed, running them, and recording the outcome in the event log.

use serde_json::json;
use time::OffsetDateTime;

use super::{Alert, Worker, WorkerError};
use crate::event::{CallEvent, Event, ProviderError, ProviderId, Recording, RecordingStatus, StoredRecording};
use crate::event_log::{Appended, NewDelivery, NewEvent, Verification};
use crate::job_queue::{ClaimedJob, NewJob};
use crate::recording::{Outcome, Recordings};
use crate::state::CallState;

/// The path of the deliveries callhook writes itself (recording outcomes).
const INTERNAL_PATH: &str = "/callhook/recordings";
/// The event type prefix of recording outcomes (`callhook.recording.stored`, `.failed`).
const OUTCOME_PREFIX: &str = "callhook.recording.";

/// Whether `event_type` is a recording outcome callhook recorded itself.
pub(super) fn is_outcome(event_type: &str) -> bool {
    event_type.starts_with(OUTCOME_PREFIX)
}

impl Worker {
    /// After a call's event, received at `seen_at`: schedule a download if its
    /// recording is ready, a poll if the call ended with its recording still being
    /// made. Failures are logged: the next event of the call, or a reprocess, tries again.
    pub(super) async fn follow_recording(&self, provider: &ProviderId, call_id: &str, seen_at: OffsetDateTime) {
        let inner = &self.inner;
        let Some(recordings) = &inner.recordings else { return };
        let call = match inner.storage.call_state(provider, call_id).await {
            Ok(Some(call)) => call,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%error, %provider, call_id, "could not read the call to follow its recording");
                return;
            }
        };
        let Some(download_now) = Recordings::wanted(&call) else { return };
        let now = inner.clock.now();
        let deadline = Some(recordings.deadline(&call, seen_at, now));
        let job = if download_now {
            NewJob::fetch_recording(provider.clone(), call_id, now)
        } else {
            NewJob::poll_recording(provider.clone(), call_id, now + recordings.first_poll_after)
        };
        match inner.scheduler.schedule(job.with_deadline(deadline)).await {
            Ok(Some(_)) => inner.recordings_scheduled.store(true, std::sync::atomic::Ordering::Release),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, %provider, call_id, "could not schedule the recording job"),
        }
    }

    /// Runs a download or poll job.
    pub(super) async fn retrieve_recording(
        &self,
        claim: &ClaimedJob,
        provider: &ProviderId,
        call_id: &str,
    ) -> Result<(), WorkerError> {
        let inner = &self.inner;
        let Some(recordings) = &inner.recordings else {
            inner.scheduler.fail(claim, "recording retrieval is not configured on this worker").await?;
            return Ok(());
        };
        let Some(call) = inner.storage.call_state(provider, call_id).await? else {
            inner.scheduler.fail(claim, "the call is not in the event log").await?;
            return Ok(());
        };
        match recordings.retrieve(&call).await {
            Outcome::Stored(stored) => {
                tracing::info!(location = %stored.location, size = stored.size_bytes, "recording stored");
                self.record_outcome(&call, Ok(stored)).await?;
                inner.scheduler.complete(claim).await?;
            }
            Outcome::Nothing => inner.scheduler.complete(claim).await?,
            Outcome::NotYet(reason) => {
                let now = inner.clock.now();
                let failures = claim.job.failed_attempts + 1;
                match recordings.next_try(failures, now, claim.job.deadline) {
                    Some(next) => {
                        tracing::info!(%reason, %next, "recording not available yet");
                        inner.scheduler.retry(claim, next, &reason).await?;
                    }
                    None => {
                        let reason = format!("no recording by the deadline, after {failures} tries: {reason}");
                        self.give_up(claim, &call, reason).await?;
                    }
                }
            }
            Outcome::Refused(reason) => self.give_up(claim, &call, reason).await?,
        }
        Ok(())
    }

    async fn give_up(&self, claim: &ClaimedJob, call: &CallState, reason: String) -> Result<(), WorkerError> {
        tracing::error!(%reason, "recording failed");
        let event = self.record_outcome(call, Err(reason.clone())).await?;
        self.inner.scheduler.fail(claim, &reason).await?;
        if let Some(event) = event {
            self.inner.alert.alert(&Alert { event, error: reason }).await;
        }
        Ok(())
    }

    /// Appends the outcome as an event of the call (folding it into the call's state)
    /// and schedules its processing; returns the stored event when it is new.
    async fn record_outcome(
        &self,
        call: &CallState,
        outcome: Result<StoredRecording, String>,
    ) -> Result<Option<crate::event_log::EventRecord>, WorkerError> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let mut recording = call.recording.clone().unwrap_or_else(|| Recording::new(RecordingStatus::Processing));
        let (name, body) = match outcome {
            Ok(stored) => {
                recording.status = RecordingStatus::Ready;
                let body = json!({"call_id": call.call_id, "outcome": "stored", "stored": stored});
                recording.stored = Some(stored);
                ("stored", body)
            }
            Err(reason) => {
                // Ready at the provider but not stored here stays "ready" with our
                // error; otherwise the recording failed.
                if recording.status != RecordingStatus::Ready {
                    recording.status = RecordingStatus::Failed;
                }
                let mut error = ProviderError::with_code("callhook.recording");
                error.message = Some(reason.clone());
                recording.error = Some(error);
                ("failed", json!({"call_id": call.call_id, "outcome": "failed", "error": reason}))
            }
        };
        let mut event = CallEvent::new(call.provider.clone(), call.call_id.clone());
        event.recording = Some(recording);
        event.occurred_at = Some(now);
        let mut delivery = NewDelivery::new(call.provider.clone(), INTERNAL_PATH, now, body.to_string());
        delivery.method = "CALLHOOK".into();
        delivery.verification = Verification::Skipped;
        delivery.headers = vec![("content-type".into(), "application/json".into())];
        let event_type = format!("{OUTCOME_PREFIX}{name}");
        let key = format!("{event_type}:{}", call.call_id);
        let outcome =
            inner.storage.append(delivery, vec![NewEvent::parsed(event_type, key, Event::Call(event))]).await?;
        let Some(Appended::Inserted(id)) = outcome.events.first().copied() else { return Ok(None) };
        if let Err(error) = inner.scheduler.schedule(NewJob::process_event(id, now)).await {
            tracing::warn!(%error, event_id = %id, "recording outcome stored but not scheduled; recover() will");
        }
        Ok(inner.storage.event(id).await?.map(|detail| detail.event))
    }
}
