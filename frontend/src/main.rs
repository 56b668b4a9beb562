//! The browser app: a Flatcar etcd config builder and a discovery token inspector. The views are
//! thin; what they show comes from `shared` (config generation, diagnosis) and `state` modules.

mod api;
mod app;
mod builder;
mod inspector;
mod page;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
