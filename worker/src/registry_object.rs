//! Each token's registry lives in one Durable Object: a single owner with transactional storage,
//! so racing members all see one order. Storage holds the token's entries in the layout
//! `shared::lifecycle` defines (`meta`, `e/<index>`); memory holds the `TokenState` rebuilt from
//! them and the parked waits. The object only stores, times and delivers; the rules are shared.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use futures_channel::oneshot;
use futures_util::future::{select, Either};
use shared::http::Response as Answer;
use shared::lifecycle::{event_entries, Alarm, Entry, Meta, TokenState, META_KEY};
use shared::registry::{Answer as Step, Event, WaitId};
use shared::v2::{RawRequest, Reply};
use shared::{Limits, Token};
use worker::js_sys::futures::JsFuture;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::{self, web_sys};
use worker::{
    durable_object, js_sys, Date, Delay, DurableObject, Env, Method, Request, RequestInit,
    Response, Result, State,
};

use crate::http::{to_raw, to_worker};

/// Hands a keys request to its token's object. Only the paths built here reach the object, and
/// the object's answer goes back as it is. A PUT's body is checked here, so that a refused one
/// never reaches the object.
pub async fn forward(
    req: web_sys::Request,
    query: Option<&str>,
    env: &Env,
    token: Token,
    key: &str,
) -> Result<web_sys::Response> {
    let method = req.method();
    let mut target = format!("https://registry/keys/{token}{key}");
    if let Some(q) = query {
        target.push('?');
        target.push_str(q);
    }
    // Only what the object reads: copying the whole request (headers, `cf`) cost more than the
    // object's own work.
    let init = web_sys::RequestInit::new();
    init.set_method(&method);
    if method == "PUT" {
        let mut req = Request::from(req);
        let body = match read_body(&mut req).await? {
            Ok(body) => body,
            Err(refused) => return to_raw(refused),
        };
        let headers = web_sys::Headers::new()?;
        if let Some(ct) = req.headers().get("Content-Type")? {
            headers.set("Content-Type", &ct)?;
        }
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(&body));
    }
    let inner = web_sys::Request::new_with_str_and_init(&target, &init)?;
    let stub = crate::bindings::registry(env)?
        .id_from_name(&token.to_string())?
        .get_stub()?
        .into_rpc::<worker_sys::DurableObject>();
    let answer = match stub.fetch_with_request(&inner) {
        Ok(promise) => JsFuture::from(promise).await,
        Err(e) => Err(e),
    };
    match answer.and_then(|a| a.dyn_into::<web_sys::Response>()) {
        Ok(resp) => Ok(resp),
        Err(e) => to_raw(Answer::unavailable(&format!(
            "registry unreachable: {}",
            worker::Error::from(e)
        ))),
    }
}

/// Reads a PUT's body within `shared::service::MAX_BODY_BYTES`, as text.
async fn read_body(req: &mut Request) -> Result<std::result::Result<String, Answer>> {
    let declared = req.headers().get("Content-Length")?;
    if shared::service::declared_too_large(declared.as_deref()) {
        return Ok(Err(shared::service::body_too_large()));
    }
    Ok(shared::service::body_text(req.bytes().await?))
}

/// `GET /ledger/<token>`, answered by the token's object: its meta and registry are there,
/// consistent with what members were told (the KV record may lag).
pub async fn ledger(env: &Env, token: Token) -> Answer {
    let asked = async {
        let stub = crate::bindings::registry(env)?
            .id_from_name(&token.to_string())?
            .get_stub()?;
        let mut resp = stub
            .fetch_with_str(&format!("https://registry/ledger/{token}"))
            .await?;
        let status = resp.status_code();
        Ok::<_, worker::Error>((status, resp.text().await?))
    };
    match asked.await {
        Ok((200, body)) => Answer::json(200, body),
        Ok((404, _)) => shared::ledger::response(token, None, &[]),
        Ok((status, body)) => Answer::unavailable(&format!("ledger answered {status}: {body}")),
        Err(e) => Answer::unavailable(&format!("ledger: {e}")),
    }
}

/// Asks a token's object to mint it. `Ok(None)`: the name is taken (a 128-bit collision).
pub async fn mint(env: &Env, token: Token, size: u64) -> Result<Option<Meta>> {
    let stub = crate::bindings::registry(env)?
        .id_from_name(&token.to_string())?
        .get_stub()?;
    let url = format!("https://registry/mint/{token}?size={size}");
    let mut init = RequestInit::new();
    init.with_method(Method::Post);
    let mut resp = stub
        .fetch_with_request(Request::new_with_init(&url, &init)?)
        .await?;
    match resp.status_code() {
        201 => Ok(Some(resp.json().await?)),
        409 => Ok(None),
        other => Err(format!("minting answered {other}: {}", resp.text().await?).into()),
    }
}

#[derive(Default)]
struct Inner {
    /// `None` until loaded, and again after a storage failure (reloaded on the next request).
    state: Option<TokenState>,
    waiters: HashMap<WaitId, oneshot::Sender<Reply>>,
    /// The alarm time last set, to skip setting it again.
    alarm_at: Option<u64>,
}

#[durable_object]
pub struct TokenRegistry {
    state: State,
    /// `[vars]` cannot change during an object's life: read once, here. A bad setting is kept
    /// as its message and answered as 503 on every request.
    limits: std::result::Result<Limits, String>,
    inner: Rc<RefCell<Inner>>,
}

impl DurableObject for TokenRegistry {
    fn new(state: State, env: Env) -> Self {
        TokenRegistry {
            state,
            limits: crate::config::settings(&env).map(|s| s.limits.clone()),
            inner: Rc::new(RefCell::new(Inner::default())),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        match self.dispatch(req).await {
            Ok(r) => Ok(r),
            Err(e) => {
                self.reset();
                to_worker(Answer::unavailable(&e.to_string()))
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        if let Err(e) = self.on_alarm().await {
            self.reset();
            return Err(e);
        }
        Response::ok("done")
    }
}

impl TokenRegistry {
    fn limits(&self) -> Result<Limits> {
        Ok(self.limits.clone()?)
    }

    async fn dispatch(&self, mut req: Request) -> Result<Response> {
        let url = req.inner().url();
        let (path, query) = shared::route::split_url(&url);
        if let Some(rest) = path.strip_prefix("/mint/") {
            let token = Token::from_segment(rest).map_err(|e| e.to_string())?;
            let size = query
                .and_then(|q| q.strip_prefix("size="))
                .and_then(|v| v.parse().ok())
                .ok_or("mint without a size")?;
            return self.mint(token, size).await;
        }
        if let Some(rest) = path.strip_prefix("/ledger/") {
            let token = Token::from_segment(rest).map_err(|e| e.to_string())?;
            self.load(token).await?;
            let now = now_ms();
            let answer = self.with_state(|t| {
                let live = t.meta.as_ref().filter(|m| !m.expired(now));
                shared::ledger::response(token, live, t.registry.history())
            })?;
            return to_worker(answer);
        }
        let rest = path.strip_prefix("/keys/").ok_or("unknown internal path")?;
        let (segment, key) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let token = Token::from_segment(segment).map_err(|e| e.to_string())?;
        let method = req.inner().method();
        let (content_type, body) = if method == "PUT" {
            (req.headers().get("Content-Type")?, req.text().await?)
        } else {
            (None, String::new())
        };
        self.load(token).await?;
        let now = now_ms();
        if self.with_state(|t| t.expired(now))? {
            self.purge().await?;
            self.load(token).await?;
        }
        let request = RawRequest {
            method: &method,
            key,
            query: query.unwrap_or(""),
            content_type: content_type.as_deref(),
            body: &body,
        };
        let outcome = self.with_state(|t| t.handle(request, now))?;
        // Park before any await, so that no event can answer this wait before it is listening.
        let parked = match outcome.answer {
            Step::Parked(id) => {
                let (tx, rx) = oneshot::channel();
                self.inner.borrow_mut().waiters.insert(id, tx);
                Some((id, rx))
            }
            Step::Reply(_) => None,
        };
        let guard = parked.as_ref().map(|(id, _)| CancelOnDrop {
            inner: self.inner.clone(),
            id: *id,
        });
        self.store(&outcome.events).await?;
        self.deliver(outcome.woken);
        self.schedule_alarm().await?;
        match (outcome.answer, parked) {
            (Step::Reply(reply), _) => to_worker(Answer::keys(&reply)),
            (Step::Parked(_), Some((id, rx))) => {
                let reply = self.wait(id, rx).await?;
                drop(guard);
                to_worker(Answer::keys(&reply))
            }
            (Step::Parked(_), None) => Err("parked wait without a channel".into()),
        }
    }

    async fn wait(&self, id: WaitId, rx: oneshot::Receiver<Reply>) -> Result<Reply> {
        let timeout = Duration::from_secs(self.limits()?.wait_timeout_secs);
        match select(rx, Delay::from(timeout)).await {
            Either::Left((Ok(reply), _)) => Ok(reply),
            // The registry was dropped (storage trouble or expiry): end idle; etcd re-sends.
            Either::Left((Err(_), _)) => Ok(Reply::idle(self.index_or_zero())),
            Either::Right(_) => {
                let mut inner = self.inner.borrow_mut();
                inner.waiters.remove(&id);
                Ok(match inner.state.as_mut() {
                    Some(t) => t.registry.cancel_wait(id),
                    None => Reply::idle(0),
                })
            }
        }
    }

    async fn mint(&self, token: Token, size: u64) -> Result<Response> {
        self.load(token).await?;
        let limits = self.limits()?;
        let Some((meta, entries)) = self.with_state(|t| t.mint(size, now_ms(), &limits))? else {
            return to_worker(Answer::text(409, "token exists"));
        };
        if let Err(e) = self.put_entries(&entries).await {
            self.reset();
            return Err(e);
        }
        self.schedule_alarm().await?;
        to_worker(Answer::json(201, meta.to_json()))
    }

    async fn on_alarm(&self) -> Result<()> {
        let Some(token) = self.stored_token().await? else {
            return Ok(());
        };
        self.load(token).await?;
        match self.with_state(|t| t.alarm(now_ms()))? {
            Alarm::Purge => return self.purge().await,
            Alarm::Expired { events, woken } => {
                self.store(&events).await?;
                self.deliver(woken);
            }
        }
        self.inner.borrow_mut().alarm_at = None;
        self.schedule_alarm().await
    }

    /// Rebuilds the token from storage if it is not in memory.
    async fn load(&self, token: Token) -> Result<()> {
        if self.inner.borrow().state.is_some() {
            return Ok(());
        }
        let limits = self.limits()?;
        let map = self.state.storage().list().await?;
        let mut entries: Vec<Entry> = Vec::new();
        let mut bad = None;
        map.for_each(
            &mut |value, key| match (key.as_string(), value.as_string()) {
                (Some(key), Some(text)) => entries.push((key, text)),
                _ => bad = Some("a stored entry is not text"),
            },
        );
        if let Some(why) = bad {
            return Err(format!("stored registry unreadable: {why}").into());
        }
        let state = TokenState::restore(token, limits, entries)?;
        let mut inner = self.inner.borrow_mut();
        if inner.state.is_none() {
            inner.state = Some(state);
        }
        Ok(())
    }

    async fn stored_token(&self) -> Result<Option<Token>> {
        if let Some(t) = &self.inner.borrow().state {
            if let Some(m) = &t.meta {
                return Ok(Token::from_segment(&m.token).ok());
            }
        }
        let text: Option<String> = self.state.storage().get(META_KEY).await?;
        Ok(text
            .and_then(|t| serde_json::from_str::<Meta>(&t).ok())
            .and_then(|m| Token::from_segment(&m.token).ok()))
    }

    /// Writes events atomically; on failure drops the in-memory token so nothing unstored is
    /// ever served.
    async fn store(&self, events: &[Event]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.put_entries(&event_entries(events)).await {
            self.reset();
            return Err(e);
        }
        Ok(())
    }

    async fn put_entries(&self, entries: &[Entry]) -> Result<()> {
        let obj = js_sys::Object::new();
        for (key, value) in entries {
            js_sys::Reflect::set(&obj, &JsValue::from_str(key), &JsValue::from_str(value))?;
        }
        self.state.storage().put_multiple_raw(obj).await
    }

    fn deliver(&self, woken: Vec<(WaitId, Reply)>) {
        let mut inner = self.inner.borrow_mut();
        for (id, reply) in woken {
            if let Some(tx) = inner.waiters.remove(&id) {
                // The client may have gone; nothing to do then.
                let _ = tx.send(reply);
            }
        }
    }

    /// One alarm serves both the token's end and the next member TTL.
    async fn schedule_alarm(&self) -> Result<()> {
        let want = {
            let inner = self.inner.borrow();
            let Some(at) = inner.state.as_ref().and_then(TokenState::alarm_at) else {
                return Ok(());
            };
            if inner.alarm_at == Some(at) {
                return Ok(());
            }
            at
        };
        let offset = want.saturating_sub(now_ms()) as i64;
        self.state.storage().set_alarm(offset).await?;
        self.inner.borrow_mut().alarm_at = Some(want);
        Ok(())
    }

    /// Deletes the token entirely; parked waits end idle and then find nothing.
    async fn purge(&self) -> Result<()> {
        self.reset();
        let storage = self.state.storage();
        storage.delete_alarm().await?;
        storage.delete_all().await
    }

    fn reset(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.state = None;
        inner.alarm_at = None;
        inner.waiters.clear();
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut TokenState) -> T) -> Result<T> {
        let mut inner = self.inner.borrow_mut();
        let t = inner.state.as_mut().ok_or("registry not loaded")?;
        Ok(f(t))
    }

    fn index_or_zero(&self) -> u64 {
        self.inner
            .borrow()
            .state
            .as_ref()
            .map_or(0, |t| t.registry.index())
    }
}

/// Forgets a parked wait whose request went away before it was answered.
struct CancelOnDrop {
    inner: Rc<RefCell<Inner>>,
    id: WaitId,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            inner.waiters.remove(&self.id);
            if let Some(t) = inner.state.as_mut() {
                t.registry.cancel_wait(self.id);
            }
        }
    }
}

fn now_ms() -> u64 {
    Date::now().as_millis()
}
