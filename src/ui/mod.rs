//! Leptos components only: the shell, the router, and one widget per
//! experiment. The UI never computes science; it asks an experiment.

pub mod backend;
pub mod bench;
pub mod certify;
pub mod charts;
pub mod clipping;
pub mod contours;
pub mod controls;
pub mod diffusion;
pub mod export;
pub mod figure;
pub mod guidance;
pub mod gumbel;
pub mod label_smoothing;
pub mod pages;
pub mod query;
pub mod rng;
pub mod saliency;
pub mod selftest;
pub mod share;
pub mod worker;
pub mod zo;

use std::sync::OnceLock;

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_params_map, use_query_map};
use leptos_router::path;

use crate::experiments::certify::Certify;
use crate::experiments::clipping::Clipping;
use crate::experiments::diffusion::Diffusion;
use crate::experiments::guidance::Guidance;
use crate::experiments::gumbel::Gumbel;
use crate::experiments::label_smoothing::LabelSmoothing;
use crate::experiments::registry::Experiment;
use crate::experiments::rng::Rng;
use crate::experiments::saliency::Saliency;
use crate::experiments::zo::Zo;
use backend::{BackendSwitch, provide_backend};
use pages::{About, ExperimentPage, Gallery, NotFound};
use query::{Control, provide_hidden};

/// Each experiment's widget, by registry id: the page's one line per
/// experiment. Routes (`/<id>`, `/embed/<id>`) and the gallery read it.
const WIDGETS: &[(&str, Widget)] = &[
    (Rng::INFO.id, || view! { <rng::RngWidget /> }.into_any()),
    (Gumbel::INFO.id, || {
        view! { <gumbel::GumbelWidget /> }.into_any()
    }),
    (LabelSmoothing::INFO.id, || {
        view! { <label_smoothing::LabelSmoothingWidget /> }.into_any()
    }),
    (Clipping::INFO.id, || {
        view! { <clipping::ClippingWidget /> }.into_any()
    }),
    (Diffusion::INFO.id, || {
        view! { <diffusion::DiffusionWidget /> }.into_any()
    }),
    (Saliency::INFO.id, || {
        view! { <saliency::SaliencyWidget /> }.into_any()
    }),
    (Guidance::INFO.id, || {
        view! { <guidance::GuidanceWidget /> }.into_any()
    }),
    (Zo::INFO.id, || view! { <zo::ZoWidget /> }.into_any()),
    (Certify::INFO.id, || {
        view! { <certify::CertifyWidget /> }.into_any()
    }),
];

/// Draws one experiment's widget.
pub type Widget = fn() -> AnyView;

/// The widget of experiment `id`, if it has one.
pub fn widget(id: &str) -> Option<Widget> {
    WIDGETS.iter().find(|(w, _)| *w == id).map(|(_, f)| *f)
}

/// The path the lab is served under, without a trailing slash: "" at the
/// site's root, "/gradlab" for `trunk build --public-url /gradlab/` (read at
/// run time from the `<base href>` Trunk writes, never hard-coded).
pub fn base_path() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return String::new();
        };
        // Without a <base> element document.baseURI is the page's own URL.
        if doc.query_selector("base[href]").ok().flatten().is_none() {
            return String::new();
        }
        doc.base_uri()
            .ok()
            .flatten()
            .and_then(|b| web_sys::Url::new(&b).ok())
            .map(|u| u.pathname().trim_end_matches('/').to_string())
            .unwrap_or_default()
    })
}

/// The local-storage key for `name`, scoped by the site's base path, so that
/// several labs under one origin (GitHub Pages serves every project site of
/// a user under `user.github.io`) never share or overwrite a key. At the
/// origin's root the key is `name` itself (what it always was); under
/// `/gradlab/` it is `/gradlab/name`. Every local- and session-storage key
/// goes through here.
pub fn storage_key(name: &str) -> String {
    scoped_key(base_path(), name)
}

/// [`storage_key`] for a given base path ("" or "/gradlab").
pub fn scoped_key(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else {
        format!("{base}/{name}")
    }
}

/// Debug hook for tests: the storage key this site uses for `name`
/// (`window.wasmBindings.gradlab_storage_key("…")`).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn gradlab_storage_key(name: &str) -> String {
    storage_key(name)
}

/// An app route (`/gumbel`, `/`) as a link under [`base_path`].
pub fn app_href(route: &str) -> String {
    format!("{}{route}", base_path())
}

/// The lab's absolute URL with a trailing slash, e.g. `https://x.github.io/gradlab/`.
pub fn site_url() -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    format!("{origin}{}/", base_path())
}

/// A browser path with [`base_path`] taken off: the app's route.
pub fn app_route(pathname: &str) -> &str {
    let base = base_path();
    match pathname.strip_prefix(base) {
        Some(rest) if !base.is_empty() && rest.is_empty() => "/",
        Some(rest) if rest.starts_with('/') || base.is_empty() => rest,
        _ => pathname,
    }
}

/// The experiment the page shows (`gumbel` on `/gumbel` and `/embed/gumbel`), for file names.
pub fn current_experiment() -> String {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    let route = app_route(&path).trim_start_matches('/');
    let route = route.strip_prefix("embed/").unwrap_or(route);
    let id = route.split('/').next().unwrap_or_default();
    if id.is_empty() {
        "lab".into()
    } else {
        id.into()
    }
}

/// Whether the tab is hidden: every widget's animation clock does no work then.
pub fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

/// A widget's animation clock: calls `tick` every `ms` milliseconds while
/// `playing` is set and the tab is visible, until the widget is unmounted.
pub fn animation_clock(playing: RwSignal<bool>, ms: u64, tick: impl Fn() + 'static) {
    if let Ok(handle) = set_interval_with_handle(
        move || {
            if playing.get_untracked() && !page_hidden() {
                tick();
            }
        },
        std::time::Duration::from_millis(ms),
    ) {
        on_cleanup(move || handle.clear());
    }
}

/// Lets the browser paint and take input: resolves on the next macrotask.
pub async fn yield_to_browser() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Milliseconds from the performance clock of the page or of the compute
/// worker (0 where there is none).
pub fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| wasm_bindgen::JsCast::dyn_into::<web_sys::Performance>(p).ok())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Mounts the app on `<body>`; in the compute worker, which loads the same
/// wasm and has no document, it does nothing ([`worker::gradlab_worker_main`] runs there).
pub fn mount() {
    if web_sys::window().is_none() {
        return;
    }
    console_error_panic_hook::set_once();
    query::trim_long_query();
    // The static first paint (crate::site) gives way in the same task as the
    // app mounts, so no frame shows both or neither.
    if let Some(first) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("first-paint"))
    {
        first.remove();
    }
    leptos::mount::mount_to_body(App);
}

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router base=base_path()>
            <Shell />
        </Router>
    }
}

/// Header, main area and footer; inside the router so it can read the URL.
#[component]
fn Shell() -> impl IntoView {
    provide_backend();
    figure::EmbedPick::provide();
    let computed = expect_context::<backend::BackendCtx>().computed;
    let location = use_location();
    let query = use_query_map();
    // Embeds (`/embed/<id>`) show the widget alone, for iframes in blog posts;
    // with `panels=` they are figure embeds: those panels only.
    let embedded = Memo::new(move |_| {
        location
            .pathname
            .with(|p| app_route(p).starts_with("/embed/"))
    });
    let figure =
        Memo::new(move |_| embedded.get() && query.with(|q| q.get_str("panels").is_some()));
    provide_hidden(figure);
    view! {
        <Show when=move || !embedded.get()>
        <header class="site">
            <A href=app_href("/") attr:class="logo">
                <span class="mark" aria-hidden="true">"∇"</span>
                "gradlab"
            </A>
            <nav aria-label="Main">
                <A href=app_href("/")>"Experiments"</A>
                <A href=app_href("/about")>"About"</A>
            </nav>
            <BackendSwitch />
        </header>
        </Show>
        <main
            class:embed=move || embedded.get()
            class:figure=move || figure.get()
            data-computed-on=move || computed.with(|c| c.0.map(|b| b.as_str()))
            data-computed=move || computed.with(|c| c.1.to_string())
        >
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/") view=Gallery />
                <Route path=path!("/about") view=About />
                <Route path=path!("/selftest") view=selftest::SelfTest />
                <Route path=path!("/bench") view=bench::BenchPage />
                <Route path=path!("/embed/:id") view=Embedded />
                <Route path=path!("/:id") view=ExperimentPage />
            </Routes>
        </main>
        <Show when=move || !embedded.get()>
            <footer class="site">
                {crate::site::FOOTER}
                <A href=app_href("/about")>"Papers"</A>
            </footer>
        </Show>
        <UpdateBanner />
    }
}

/// One widget alone, with a link to its full page and the backend switch;
/// with `panels=`, a figure embed ([`figure::FigureFrame`]).
#[component]
fn Embedded() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let query = use_query_map();
    // Mounted again when the figure's panels change (they are fixed while it lives).
    let panels = Memo::new(move |_| query.with(|q| q.get_str("panels").map(str::to_string)));
    move || {
        let id = params.with(|p| p.get("id").unwrap_or_default());
        let figure = panels.with(Option::is_some);
        let (Some(widget), Some(e)) = (widget(&id), crate::experiments::registry::find(&id)) else {
            return view! { <NotFound /> }.into_any();
        };
        // The widget's full page with the same config (the router's `search`
        // has no leading '?'); the embed's own keys stay behind.
        let full = Signal::derive({
            let id = id.clone();
            move || {
                let search = location.search.get();
                let kept = search
                    .split('&')
                    .filter(|p| {
                        !p.is_empty() && !p.starts_with("panels=") && !p.starts_with("controls=")
                    })
                    .collect::<Vec<_>>()
                    .join("&");
                let sep = if kept.is_empty() { "" } else { "?" };
                app_href(&format!("/{id}{sep}{kept}"))
            }
        });
        if figure {
            // A figure: the backend switch only where `controls=` lists it.
            view! {
                <Control name="backend">
                    <div class="embed-bar"><BackendSwitch /></div>
                </Control>
                <figure::FigureFrame e full_href=full>{widget()}</figure::FigureFrame>
            }
            .into_any()
        } else {
            view! {
                <div class="embed-bar">
                    <a href=move || full.get() target="_blank" rel="noopener">"open in gradlab ↗"</a>
                    <Control name="backend">
                        <BackendSwitch />
                    </Control>
                </div>
                {widget()}
            }
            .into_any()
        }
    }
}

/// "Update available — reload": shown when a new build's service worker has
/// installed and waits (static/page.js tells us). Nothing reloads by itself,
/// so a running widget is never interrupted; the click lets the new worker
/// take over and reloads once it controls the page.
#[component]
fn UpdateBanner() -> impl IntoView {
    let waiting = move || {
        web_sys::window()
            .and_then(|w| js_sys::Reflect::get(&w, &"gradlabUpdate".into()).ok())
            .is_some_and(|v| v.is_truthy())
    };
    let ready = RwSignal::new(waiting());
    let handle = window_event_listener_untyped("gradlab:update", move |_| ready.set(waiting()));
    on_cleanup(move || handle.remove());
    let apply = move |_| {
        let f = web_sys::window()
            .and_then(|w| js_sys::Reflect::get(&w, &"gradlabApplyUpdate".into()).ok())
            .and_then(|f| wasm_bindgen::JsCast::dyn_into::<js_sys::Function>(f).ok());
        match f {
            Some(f) => {
                let _ = f.call0(&wasm_bindgen::JsValue::NULL);
            }
            None => {
                let _ = web_sys::window().map(|w| w.location().reload());
            }
        }
    };
    view! {
        <Show when=move || ready.get()>
            <div class="update-banner" role="status" data-testid="update-banner">
                <button type="button" on:click=apply data-testid="update-reload">
                    "Update available — reload"
                </button>
            </div>
        </Show>
    }
}
