//! One etcd watch per replica on every token's entries, so that a wait parked here is answered
//! by a write through another replica. Each change is handed to the `Observer` (the token
//! cache) by token; the watch resumes from the revision after the last one seen when its
//! stream breaks (a member killed, stopped or cut off from its leader), and when etcd has
//! compacted past that revision the observer hears that it missed changes and reads every
//! token again.

use std::sync::Arc;
use std::time::Duration;

use shared::lifecycle::Entry;
use shared::Token;
use tokio::sync::watch;

use super::client::Client;
use super::{range_end, Layout};
use crate::proto::etcdserverpb::watch_request::RequestUnion;
use crate::proto::etcdserverpb::{WatchCreateRequest, WatchRequest, WatchResponse};
use crate::proto::mvccpb::event::EventType;
use crate::store::Observer;

/// Pause before watching again after the watch failed.
const RETRY: Duration = Duration::from_millis(300);

pub async fn run(
    client: Arc<Client>,
    layout: Layout,
    observer: Arc<dyn Observer>,
    mut stop: watch::Receiver<bool>,
) {
    // The first revision not yet seen; `None` until the first watch says where it started.
    let mut next: Option<i64> = None;
    let mut failing = false;
    loop {
        if *stop.borrow() {
            return;
        }
        let prefix = layout.tokens();
        let create = WatchCreateRequest {
            range_end: range_end(&prefix),
            key: prefix,
            start_revision: next.unwrap_or(0),
            progress_notify: true,
            ..WatchCreateRequest::default()
        };
        let first = WatchRequest {
            request_union: Some(RequestUnion::CreateRequest(create)),
        };
        let mut watching = match client.watch(first).await {
            Ok(s) => s,
            Err(t) => {
                if !failing {
                    tracing::warn!("watching the store: {t}; trying again");
                    failing = true;
                }
                tokio::select! {
                    _ = tokio::time::sleep(RETRY) => continue,
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        };
        loop {
            let message = tokio::select! {
                m = watching.stream.message() => m,
                _ = stop.wait_for(|s| *s) => return,
            };
            let response = match message {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(status) => {
                    if !failing {
                        tracing::warn!("the store's watch broke ({}); resuming", status.message());
                        failing = true;
                    }
                    break;
                }
            };
            if response.compact_revision > 0 {
                tracing::warn!(
                    "the store compacted past revision {} before this replica saw it: reading every token again",
                    next.unwrap_or(0)
                );
                observer.missed();
                next = None;
                break;
            }
            if response.canceled {
                tracing::warn!(
                    "the store's watch was canceled ({}); resuming",
                    response.cancel_reason
                );
                break;
            }
            if response.created {
                // Said every time, so that an operator (and the fault tests) can tell which
                // member a replica's watch is on.
                tracing::info!("watching the store's changes through {}", watching.endpoint);
                failing = false;
            }
            next = Some(take(&layout, &response, observer.as_ref(), next));
        }
        tokio::select! {
            _ = tokio::time::sleep(RETRY) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Hands one watch response's changes to the observer; the first revision not yet seen after.
fn take(layout: &Layout, r: &WatchResponse, observer: &dyn Observer, next: Option<i64>) -> i64 {
    let header = r.header.as_ref().map_or(0, |h| h.revision);
    let mut next = next.unwrap_or(header + 1);
    if r.events.is_empty() {
        // Created, or a progress report: everything up to the header's revision is seen.
        return next.max(header + 1);
    }
    // Events of one token come together, in revision order: one hand-over for each run.
    let mut run: Option<(Token, Vec<Entry>)> = None;
    for event in &r.events {
        let Some(kv) = &event.kv else { continue };
        next = next.max(kv.mod_revision + 1);
        let Some((token, key)) = layout.parse_entry(&kv.key) else {
            continue;
        };
        if run.as_ref().is_some_and(|(t, _)| *t != token) {
            if let Some((t, entries)) = run.take() {
                observer.written_elsewhere(t, entries);
            }
        }
        // Entries are only ever added, and deleted all together at the token's end: a deleted
        // or rewritten one means what is stored moved on in a way events cannot tell (the end,
        // or a repair by hand), and the token is read again.
        if event.r#type == EventType::Delete as i32 || kv.version > 1 {
            if let Some((t, entries)) = run.take() {
                observer.written_elsewhere(t, entries);
            }
            observer.deleted_elsewhere(token);
            continue;
        }
        let Ok(value) = String::from_utf8(kv.value.clone()) else {
            continue;
        };
        run.get_or_insert_with(|| (token, Vec::new()))
            .1
            .push((key, value));
    }
    if let Some((t, entries)) = run {
        observer.written_elsewhere(t, entries);
    }
    next
}
