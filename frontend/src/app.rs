//! The page: a header with three tabs, the config builder, the token inspector and the config
//! checker. The URL's hash names the tab (`#inspect...`, `#check...`) and holds its state.

use yew::prelude::*;

use crate::builder::view::Builder;
use crate::check::view::Check;
use crate::inspector::view::Inspector;
use crate::page;

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    Builder,
    Inspector,
    Check,
}

impl Tab {
    fn from_hash(hash: &str) -> Tab {
        if hash.starts_with(crate::inspector::state::HASH) {
            Tab::Inspector
        } else if hash.starts_with(crate::check::state::HASH) {
            Tab::Check
        } else {
            Tab::Builder
        }
    }

    fn hash(self) -> &'static str {
        match self {
            Tab::Builder => "",
            Tab::Inspector => crate::inspector::state::HASH,
            Tab::Check => crate::check::state::HASH,
        }
    }
}

#[function_component]
pub fn App() -> Html {
    let tab = use_state(|| Tab::from_hash(&page::hash()));
    let select = |t: Tab| {
        let tab = tab.clone();
        Callback::from(move |_: MouseEvent| {
            if *tab != t {
                page::replace_url(&page::query(), t.hash());
                tab.set(t);
            }
        })
    };
    let selected = |t: Tab| (*tab == t).to_string();
    html! {
        <>
            <header>
                <h1>{ "Rendezvous" }</h1>
                <nav role="tablist" aria-label="Views">
                    <button role="tab" aria-selected={selected(Tab::Builder)} onclick={select(Tab::Builder)}>{ "Config builder" }</button>
                    <button role="tab" aria-selected={selected(Tab::Inspector)} onclick={select(Tab::Inspector)}>{ "Token inspector" }</button>
                    <button role="tab" aria-selected={selected(Tab::Check)} onclick={select(Tab::Check)}>{ "Check a config" }</button>
                </nav>
            </header>
            <main>
                {
                    match *tab {
                        Tab::Builder => html! { <Builder /> },
                        Tab::Inspector => html! { <Inspector /> },
                        Tab::Check => html! { <Check /> },
                    }
                }
            </main>
        </>
    }
}
