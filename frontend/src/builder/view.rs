//! The builder's form and its two outputs, updated as the user types.

use shared::config::query::Mode;
use shared::config::{ButaneVersion, Platform, Severity, PLATFORMS};
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::state::{BuilderState, Edit, Field};
use crate::{api, page};

type State = UseReducerHandle<BuilderState>;

/// The `value` of an event's target, whatever form control it is (input, textarea, select).
fn target_value(e: &Event) -> String {
    e.target()
        .and_then(|t| js_sys::Reflect::get(&t, &"value".into()).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Sets `field` from the control that fired `E` (`InputEvent` as one types, `Event` on change).
fn on_value<E: AsRef<Event> + 'static>(state: &State, field: Field) -> Callback<E> {
    let state = state.clone();
    Callback::from(move |e: E| state.dispatch(Edit::Text(field, target_value(e.as_ref()))))
}

/// Makes one edit when a control changes (a radio button chosen).
fn on_change(state: &State, edit: impl Fn() -> Edit + 'static) -> Callback<Event> {
    let state = state.clone();
    Callback::from(move |_: Event| state.dispatch(edit()))
}

/// Makes the edit `read` finds in a control's new value (a select), if it finds one.
fn on_select(state: &State, read: impl Fn(&str) -> Option<Edit> + 'static) -> Callback<Event> {
    let state = state.clone();
    Callback::from(move |e: Event| {
        if let Some(edit) = read(&target_value(&e)) {
            state.dispatch(edit)
        }
    })
}

#[function_component]
pub fn Builder() -> Html {
    let state = use_reducer(|| BuilderState::from_url(&page::query()));
    let status = use_state(String::new);
    let form = &state.query;
    let query = form.to_query();
    use_effect_with(query.clone(), |q| page::replace_url(q, &page::hash()));
    let (generated, problems) = shared::config::generate(&query);
    // What the token behind the discovery URL already holds: reusing one is a classic mistake.
    let used = use_state(|| None::<(String, String)>);
    {
        let used = used.clone();
        use_effect_with(form.discovery.clone(), move |url| {
            used.set(None);
            if shared::config::params::check_discovery_url(url).is_ok() {
                let url = url.clone();
                spawn_local(async move {
                    if let Some(warning) = token_in_use(&url).await {
                        used.set(Some((url, warning)));
                    }
                });
            }
        });
    }
    let used_warning = used
        .as_ref()
        .filter(|(u, _)| *u == form.discovery && form.mode != Mode::Static)
        .map(|(_, w)| w.clone());
    let platform = form.platform;
    let is_static = form.mode == Mode::Static;

    let mint = {
        let (state, status) = (state.clone(), status.clone());
        Callback::from(move |_: MouseEvent| {
            let (state, status) = (state.clone(), status.clone());
            let size = state.query.size.clone();
            spawn_local(async move {
                status.set("Minting a token…".into());
                match api::mint(&size).await {
                    Ok(url) => {
                        status.set(format!("Minted {url}"));
                        state.dispatch(Edit::Text(Field::Discovery, url));
                    }
                    Err(e) => status.set(format!("Could not mint: {e}")),
                }
            });
        })
    };
    let new_cluster_token = {
        let (state, status) = (state.clone(), status.clone());
        Callback::from(move |_: MouseEvent| {
            match shared::config::params::cluster_token(&page::random_bytes(8)) {
                Ok(token) => state.dispatch(Edit::Text(Field::ClusterToken, token)),
                Err(why) => status.set(why),
            }
        })
    };
    let legacy = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            let on = e.target_unchecked_into::<HtmlInputElement>().checked();
            state.dispatch(Edit::LegacyPorts(on));
        })
    };
    let address_var = platform.etcd_address_var(form.public_address);

    html! {
        <div class="columns">
            <form aria-label="Cluster config" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
                <fieldset>
                    <legend>{ "Bootstrapping" }</legend>
                    <div class="choice" role="radiogroup" aria-label="How members find each other">
                        <label><input type="radio" name="bootstrap" checked={form.mode == Mode::Discovery} onchange={on_change(&state, || Edit::Mode(Mode::Discovery))} />{ "Discovery URL (etcd 3.4, 3.5)" }</label>
                        <label><input type="radio" name="bootstrap" checked={form.mode == Mode::V3Discovery} onchange={on_change(&state, || Edit::Mode(Mode::V3Discovery))} />{ "v3 discovery (etcd 3.6 and later)" }</label>
                        <label><input type="radio" name="bootstrap" checked={is_static} onchange={on_change(&state, || Edit::Mode(Mode::Static))} />{ "Static member list" }</label>
                    </div>
                    if !is_static {
                        <p class="hint">{ "Every machine boots the same config; etcd members register with the discovery service and wait until the size is reached." }</p>
                        <label for="discovery">{ "Discovery URL" }</label>
                        <input id="discovery" type="text" placeholder="https://host/<token>" value={form.discovery.clone()} oninput={on_value::<InputEvent>(&state, Field::Discovery)} />
                        <div class="inline">
                            <div>
                                <label for="size">{ "Cluster size" }</label>
                                <input id="size" type="number" min="1" value={form.size.clone()} oninput={on_value::<InputEvent>(&state, Field::Size)} />
                            </div>
                            <button type="button" class="primary" onclick={mint}>{ "Mint a token" }</button>
                        </div>
                        <p class="hint">{ "Mint a fresh token for every new cluster. Odd sizes (3, 5) tolerate the most failures." }</p>
                        if form.mode == Mode::V3Discovery {
                            <label for="endpoints">{ "Discovery gRPC endpoints (host:port)" }</label>
                            <input id="endpoints" type="text" placeholder="discovery.example.com:2379" value={form.endpoints.clone()} oninput={on_value::<InputEvent>(&state, Field::Endpoints)} />
                            <p class="hint">{ "etcd 3.6+ members register over gRPC: the native server's --grpc-listen address. The token is the discovery URL's last part." }</p>
                        }
                    } else {
                        <p class="hint">{ "Every address is known in advance: each member gets its own config naming all of them." }</p>
                        <label for="members">{ "Members (name=address, one per line)" }</label>
                        <textarea id="members" rows="4" placeholder="etcd-1=10.0.0.11" value={form.members.clone()} oninput={on_value::<InputEvent>(&state, Field::Members)} />
                        <label for="this">{ "This config is for" }</label>
                        <select id="this" onchange={on_value::<Event>(&state, Field::This)}>
                            { for form.member_names().into_iter().map(|n| html! { <option value={n.clone()} selected={n == form.this}>{ n }</option> }) }
                        </select>
                        <div class="inline">
                            <div>
                                <label for="cluster-token">{ "Cluster token" }</label>
                                <input id="cluster-token" type="text" value={form.cluster_token.clone()} oninput={on_value::<InputEvent>(&state, Field::ClusterToken)} />
                            </div>
                            <button type="button" onclick={new_cluster_token}>{ "New cluster token" }</button>
                        </div>
                    }
                </fieldset>
                <fieldset>
                    <legend>{ "Machines" }</legend>
                    <label for="platform">{ "Platform" }</label>
                    <select id="platform" onchange={on_select(&state, |id| Platform::by_id(id).map(Edit::Platform))}>
                        { for PLATFORMS.iter().map(|p| html! { <option value={p.id} selected={*p == platform}>{ p.label }</option> }) }
                    </select>
                    <p class="hint">
                        { match (platform, address_var, is_static) {
                            (_, _, true) => "Static members use the addresses you list.".to_string(),
                            (p, v, _) if p.needs_address_unit() => format!("No metadata service gives etcd an address here: the config adds etcd-address.service, which writes ${{{v}}}."),
                            (_, v, _) => format!("etcd reads ${{{v}}}, which Flatcar's metadata service (Afterburn) writes to /run/metadata/flatcar."),
                        } }
                    </p>
                    <div class="choice" role="radiogroup" aria-label="Address etcd advertises">
                        <label><input type="radio" name="address" checked={!form.public_address} onchange={on_change(&state, || Edit::PublicAddress(false))} />{ "Private address" }</label>
                        <label><input type="radio" name="address" checked={form.public_address} onchange={on_change(&state, || Edit::PublicAddress(true))} />{ "Public address" }</label>
                    </div>
                    <p class="hint">{ "Multi-region and multi-cloud clusters need the public address." }</p>
                    <label><input type="checkbox" checked={form.legacy_ports} onchange={legacy} />{ " Also listen on the legacy ports 4001 and 7001" }</label>
                    <label for="etcd-tag">{ "etcd image tag" }</label>
                    <input id="etcd-tag" type="text" placeholder="Flatcar's default (v3.5.16)" value={form.etcd_tag.clone()} oninput={on_value::<InputEvent>(&state, Field::EtcdTag)} />
                    <label for="ssh-keys">{ "SSH keys for core (one per line)" }</label>
                    <textarea id="ssh-keys" rows="3" placeholder="ssh-ed25519 AAAA… you@host" value={form.ssh_keys.clone()} oninput={on_value::<InputEvent>(&state, Field::SshKeys)} />
                    <label for="butane">{ "Butane version" }</label>
                    <select id="butane" onchange={on_select(&state, |v| ButaneVersion::parse(v).map(Edit::Butane))}>
                        <option value={ButaneVersion::V1_0_0.as_str()} selected={form.butane == ButaneVersion::V1_0_0}>{ "flatcar 1.0.0 (Ignition 3.3.0, Flatcar 3185.0.0+)" }</option>
                        <option value={ButaneVersion::V1_1_0.as_str()} selected={form.butane == ButaneVersion::V1_1_0}>{ "flatcar 1.1.0 (Ignition 3.4.0, Flatcar from 2023)" }</option>
                    </select>
                </fieldset>
            </form>
            <section aria-label="Generated config">
                if !status.is_empty() { <p class="status" role="status">{ (*status).clone() }</p> }
                <ul class="problems" aria-label="Problems">
                    if let Some(w) = used_warning { <li class="warning">{ w }</li> }
                    { for problems.iter().map(|p| {
                        let class = if p.severity == Severity::Error { "error" } else { "warning" };
                        html! { <li class={class}>{ &p.message }</li> }
                    }) }
                </ul>
                if let Some(g) = generated {
                    { output("Butane", "butane-yaml", &g.butane_yaml, "etcd.bu", "application/yaml", &status, true) }
                    { output("Ignition", "ignition-json", &g.ignition_json, "etcd.ign", "application/json", &status, true) }
                } else if let Some(d) = shared::config::draft(&query) {
                    <p class="hint draft" role="note" aria-label="Draft">
                        { format!("A draft: the discovery URL is missing, marked {} below. Copy and download wait until you mint or paste one.", shared::config::MISSING_DISCOVERY_URL) }
                    </p>
                    { output("Butane", "butane-yaml", &d.butane_yaml, "etcd.bu", "application/yaml", &status, false) }
                    { output("Ignition", "ignition-json", &d.ignition_json, "etcd.ign", "application/json", &status, false) }
                }
            </section>
        </div>
    }
}

/// A warning if the token at `url` already has members (read with its size), `None` if it is
/// fresh or cannot be read.
async fn token_in_use(url: &str) -> Option<String> {
    let registry = api::read_registry(url, None, page::now_ms())
        .await
        .ok()
        .filter(|r| r.status == 200)?;
    shared::inspect::in_use(&registry.shown.report)
}

/// A generated text with its title, copy and download buttons.
pub(crate) fn output(
    title: &'static str,
    id: &'static str,
    text: &str,
    file: &'static str,
    mime: &'static str,
    status: &UseStateHandle<String>,
    complete: bool,
) -> Html {
    let copy = {
        let (text, status) = (text.to_string(), status.clone());
        Callback::from(move |_: MouseEvent| {
            let (text, status) = (text.clone(), status.clone());
            spawn_local(async move {
                match page::copy(&text).await {
                    Ok(()) => status.set(format!("{title} copied")),
                    Err(e) => status.set(e),
                }
            });
        })
    };
    let download = {
        let (text, status) = (text.to_string(), status.clone());
        Callback::from(move |_: MouseEvent| {
            if let Err(e) = page::download(file, mime, &text) {
                status.set(e);
            }
        })
    };
    html! {
        <div class="output">
            <h2>
                <span id={format!("{id}-title")}>{ format!("{title} ({file})") }</span>
                <button type="button" onclick={copy} disabled={!complete} title={(!complete).then_some("needs a discovery URL first")}>{ format!("Copy {title}") }</button>
                <button type="button" onclick={download} disabled={!complete} title={(!complete).then_some("needs a discovery URL first")}>{ format!("Download {title}") }</button>
            </h2>
            <pre id={id} aria-labelledby={format!("{id}-title")} tabindex="0">{ text }</pre>
        </div>
    }
}
