//! The page: a header with two tabs, the config builder and the token inspector.

use yew::prelude::*;

use crate::builder::view::Builder;
use crate::inspector::view::Inspector;
use crate::page;

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    Builder,
    Inspector,
}

#[function_component]
pub fn App() -> Html {
    let tab = use_state(|| {
        if page::hash() == "#inspect" {
            Tab::Inspector
        } else {
            Tab::Builder
        }
    });
    let select = |t: Tab| {
        let tab = tab.clone();
        Callback::from(move |_: MouseEvent| {
            page::replace_url(
                &page::query(),
                if t == Tab::Inspector { "#inspect" } else { "" },
            );
            tab.set(t);
        })
    };
    html! {
        <>
            <header>
                <h1>{ "Rendezvous" }</h1>
                <nav role="tablist" aria-label="Views">
                    <button role="tab" aria-selected={(*tab == Tab::Builder).to_string()} onclick={select(Tab::Builder)}>{ "Config builder" }</button>
                    <button role="tab" aria-selected={(*tab == Tab::Inspector).to_string()} onclick={select(Tab::Inspector)}>{ "Token inspector" }</button>
                </nav>
            </header>
            <main>
                if *tab == Tab::Builder { <Builder /> } else { <Inspector /> }
            </main>
        </>
    }
}
