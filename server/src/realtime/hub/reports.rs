//! Relays' figures and connections for `sbctl admin`: asked over every attached stream,
//! gathered for a short while.

use std::sync::atomic::Ordering;
use std::time::Duration;

use switchboard_proto::v1::{self as pb, fanout_frame::Kind};
use tokio::sync::mpsc;

use super::{FanoutHub, encode};

/// How long `sbctl admin` waits for relays to report (well inside the window in which
/// controllers collect each other's reports).
const REPORT_TIMEOUT: Duration = Duration::from_millis(500);

impl FanoutHub {
    /// Asks every attached relay for its figures and connections; returns the answers that
    /// arrive within `REPORT_TIMEOUT` (a relay too busy to answer is left out).
    pub async fn relay_reports(&self, query: pb::ReportQuery) -> Vec<pb::RelayReport> {
        let request_id = self.next_report.fetch_add(1, Ordering::Relaxed);
        let frame =
            encode(Kind::ReportRequest(pb::ReportRequest { request_id, query: Some(query) }));
        let (asked, mut answered) = {
            let state = self.state.read().await;
            let (answers, answered) = mpsc::channel(state.relays.len().max(1));
            // Registered before asking, so that no answer arrives unexpected.
            self.pending_reports.lock().expect("reports lock").insert(request_id, answers);
            let relays = state.relays.values();
            (relays.filter(|link| link.sender.try_send(frame.clone()).is_ok()).count(), answered)
        };
        let mut reports = Vec::with_capacity(asked);
        let deadline = tokio::time::Instant::now() + REPORT_TIMEOUT;
        while reports.len() < asked {
            match tokio::time::timeout_at(deadline, answered.recv()).await {
                Ok(Some(report)) => reports.push(report),
                _ => break,
            }
        }
        self.pending_reports.lock().expect("reports lock").remove(&request_id);
        reports
    }

    /// A relay's answer to [`FanoutHub::relay_reports`].
    pub fn report_arrived(&self, report: pb::RelayReport) {
        let pending = self.pending_reports.lock().expect("reports lock");
        if let Some(answers) = pending.get(&report.request_id) {
            let _ = answers.try_send(report);
        }
    }
}
