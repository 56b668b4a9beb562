//! The check page's view: the config on the left, what butane makes of it on the right, every
//! finding against the line it points to; the Ignition to copy or download; for an etcd
//! config, the builder's warnings and the live state of the token it names.

use butane::report::Finding;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{File, HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use shared::config::{Platform, PLATFORMS};
use shared::migrate::Fate;

use super::state::{check, Action, CheckState, Checked, Migrated};
use crate::{api, page};

#[function_component]
pub fn Check() -> Html {
    let state = use_reducer(|| CheckState::from_hash(&page::hash()));
    let status = use_state(String::new);
    let token = use_state(|| None::<String>);
    let current_url = use_mut_ref(|| None::<String>);
    // What butane makes of it, and how long that took (for the benchmark, in microseconds).
    let checked = use_memo(state.clone(), |s| {
        let started = page::precise_now_ms();
        let checked = check(s);
        (checked, page::precise_now_ms() - started)
    });
    let (result, took_ms): &(Checked, f64) = &checked;
    {
        let hash = state.hash();
        use_effect_with(hash, |h| page::replace_url(&page::query(), h));
    }
    {
        // The token the config names, read live: would a machine booted with it join?
        // An answer for a URL the config no longer names is dropped.
        let url = result.etcd.as_ref().and_then(|e| e.discovery.clone());
        let (token, current) = (token.clone(), current_url.clone());
        use_effect_with(url, move |url| {
            token.set(None);
            *current.borrow_mut() = url.clone();
            if let Some(url) = url.clone().filter(|u| u.starts_with("http")) {
                spawn_local(async move {
                    let said = match api::read_registry(&url, None, page::now_ms()).await {
                        Ok(registry) => shared::inspect::joinable(&registry.shown.report),
                        Err(api::ReadError::Unreachable(why) | api::ReadError::Refused(why)) => {
                            format!("{url} could not be read: {why}")
                        }
                    };
                    if current.borrow().as_deref() == Some(url.as_str()) {
                        token.set(Some(said));
                    }
                });
            }
        });
    }

    {
        // A legacy config is brought forward by this service, a moment after typing stops; an
        // answer for a text or platform the page no longer holds is dropped.
        let wanted = state
            .wants_migration()
            .then(|| (state.text.clone(), state.platform.id));
        let state = state.clone();
        let current = use_mut_ref(|| None::<(String, &'static str)>);
        use_effect_with(wanted, move |wanted| {
            *current.borrow_mut() = wanted.clone();
            if let Some((text, platform)) = wanted.clone() {
                spawn_local(async move {
                    page::sleep(250).await;
                    if current.borrow().as_ref() != Some(&(text.clone(), platform)) {
                        return;
                    }
                    let result = api::migrate(&text, platform).await;
                    if current.borrow().as_ref() == Some(&(text.clone(), platform)) {
                        state.dispatch(Action::Migrated(Migrated {
                            text,
                            platform,
                            result,
                        }));
                    }
                });
            }
        });
    }

    let on_input = {
        let state = state.clone();
        Callback::from(move |e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            state.dispatch(Action::Edit(area.value()));
        })
    };
    let on_drop = {
        let (state, status) = (state.clone(), status.clone());
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            let file = e
                .data_transfer()
                .and_then(|d| d.files())
                .and_then(|f| f.get(0));
            if let Some(file) = file {
                read_config_file(file, state.clone(), status.clone());
            }
        })
    };
    let on_open = {
        let (state, status) = (state.clone(), status.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                read_config_file(file, state.clone(), status.clone());
            }
        })
    };
    let on_attach = {
        let (state, status) = (state.clone(), status.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(list) = input.files() else { return };
            let files: Vec<File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
            let (state, status) = (state.clone(), status.clone());
            spawn_local(async move {
                let mut read = Vec::new();
                for file in files {
                    match bytes_of(&file).await {
                        Ok(bytes) => read.push((file.name(), bytes)),
                        Err(e) => status.set(format!("{} could not be read: {e}", file.name())),
                    }
                }
                state.dispatch(Action::Attach(read));
            });
        })
    };
    let on_strict = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            state.dispatch(Action::Strict(input.checked()));
        })
    };

    let on_platform = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            if let Some(p) = Platform::by_id(&select.value()) {
                state.dispatch(Action::Platform(p));
            }
        })
    };

    let summary_class = if result.refused {
        "status error"
    } else {
        "status"
    };
    html! {
        <div class="columns check" data-translate-us={((took_ms * 1000.0) as u64).to_string()}
            data-checked-bytes={state.text.len().to_string()}>
            <form aria-label="Config to check" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
                <label for="check-config">{ "Butane config (variant: flatcar, 1.0.0 or 1.1.0), Ignition JSON, or a #cloud-config or Container Linux Config to bring forward" }</label>
                <textarea id="check-config" class="config" spellcheck="false" rows="24" wrap="off"
                    placeholder="variant: flatcar&#10;version: 1.1.0&#10;..."
                    value={state.text.clone()} oninput={on_input} ondrop={on_drop}
                    ondragover={Callback::from(|e: DragEvent| e.prevent_default())} />
                <div class="inline">
                    <label>{ "Open a file " }<input id="check-open" type="file" onchange={on_open} /></label>
                    <label><input id="check-strict" type="checkbox" checked={state.strict} onchange={on_strict} />{ " --strict (any warning refuses it)" }</label>
                </div>
                <label for="check-platform">{ "Platform (what $private_ipv4 and {PRIVATE_IPV4} become; the builder's, where the config names none)" }</label>
                <select id="check-platform" onchange={on_platform}>
                    { for PLATFORMS.iter().map(|p| html! { <option value={p.id} selected={*p == state.platform}>{ p.label }</option> }) }
                </select>
                <label for="check-files">{ "Files for local:, contents_local and ssh_authorized_keys_local (butane's -d)" }</label>
                <input id="check-files" type="file" multiple=true onchange={on_attach} />
                <ul id="check-attached" aria-label="Attached files">
                    { for state.files.iter().map(|(name, bytes)| {
                        let detach = {
                            let (state, name) = (state.clone(), name.clone());
                            Callback::from(move |_: MouseEvent| state.dispatch(Action::Detach(name.clone())))
                        };
                        html! { <li>{ format!("{name} ({} bytes) ", bytes.len()) }<button type="button" onclick={detach}>{ "Remove" }</button></li> }
                    }) }
                </ul>
            </form>
            <section aria-label="What butane makes of it">
                <p id="check-summary" class={summary_class} role="status">{ &result.summary }</p>
                if !status.is_empty() { <p class="status">{ (*status).clone() }</p> }
                if !result.report.is_empty() {
                    if result.migration.is_none() {
                        <ol id="check-findings" class="problems" aria-label="Findings">
                            { for result.report.findings.iter().map(finding_item) }
                        </ol>
                    }
                    { annotated(&state.text, &result.report.findings) }
                }
                if let Some(m) = &result.migration {
                    <h2>{ "Brought forward" }</h2>
                    <ol id="check-migration-report" class="problems" aria-label="What changed or was dropped">
                        { for m.report.iter().map(|e| {
                            let (class, fate) = match e.fate {
                                Fate::Dropped => ("warning", "dropped"),
                                Fate::Changed => ("info", "changed"),
                            };
                            html! { <li class={class} data-line={e.line.to_string()}><strong>{ fate }</strong>{ format!(" line {}, {}: {}", e.line, e.key, e.reason) }</li> }
                        }) }
                    </ol>
                    { crate::builder::view::output("Butane", "check-butane", &m.butane, "config.bu", "application/yaml", &status, true) }
                }
                if let Some(fit) = &result.builder {
                    <div id="check-fit" aria-label="In the builder">
                        <a id="check-open-builder" href={format!("?{}", fit.query)}>{ "Open in the config builder" }</a>
                        if fit.differences.is_empty() {
                            <p>{ "The builder writes this config's etcd exactly as it is." }</p>
                        } else {
                            <p>{ "The builder writes etcd, its address and core's SSH keys. From this config it would leave out or write otherwise:" }</p>
                            <ul class="problems">{ for fit.differences.iter().map(|d| html! { <li class="warning">{ d }</li> }) }</ul>
                        }
                    </div>
                }
                if result.etcd.is_some() || !result.etcd_warnings.is_empty() {
                    <div id="check-etcd" aria-label="etcd">
                        <h2>{ "etcd" }</h2>
                        <ul class="problems">
                            if let Some(said) = (*token).clone() { <li id="check-token" class="warning">{ said }</li> }
                            { for result.etcd_warnings.iter().map(|w| html! { <li class="warning">{ w }</li> }) }
                        </ul>
                    </div>
                }
                if let Some(json) = &result.ignition {
                    { crate::builder::view::output("Ignition", "check-ignition", json, "config.ign", "application/json", &status, true) }
                }
                if let Some(report) = &result.stderr {
                    <h2>{ "butane's report" }</h2>
                    <pre id="check-report" tabindex="0">{ report }</pre>
                }
            </section>
        </div>
    }
}

fn finding_item(f: &Finding) -> Html {
    let class = f.severity.as_str();
    let at = match f.position {
        Some(p) => format!("line {}, column {}", p.line, p.column),
        None => String::new(),
    };
    html! {
        <li class={class} data-line={f.position.map(|p| p.line.to_string())}>
            <strong>{ f.severity.as_str() }</strong>{ format!(" {at} at {}: {}", f.path, f.message) }
        </li>
    }
}

/// The config with each finding under the line it points to, a caret at its column.
fn annotated(text: &str, findings: &[Finding]) -> Html {
    let lines: Vec<&str> = text.split('\n').collect();
    html! {
        <div id="check-annotated" class="annotated" aria-label="Config with findings">
            { for lines.iter().enumerate().map(|(i, line)| {
                let n = i + 1;
                let here: Vec<&Finding> = findings.iter().filter(|f| f.position.is_some_and(|p| p.line == n)).collect();
                let class = match here.iter().map(|f| f.severity).min_by_key(|s| *s as u8) {
                    Some(s) => format!("line {}", s.as_str()),
                    None => "line".to_string(),
                };
                html! {
                    <>
                        <div class={class} data-line={n.to_string()}><span class="number">{ n }</span>{ *line }</div>
                        { for here.iter().map(|f| {
                            let column = f.position.map_or(1, |p| p.column);
                            let kind = format!("note {}", f.severity.as_str());
                            html! { <div class={kind} data-line={n.to_string()}><span class="number"></span>{ format!("{}^ {}", " ".repeat(column - 1), f.message) }</div> }
                        }) }
                    </>
                }
            }) }
        </div>
    }
}

fn read_config_file(
    file: File,
    state: UseReducerHandle<CheckState>,
    status: UseStateHandle<String>,
) {
    spawn_local(async move {
        match bytes_of(&file).await {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => state.dispatch(Action::Edit(text)),
                Err(_) => status.set(format!("{} is not UTF-8 text", file.name())),
            },
            Err(e) => status.set(format!("{} could not be read: {e}", file.name())),
        }
    });
}

async fn bytes_of(file: &File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("{e:?}"))?;
    let buffer: js_sys::ArrayBuffer = buffer
        .dyn_into()
        .map_err(|_| "not an ArrayBuffer".to_string())?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
