//! Each token's registry lives in one Durable Object: a single owner with transactional storage,
//! so racing members all see one order. Storage holds the token's entries in the layout
//! `shared::lifecycle` defines (`meta`, `e/<index>`); memory holds the `TokenState` rebuilt from
//! them and the parked waits. The Worker reaches it with one typed `shared::call::Call`. The
//! object only stores, times and delivers what the core decides (`Effects`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use futures_channel::oneshot;
use futures_util::future::{select, Either};
use shared::call::{Call, Encoded, Keys};
use shared::dispatch::Hook;
use shared::http::{Method, Response};
use shared::lifecycle::{self, Effects, Entry, Meta, Restored, TokenState, META_KEY};
use shared::registry::{Answer, Parked, WaitId};
use shared::v2::{RawRequest, Reply};
use shared::{Limits, Token};
use worker::js_sys::futures::JsFuture;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::{self, web_sys};
use worker::{
    durable_object, js_sys, Date, Delay, DurableObject, Env, Request, Result, ScheduledTime, State,
};

use crate::http::{to_raw, to_worker};

/// Sends `call` to `token`'s object; its answer as the runtime's response.
async fn send(env: &Env, token: Token, call: &Call) -> Result<web_sys::Response> {
    let Encoded {
        method,
        url,
        content_type,
        body,
    } = call.encode(token);
    // Only what the object reads: copying the whole request (headers, `cf`) cost more than the
    // object's own work.
    let init = web_sys::RequestInit::new();
    init.set_method(method.as_str());
    if let Some(ct) = content_type {
        let headers = web_sys::Headers::new()?;
        headers.set("Content-Type", &ct)?;
        init.set_headers(&headers);
    }
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(&body));
    }
    let inner = web_sys::Request::new_with_str_and_init(&url, &init)?;
    let stub = crate::bindings::registry(env)?
        .id_from_name(&token.to_string())?
        .get_stub()?
        .into_rpc::<worker_sys::DurableObject>();
    let answer = match stub.fetch_with_request(&inner) {
        Ok(promise) => JsFuture::from(promise).await,
        Err(e) => Err(e),
    };
    Ok(answer.and_then(|a| a.dyn_into::<web_sys::Response>())?)
}

/// Hands a keys request to its token's object; the object's answer goes back as it is. A
/// PUT's body is checked here, so that a refused one never reaches the object.
pub async fn forward(
    req: web_sys::Request,
    query: Option<&str>,
    env: &Env,
    token: Token,
    key: &str,
) -> Result<web_sys::Response> {
    let method = Method::parse(&req.method());
    let mut content_type = None;
    let mut body = String::new();
    if method.has_body() {
        let mut req = Request::from(req);
        body = match read_body(&mut req).await? {
            Ok(body) => body,
            Err(refused) => return to_raw(refused),
        };
        content_type = req.headers().get("Content-Type")?;
    }
    let call = Call::Keys(Keys {
        method,
        key: key.to_string(),
        query: query.unwrap_or("").to_string(),
        content_type,
        body,
    });
    match send(env, token, &call).await {
        Ok(resp) => Ok(resp),
        Err(e) => to_raw(Response::unavailable(&format!("registry unreachable: {e}"))),
    }
}

/// Reads a PUT's body within `shared::body::MAX_BODY_BYTES`, as text.
async fn read_body(req: &mut Request) -> Result<std::result::Result<String, Response>> {
    let declared = req.headers().get("Content-Length")?;
    let declared = declared.and_then(|l| l.trim().parse::<u64>().ok());
    if shared::body::declared_too_large(declared) {
        return Ok(Err(shared::body::too_large()));
    }
    Ok(shared::body::text(req.bytes().await?))
}

/// A call whose answer is the object's text, status and all.
async fn ask(env: &Env, token: Token, call: &Call) -> Result<(u16, String)> {
    let mut resp = worker::Response::from(send(env, token, call).await?);
    let status = resp.status_code();
    Ok((status, resp.text().await?))
}

/// `GET /ledger/<token>`, answered by the token's object: its meta and registry are there,
/// consistent with what members were told (the KV record may lag).
pub async fn ledger(env: &Env, token: Token) -> Response {
    match ask(env, token, &Call::Ledger).await {
        Ok((200, body)) => Response::json(200, body),
        Ok((404, _)) => lifecycle::ledger_unminted(token),
        Ok((status, body)) => Response::unavailable(&format!("ledger answered {status}: {body}")),
        Err(e) => Response::unavailable(&format!("ledger: {e}")),
    }
}

/// Asks a token's object to mint it. `Ok(None)`: the name is taken (a 128-bit collision).
pub async fn mint(env: &Env, token: Token, size: u64) -> Result<Option<Meta>> {
    match ask(env, token, &Call::Mint { size }).await? {
        (201, body) => Ok(Some(serde_json::from_str(&body)?)),
        (409, _) => Ok(None),
        (other, body) => Err(format!("minting answered {other}: {body}").into()),
    }
}

/// The tests' storage hooks, through the token's object and its storage.
pub async fn hook(env: &Env, token: Token, hook: Hook, body: String) -> Response {
    let call = match hook {
        Hook::Stored => Call::Stored,
        Hook::Lose { key } => Call::Lose { key },
        Hook::Restore { key } => Call::Restore { key, value: body },
    };
    match ask(env, token, &call).await {
        Ok((200, body)) if call == Call::Stored => Response::json(200, body),
        Ok((status, body)) => Response::text(status, body),
        Err(e) => Response::unavailable(&format!("storage hook: {e}")),
    }
}

#[derive(Default)]
struct Inner {
    /// Whether storage was read since the object started (or since a storage failure).
    loaded: bool,
    /// The token, once minted; `None` before, and after its end.
    state: Option<TokenState>,
    waiters: HashMap<WaitId, oneshot::Sender<Reply>>,
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

    async fn fetch(&self, mut req: Request) -> Result<worker::Response> {
        let method = Method::parse(&req.inner().method());
        let url = req.inner().url();
        let content_type = req.headers().get("Content-Type")?;
        let body = if method.has_body() {
            req.text().await?
        } else {
            String::new()
        };
        let answer = match Call::decode(method, &url, content_type, body) {
            Ok((token, call)) => self.call(token, call).await,
            Err(why) => Err(why.into()),
        };
        match answer {
            Ok(r) => to_worker(r),
            Err(e) => {
                self.reset();
                to_worker(Response::unavailable(&e.to_string()))
            }
        }
    }

    async fn alarm(&self) -> Result<worker::Response> {
        if let Err(e) = self.on_alarm().await {
            self.reset();
            return Err(e);
        }
        worker::Response::ok("done")
    }
}

impl TokenRegistry {
    fn limits(&self) -> Result<Limits> {
        Ok(self.limits.clone()?)
    }

    async fn call(&self, token: Token, call: Call) -> Result<Response> {
        match call {
            Call::Keys(keys) => self.keys(token, keys.raw()).await,
            Call::Mint { size } => self.mint(token, size).await,
            Call::Ledger => {
                self.load(token).await?;
                let now = now_ms();
                let inner = self.inner.borrow();
                Ok(match &inner.state {
                    Some(t) => t.ledger(now),
                    None => lifecycle::ledger_unminted(token),
                })
            }
            Call::Stored => {
                let keys: Vec<String> = self.stored().await?.into_iter().map(|(k, _)| k).collect();
                Ok(Hook::stored(&keys))
            }
            Call::Lose { key } => {
                let value = self.stored().await?.into_iter().find(|(k, _)| *k == key);
                if value.is_some() {
                    self.state.storage().delete(&key).await?;
                    // As after a restart: the token is read from storage again.
                    self.reset();
                }
                Ok(Hook::lost(token, &key, value.map(|(_, v)| v)))
            }
            Call::Restore { key, value } => {
                self.put_entries(&[(key, value)]).await?;
                self.reset();
                Ok(Hook::restored())
            }
        }
    }

    async fn keys(&self, token: Token, request: RawRequest<'_>) -> Result<Response> {
        self.load(token).await?;
        let now = now_ms();
        let handled = {
            let mut inner = self.inner.borrow_mut();
            inner.state.as_mut().map(|t| t.handle(request, now))
        };
        let Some((answer, effects)) = handled else {
            let reply = lifecycle::unminted(token, &self.limits()?, request, now);
            return Ok(Response::keys(&reply));
        };
        // Park before any await, so that no event can answer this wait before it is listening.
        let parked = match answer {
            Answer::Parked(p) => {
                let (tx, rx) = oneshot::channel();
                self.inner.borrow_mut().waiters.insert(p.id, tx);
                Some((p, rx))
            }
            Answer::Reply(_) => None,
        };
        let guard = parked.as_ref().map(|(p, _)| CancelOnDrop {
            inner: self.inner.clone(),
            id: p.id,
        });
        self.carry_out(effects).await?;
        let reply = match (answer, parked) {
            (Answer::Reply(reply), _) => reply,
            (Answer::Parked(_), Some((p, rx))) => {
                let reply = self.wait(p, rx).await;
                drop(guard);
                match reply {
                    Some(reply) => reply,
                    None => return Ok(lifecycle::wait_lost()),
                }
            }
            (Answer::Parked(_), None) => Reply::idle(0),
        };
        Ok(Response::keys(&reply))
    }

    /// Waits for a parked wait's answer: an event, or its deadline (the core's), when the core
    /// ends it idle. `None`: the token left memory unanswered (a storage failure).
    async fn wait(&self, parked: Parked, mut rx: oneshot::Receiver<Reply>) -> Option<Reply> {
        loop {
            let left = parked.until.saturating_sub(now_ms()).max(1);
            match select(rx, Delay::from(Duration::from_millis(left))).await {
                Either::Left((answered, _)) => return answered.ok(),
                Either::Right((_, pending)) => {
                    rx = pending;
                    let ended = {
                        let mut inner = self.inner.borrow_mut();
                        match inner.state.as_mut() {
                            Some(t) => t.end_idle_waits(now_ms()),
                            None => Vec::new(),
                        }
                    };
                    self.deliver(ended);
                }
            }
        }
    }

    async fn mint(&self, token: Token, size: u64) -> Result<Response> {
        self.load(token).await?;
        if self.inner.borrow().state.is_some() {
            return Ok(Response::text(409, "token exists"));
        }
        let (state, effects) = TokenState::mint(token, size, now_ms(), &self.limits()?);
        let meta = state.meta().to_json();
        self.inner.borrow_mut().state = Some(state);
        self.carry_out(effects).await?;
        Ok(Response::json(201, meta))
    }

    async fn on_alarm(&self) -> Result<()> {
        let Some(token) = self.stored_token().await? else {
            return Ok(());
        };
        self.load(token).await?;
        let effects = {
            let mut inner = self.inner.borrow_mut();
            inner.state.as_mut().map(|t| t.on_alarm(now_ms()))
        };
        match effects {
            Some(effects) => self.carry_out(effects).await,
            None => Ok(()),
        }
    }

    /// Carries out what the core asked: store (or delete everything) and move the alarm, then
    /// answer the waits. A storage failure drops the token from memory: nothing unstored is
    /// ever served, and the waits it held answer 503.
    async fn carry_out(&self, effects: Effects) -> Result<()> {
        let Effects {
            store,
            purge,
            alarm,
            woken,
        } = effects;
        let stored = async {
            let storage = self.state.storage();
            if purge {
                storage.delete_alarm().await?;
                storage.delete_all().await?;
            }
            if !store.is_empty() {
                self.put_entries(&store).await?;
            }
            match alarm {
                Some(Some(at)) => {
                    let when = js_sys::Date::new(&JsValue::from_f64(at as f64));
                    storage.set_alarm(ScheduledTime::new(when)).await?;
                }
                Some(None) => storage.delete_alarm().await?,
                None => {}
            }
            Ok::<_, worker::Error>(())
        };
        if let Err(e) = stored.await {
            self.reset();
            return Err(e);
        }
        self.deliver(woken);
        if purge {
            self.inner.borrow_mut().state = None;
        }
        Ok(())
    }

    /// Rebuilds the token from storage if it is not in memory.
    async fn load(&self, token: Token) -> Result<()> {
        if self.inner.borrow().loaded {
            return Ok(());
        }
        let limits = self.limits()?;
        let entries = self.stored().await?;
        let state = match TokenState::restore(token, limits, entries) {
            Ok(Restored::Minted(state)) => Some(*state),
            Ok(Restored::Nothing) => None,
            Ok(Restored::Orphaned { events }) => {
                worker::console_error!(
                    "token {token} has {events} stored events and no meta: deleting them"
                );
                self.state.storage().delete_all().await?;
                None
            }
            Err(e) => return Err(e.0.into()),
        };
        let mut inner = self.inner.borrow_mut();
        if !inner.loaded {
            inner.state = state;
            inner.loaded = true;
        }
        Ok(())
    }

    /// Every entry in storage, as text.
    async fn stored(&self) -> Result<Vec<Entry>> {
        let map = self.state.storage().list().await?;
        let mut entries: Vec<Entry> = Vec::new();
        let mut bad = None;
        map.for_each(
            &mut |value, key| match (key.as_string(), value.as_string()) {
                (Some(key), Some(text)) => entries.push((key, text)),
                _ => bad = Some("a stored entry is not text"),
            },
        );
        match bad {
            Some(why) => Err(format!("stored registry unreadable: {why}").into()),
            None => Ok(entries),
        }
    }

    async fn stored_token(&self) -> Result<Option<Token>> {
        if let Some(t) = &self.inner.borrow().state {
            return Ok(Some(t.token()));
        }
        let text: Option<String> = self.state.storage().get(META_KEY).await?;
        Ok(text
            .and_then(|t| serde_json::from_str::<Meta>(&t).ok())
            .and_then(|m| Token::from_segment(&m.token).ok()))
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

    /// Forgets everything in memory; it is read from storage again. Waits still parked lose
    /// their sender, and answer 503.
    fn reset(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.loaded = false;
        inner.state = None;
        inner.waiters.clear();
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
                t.cancel_wait(self.id);
            }
        }
    }
}

fn now_ms() -> u64 {
    Date::now().as_millis()
}
