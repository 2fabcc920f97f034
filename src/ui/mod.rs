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
use leptos_router::path;

use backend::{BackendSwitch, provide_backend};
use pages::{About, ExperimentOrMissing, Gallery, NotFound};

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
    view! {
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
        <main>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/") view=Gallery />
                <Route path=path!("/about") view=About />
                <Route path=path!("/rng") view=rng::RngWidget />
                <Route path=path!("/gumbel") view=gumbel::GumbelWidget />
                <Route path=path!("/clipping") view=clipping::ClippingWidget />
                <Route path=path!("/selftest") view=selftest::SelfTest />
                <Route path=path!("/bench") view=bench::BenchPage />
                <Route path=path!("/:id") view=ExperimentOrMissing />
            </Routes>
        </main>
        <footer class="site">
            "gradlab — open source; every number is computed in this tab. "
            <A href="/about">"Papers"</A>
        </footer>
    }
}
