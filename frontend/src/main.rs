//! The browser app: a Flatcar etcd config builder, a discovery token inspector and a config
//! checker. The views are thin; what they show comes from `shared` (config generation,
//! diagnosis), the `butane` crate and `state` modules.

mod api;
mod app;
mod builder;
mod check;
mod inspector;
mod page;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
