//! The inspector: paste, then see the registry, who votes, who came when, and what is wrong; a
//! token is followed live (etcd's own long poll, or polling through the relay) while the
//! cluster forms.

use std::cell::RefCell;
use std::rc::Rc;

use shared::explain::line::Level as LogLevel;
use shared::explain::Explanation;
use shared::inspect::timeline::Timeline;
use shared::inspect::{diagnose, Level, Report, Role, SizeInfo};
use shared::time::human_until;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::picture::picture;
use super::state::{
    from_hash, log_tail, member_key, size_typed, source, to_hash, wait_url, Action, InspectorState,
    Shown, Source, Via,
};
use crate::api::{self, ReadError};
use crate::page;

type State = UseReducerHandle<InspectorState>;

#[function_component]
pub fn Inspector() -> Html {
    let (input, size) = {
        let (pasted, size) = from_hash(&page::hash());
        (use_state(|| pasted), use_state(|| size))
    };
    let peer = use_state(String::new);
    let state = use_reducer(InspectorState::default);
    // The inspection now on the page, for loops of older ones to see that they must stop (a
    // reducer handle they hold shows the state of when they began).
    let latest = use_mut_ref(|| 0u64);

    let inspect = {
        let (input, size, state, latest) =
            (input.clone(), size.clone(), state.clone(), latest.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            run(&input, &size, &state, &latest);
        })
    };
    {
        // A link to an inspection opens it.
        let (input, size, state, latest) =
            (input.clone(), size.clone(), state.clone(), latest.clone());
        use_effect_with((), move |_| {
            if !input.is_empty() {
                run(&input, &size, &state, &latest);
            }
        });
    }
    let followed = state.followed.clone().unwrap_or_default();
    let key = member_key(&peer, &followed);

    html! {
        <div class="columns">
            <form aria-label="Inspect a token" onsubmit={inspect}>
                <fieldset>
                    <legend>{ "Inspect" }</legend>
                    <label for="paste">{ "Token, discovery URL, registry JSON, or a member's etcd log" }</label>
                    <textarea id="paste" rows="8" placeholder="a token, https://host/<token>, what the URL answers (the docs' loose form works too), or journalctl -u etcd-member"
                        value={(*input).clone()}
                        oninput={let input = input.clone(); Callback::from(move |e: InputEvent| input.set(e.target_unchecked_into::<HtmlTextAreaElement>().value()))} />
                    <label for="paste-size">{ "Size (for pasted JSON)" }</label>
                    <input id="paste-size" type="number" min="1" value={(*size).clone()}
                        oninput={let size = size.clone(); Callback::from(move |e: InputEvent| size.set(e.target_unchecked_into::<HtmlInputElement>().value()))} />
                    <p class="hint">{ "A listing does not show the size (_config is hidden); a token or URL is read with its size and followed live. Services that refuse pages (discovery.etcd.io sends no CORS headers) are read through this service's relay. A log is explained by this service, which keeps nothing of it; the page's URL keeps only the token it names." }</p>
                    <button type="submit" class="primary">{ "Inspect" }</button>
                </fieldset>
                <fieldset>
                    <legend>{ "Member key" }</legend>
                    <label for="peer-urls">{ "Peer URLs of a member" }</label>
                    <input id="peer-urls" type="text" placeholder="http://10.0.0.1:2380" value={(*peer).clone()}
                        oninput={let peer = peer.clone(); Callback::from(move |e: InputEvent| peer.set(e.target_unchecked_into::<HtmlInputElement>().value()))} />
                    <p class="hint" role="status" aria-label="Member key">
                        { match (&key, followed.is_empty()) {
                            (_, true) => "Inspect a token or URL first: the key depends on the discovery URL.".to_string(),
                            (Ok(k), false) => format!("etcd registers this member as {k}"),
                            (Err(e), false) => e.clone(),
                        } }
                    </p>
                </fieldset>
            </form>
            <section aria-label="Registry">
                if !state.status.is_empty() { <p class="status" role="status" aria-label="Inspection">{ state.status.clone() }</p> }
                if let Some(x) = &state.explained { { view_explained(x, state.shown.as_ref().map(|s| &s.report)) } }
                if let Some(shown) = &state.shown { { view_shown(shown) } }
            </section>
        </div>
    }
}

/// Starts an inspection of what is pasted, and keeps it in the page's URL.
fn run(input: &str, size: &str, state: &State, latest: &Rc<RefCell<u64>>) {
    page::replace_url(&page::query(), &to_hash(input, size));
    let inspection = state.inspection + 1;
    *latest.borrow_mut() = inspection;
    match source(input, &page::origin()) {
        Err(why) => {
            state.dispatch(Action::Start { followed: None });
            state.dispatch(Action::Fail {
                inspection,
                text: why,
            });
        }
        Ok(Source::Listing(v)) => {
            state.dispatch(Action::Start { followed: None });
            let report = diagnose(&v, size_typed(size), None, page::now_ms());
            let timeline = shared::inspect::timeline::timeline(&report, &[]);
            let shown = Shown {
                report,
                timeline,
                via: Via::Paste,
            };
            state.dispatch(Action::Show { inspection, shown });
            state.dispatch(Action::Status {
                inspection,
                text: "Diagnosed the pasted listing.".into(),
            });
        }
        Ok(Source::Log(text)) => {
            state.dispatch(Action::Start { followed: None });
            state.dispatch(Action::Status {
                inspection,
                text: "Explaining the log…".into(),
            });
            spawn_local(explain(text, inspection, state.clone(), latest.clone()));
        }
        Ok(Source::Live(url)) => {
            state.dispatch(Action::Start {
                followed: Some(url.clone()),
            });
            state.dispatch(Action::Status {
                inspection,
                text: format!("Reading {url}…"),
            });
            spawn_local(follow(url, inspection, state.clone(), latest.clone()));
        }
    }
}

/// Has this service explain a pasted log (it keeps nothing of it), then follows the token the
/// log names. The page's URL keeps the token only, never the log.
async fn explain(text: String, inspection: u64, state: State, latest: Rc<RefCell<u64>>) {
    let (tail, cut) = log_tail(&text);
    if cut {
        state.dispatch(Action::Status {
            inspection,
            text: "The log is long: its last 64 KiB are explained.".into(),
        });
    }
    match api::explain(tail).await {
        Err(why) => state.dispatch(Action::Fail {
            inspection,
            text: why,
        }),
        Ok(x) => {
            let url = token_url(&x);
            page::replace_url(&page::query(), &to_hash(url.as_deref().unwrap_or(""), ""));
            state.dispatch(Action::Explained {
                inspection,
                explanation: x,
            });
            match url {
                Some(url) => follow(url, inspection, state, latest).await,
                None => state.dispatch(Action::Status {
                    inspection,
                    text: "The log names no discovery URL to follow.".into(),
                }),
            }
        }
    }
}

/// The registry a log's member used: its v2 discovery URL, or, for v3 discovery, this service's
/// view of the token (the native server keeps one registry for both protocols).
fn token_url(x: &Explanation) -> Option<String> {
    x.discovery.url.clone().or_else(|| {
        let token = x.discovery.token.as_deref()?;
        shared::Token::from_segment(token).ok()?;
        Some(format!("{}/{token}", page::origin()))
    })
}

/// Reads `url` until a newer inspection starts: after each answer, waits for the next change
/// with etcd's long poll, or (through the relay, which does not hold waits) every 3 s.
async fn follow(url: String, inspection: u64, state: State, latest: Rc<RefCell<u64>>) {
    let current = || *latest.borrow() == inspection;
    let status = |text: String| Action::Status { inspection, text };
    let mut via = None;
    let mut failures = 0;
    while current() {
        let registry = match api::read_registry(&url, via, page::now_ms()).await {
            Ok(r) => r,
            Err(ReadError::Unreachable(e)) => {
                failures += 1;
                if failures >= 5 {
                    state.dispatch(Action::Fail {
                        inspection,
                        text: e,
                    });
                    return;
                }
                state.dispatch(status(format!("{e}; trying again")));
                page::sleep(2000 * failures).await;
                continue;
            }
            Err(ReadError::Refused(e)) => {
                state.dispatch(Action::Fail {
                    inspection,
                    text: e,
                });
                return;
            }
        };
        failures = 0;
        via = Some(registry.shown.via);
        let relayed = registry.shown.via == Via::Relay;
        state.dispatch(Action::Show {
            inspection,
            shown: registry.shown,
        });
        if registry.status != 200 {
            state.dispatch(status(format!(
                "Stopped: {url} answered {}.",
                registry.status
            )));
            return;
        }
        state.dispatch(status(if relayed {
            format!("Following {url} through this service's relay (that service sends no CORS headers, so the page cannot read it itself); read again every 3 s.")
        } else {
            format!("Following {url} live: this updates as members register.")
        }));
        if relayed {
            page::sleep(3000).await;
        } else if api::get(&wait_url(&url, registry.etcd_index.unwrap_or(0)))
            .await
            .is_err()
        {
            page::sleep(2000).await;
        }
        if !current() {
            return;
        }
    }
}

/// A pasted log, explained: the verdict, the member, its seat in the token as read live, and
/// each discovery line with why and what to do.
fn view_explained(x: &Explanation, registry: Option<&Report>) -> Html {
    let m = &x.member;
    html! {
        <div id="explain" aria-label="The log explained">
            <h2>{ "Why" }</h2>
            <p id="explain-verdict" class="verdict">{ &x.verdict }</p>
            <p id="explain-member">
                { format!("{}{}{}{}",
                    m.name.as_deref().unwrap_or("A member"),
                    m.id.as_deref().map(|id| format!(" ({id})")).unwrap_or_default(),
                    m.version.as_deref().map(|v| format!(", etcd {v}")).unwrap_or_default(),
                    if m.peer_urls.is_empty() { String::new() } else { format!(", peer URLs {}", m.peer_urls.join(",")) }) }
            </p>
            if let Some(r) = registry {
                <p id="explain-seat" class="verdict">{ shared::explain::seat::seat(x, r) }</p>
            }
            <ol id="explain-findings" class="problems" aria-label="Discovery lines">
                { for x.findings.iter().map(|f| {
                    let class = match f.level { LogLevel::Error | LogLevel::Fatal => "error", LogLevel::Warn => "warning", _ => "info" };
                    let repeated = if f.times > 1 { format!(" ({} times{})", f.times, f.until.as_deref().map(|u| format!(", last at {u}")).unwrap_or_default()) } else { String::new() };
                    html! {
                        <li class={class} data-topic={f.topic.map_or("unknown", |t| t.as_str())} data-line={f.line.to_string()}>
                            <strong>{ format!("line {}", f.line) }</strong>
                            { format!(" {}{repeated}: {}", f.time.as_deref().unwrap_or(""), f.says) }
                            if f.topic.is_none() { <em>{ " (etcd's own words: not known to this explainer)" }</em> }
                            if !f.cause.is_empty() { <div class="why">{ format!("Why: {}", f.cause) }</div> }
                            if !f.action.is_empty() { <div class="do">{ format!("Do: {}", f.action) }</div> }
                        </li>
                    }
                }) }
            </ol>
        </div>
    }
}

fn view_shown(shown: &Shown) -> Html {
    let r = &shown.report;
    html! {
        <>
            { view_summary(r) }
            <div class="cluster">
                { picture(r) }
                { view_timeline(&shown.timeline) }
            </div>
            <ul class="problems" aria-label="Diagnosis">
                { for r.findings.iter().map(|f| {
                    let class = match f.level { Level::Error => "error", Level::Warning => "warning", Level::Good => "good", Level::Info => "info" };
                    html! { <li class={class} data-check={f.check.as_str()}>{ &f.message }</li> }
                }) }
            </ul>
            { view_table(r) }
        </>
    }
}

fn view_summary(r: &Report) -> Html {
    let size = match &r.size {
        SizeInfo::Known(n) => Some(*n),
        _ => None,
    };
    html! {
        <>
            <p>
                { match (&r.token, size) {
                    (Some(t), Some(n)) => format!("Token {t}: size {n}, {} of {n} joined", r.joined),
                    (Some(t), None) => format!("Token {t}: size unknown, {} registered", r.members.len()),
                    (None, Some(n)) => format!("Size {n}: {} of {n} joined", r.joined),
                    (None, None) => format!("{} registered", r.members.len()),
                } }
            </p>
            if let Some(n) = size {
                <progress aria-label="Members joined" max={n.to_string()} value={r.joined.to_string()}>{ format!("{} of {n}", r.joined) }</progress>
            }
        </>
    }
}

fn view_timeline(t: &Timeline) -> Html {
    if t.steps.is_empty() {
        return html! {};
    }
    html! {
        <div class="timeline">
            <h3>{ "Timeline" }</h3>
            <ol aria-label="Timeline">
                { for t.steps.iter().map(|s| html! {
                    <li>
                        <strong>{ &s.who }</strong>
                        { format!(" (index {})", s.created_index) }
                        { s.after_ms.map(|ms| format!(", +{}", shared::time::human(ms))).unwrap_or_default() }
                    </li>
                }) }
            </ol>
            if !t.sentences.is_empty() {
                <ul class="sentences" aria-label="Timing">
                    { for t.sentences.iter().map(|s| html! { <li>{ s }</li> }) }
                </ul>
            }
        </div>
    }
}

fn view_table(r: &Report) -> Html {
    html! {
        <table aria-label="Members">
            <thead><tr>
                <th>{ "#" }</th><th>{ "Name" }</th><th>{ "Peer URLs" }</th><th>{ "Member key" }</th>
                <th>{ "Created" }</th><th>{ "Modified" }</th><th>{ "Expires" }</th><th>{ "Role" }</th>
            </tr></thead>
            <tbody>
                { for r.members.iter().enumerate().map(|(i, m)| html! {
                    <tr>
                        <td>{ i + 1 }</td>
                        <td>{ m.names.join(", ") }</td>
                        <td><code>{ m.peer_urls.join(", ") }</code></td>
                        <td><code>{ &m.id }</code></td>
                        <td>{ m.created_index }</td>
                        <td>{ m.modified_index }</td>
                        <td>{ m.expires_in_ms.map_or("never".to_string(), |ms| if ms < 0 { format!("expired {}", human_until(ms)) } else { human_until(ms) }) }</td>
                        <td>{ match m.role { Role::Voting => "voting", Role::Proxy => "proxy (late)", Role::Unknown => "?" } }</td>
                    </tr>
                }) }
            </tbody>
        </table>
    }
}
