//! The inspector: paste, then see the registry, who votes, and what is wrong; a token is
//! followed live with etcd's own long poll while the cluster forms.

use std::cell::RefCell;
use std::rc::Rc;

use shared::inspect::{diagnose, Level, Report, Role, SizeInfo};
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::state::{member_key, size_typed, source, wait_url, Source};
use crate::api::{self, ReadError};
use crate::page;

#[function_component]
pub fn Inspector() -> Html {
    let input = use_state(String::new);
    let size = use_state(String::new);
    let report = use_state(|| None::<Report>);
    let status = use_state(String::new);
    let followed = use_state(String::new);
    // Each inspection gets a number; a live loop stops once a newer one starts.
    let generation = use_mut_ref(|| 0u64);
    let peer = use_state(String::new);

    let inspect = {
        let (input, size, report, status, followed, generation) = (
            input.clone(),
            size.clone(),
            report.clone(),
            status.clone(),
            followed.clone(),
            generation.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            *generation.borrow_mut() += 1;
            let gen = *generation.borrow();
            match source(&input, &page::origin()) {
                Err(why) => {
                    report.set(None);
                    status.set(why);
                }
                Ok(Source::Listing(v)) => {
                    followed.set(String::new());
                    report.set(Some(diagnose(&v, size_typed(&size), None, page::now_ms())));
                    status.set("Diagnosed the pasted listing.".into());
                }
                Ok(Source::Live(url)) => {
                    followed.set(url.clone());
                    spawn_local(follow(
                        url,
                        gen,
                        generation.clone(),
                        report.clone(),
                        status.clone(),
                    ));
                }
            }
        })
    };
    let key = member_key(&peer, &followed);

    html! {
        <div class="columns">
            <form aria-label="Inspect a token" onsubmit={inspect}>
                <fieldset>
                    <legend>{ "Inspect" }</legend>
                    <label for="paste">{ "Token, discovery URL or registry JSON" }</label>
                    <textarea id="paste" rows="8" placeholder="a token, https://host/<token>, or what the URL answers (the docs' loose form works too)"
                        value={(*input).clone()}
                        oninput={let input = input.clone(); Callback::from(move |e: InputEvent| input.set(e.target_unchecked_into::<HtmlTextAreaElement>().value()))} />
                    <label for="paste-size">{ "Size (for pasted JSON)" }</label>
                    <input id="paste-size" type="number" min="1" value={(*size).clone()}
                        oninput={let size = size.clone(); Callback::from(move |e: InputEvent| size.set(e.target_unchecked_into::<HtmlInputElement>().value()))} />
                    <p class="hint">{ "A listing does not show the size (_config is hidden); a token or URL is read with its size and followed live." }</p>
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
                if !status.is_empty() { <p class="status" role="status">{ (*status).clone() }</p> }
                if let Some(r) = &*report { { view_report(r) } }
            </section>
        </div>
    }
}

async fn follow(
    url: String,
    gen: u64,
    generation: Rc<RefCell<u64>>,
    report: UseStateHandle<Option<Report>>,
    status: UseStateHandle<String>,
) {
    let current = || *generation.borrow() == gen;
    let mut failures = 0;
    while current() {
        let registry = match api::read_registry(&url, page::now_ms()).await {
            Ok(r) => r,
            Err(ReadError::Unreachable(e)) => {
                failures += 1;
                status.set(e);
                if failures >= 5 {
                    return;
                }
                page::sleep(2000 * failures).await;
                continue;
            }
            Err(ReadError::NotEtcd(e)) => {
                status.set(e);
                return;
            }
        };
        failures = 0;
        if !current() {
            return;
        }
        report.set(Some(registry.report));
        if registry.status != 200 {
            status.set(format!("Stopped: {url} answered {}.", registry.status));
            return;
        }
        status.set(format!(
            "Following {url} live: this updates as members register."
        ));
        // etcd's own long poll: returns at the next change, or empty after a minute.
        let index = registry.etcd_index.unwrap_or(0);
        if api::get(&wait_url(&url, index)).await.is_err() {
            page::sleep(2000).await;
        }
    }
}

fn view_report(r: &Report) -> Html {
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
            <ul class="problems" aria-label="Diagnosis">
                { for r.findings.iter().map(|f| {
                    let class = match f.level { Level::Error => "error", Level::Warning => "warning", Level::Good => "good", Level::Info => "info" };
                    html! { <li class={class}>{ &f.message }</li> }
                }) }
            </ul>
            <table aria-label="Members">
                <thead><tr>
                    <th>{ "#" }</th><th>{ "Name" }</th><th>{ "Peer URLs" }</th><th>{ "Member key" }</th>
                    <th>{ "Created" }</th><th>{ "Modified" }</th><th>{ "Expires in" }</th><th>{ "Role" }</th>
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
                            <td>{ m.expires_in.map_or("never".to_string(), |s| if s < 0 { format!("expired {} s ago", -s) } else { format!("{s} s") }) }</td>
                            <td>{ match m.role { Role::Voting => "voting", Role::Proxy => "proxy (late)", Role::Unknown => "?" } }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </>
    }
}
