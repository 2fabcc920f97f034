//! Leptos components only: the shell, the router, and one widget per
//! experiment. The UI never computes science; it asks an experiment.

pub mod backend;
pub mod bench;
pub mod charts;
pub mod clipping;
pub mod gumbel;
pub mod pages;
pub mod query;
pub mod rng;
pub mod selftest;
pub mod share;

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_params_map};
use leptos_router::path;

use backend::{BackendSwitch, provide_backend};
use pages::{About, ExperimentOrMissing, Gallery, NotFound};

/// Milliseconds from the page's performance clock (0 where there is none).
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Mounts the app on `<body>`.
pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Shell />
        </Router>
    }
}

/// Header, main area and footer; inside the router so it can read the URL.
#[component]
fn Shell() -> impl IntoView {
    provide_backend();
    let location = use_location();
    // Embeds (`/embed/<id>`) show the widget alone, for iframes in blog posts.
    let embedded = Memo::new(move |_| location.pathname.get().starts_with("/embed/"));
    view! {
        <Show when=move || !embedded.get()>
        <header class="site">
            <A href="/" attr:class="logo">
                <span class="mark" aria-hidden="true">"∇"</span>
                "gradlab"
            </A>
            <nav aria-label="Main">
                <A href="/">"Experiments"</A>
                <A href="/about">"About"</A>
            </nav>
            <BackendSwitch />
        </header>
        </Show>
        <main class:embed=move || embedded.get()>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/") view=Gallery />
                <Route path=path!("/about") view=About />
                <Route path=path!("/rng") view=rng::RngWidget />
                <Route path=path!("/gumbel") view=gumbel::GumbelWidget />
                <Route path=path!("/clipping") view=clipping::ClippingWidget />
                <Route path=path!("/selftest") view=selftest::SelfTest />
                <Route path=path!("/bench") view=bench::BenchPage />
                <Route path=path!("/embed/:id") view=Embedded />
                <Route path=path!("/:id") view=ExperimentOrMissing />
            </Routes>
        </main>
        <Show when=move || !embedded.get()>
            <footer class="site">
                "gradlab — open source; every number is computed in this tab. "
                <A href="/about">"Papers"</A>
            </footer>
        </Show>
    }
}

/// One widget alone, with a link to its full page and the backend switch.
#[component]
fn Embedded() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    move || {
        let id = params.with(|p| p.get("id").unwrap_or_default());
        let widget = match id.as_str() {
            "rng" => view! { <rng::RngWidget /> }.into_any(),
            "gumbel" => view! { <gumbel::GumbelWidget /> }.into_any(),
            "clipping" => view! { <clipping::ClippingWidget /> }.into_any(),
            _ => view! { <NotFound /> }.into_any(),
        };
        let full = format!("/{id}{}", location.search.get_untracked());
        view! {
            <div class="embed-bar">
                <a href=full target="_blank" rel="noopener">"open in gradlab ↗"</a>
                <BackendSwitch />
            </div>
            {widget}
        }
    }
}
