//! Share a view: copy its link, reset it to the defaults, export its numbers
//! as the same JSON the CLI prints for the same config.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::query::Control;

/// Copies `text` to the clipboard; `false` where the browser refuses.
fn copy_to_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = js_sys::Reflect::get(&window.navigator(), &"clipboard".into())
        .ok()
        .filter(|c| !c.is_undefined());
    let Some(clipboard) = clipboard else {
        return false;
    };
    let write = js_sys::Reflect::get(&clipboard, &"writeText".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    match write {
        Some(f) => f.call1(&clipboard, &text.into()).is_ok(),
        None => false,
    }
}

/// Copy link, Reset and Export JSON for one widget.
#[component]
pub fn ShareBar(
    /// File name stem of the export, e.g. "gumbel".
    name: &'static str,
    /// The widget's current numbers as CLI JSON, once computed.
    json: Signal<Option<String>>,
    on_reset: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let status = RwSignal::new(String::new());
    let copy = move |_| {
        let href = web_sys::window()
            .and_then(|w| w.location().href().ok())
            .unwrap_or_default();
        status.set(if copy_to_clipboard(&href) {
            "Link copied.".into()
        } else {
            format!("Copy this link: {href}")
        });
    };
    let href = move || {
        json.get()
            .map(|j| {
                format!(
                    "data:application/json;charset=utf-8,{}",
                    String::from(js_sys::encode_uri_component(&j))
                )
            })
            .unwrap_or_default()
    };
    let show_embed = RwSignal::new(false);
    let snippets = move || {
        // Under the site's base path (e.g. /gradlab/ on GitHub Pages).
        let site = super::site_url();
        let search = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        let query = search.trim_start_matches('?').to_string();
        let iframe = format!(
            "<iframe src=\"{site}embed/{name}{search}\" style=\"width:100%;border:0\" loading=\"lazy\" title=\"gradlab: {name}\"></iframe>\n<script src=\"{site}embed.js\" defer></script>"
        );
        let element = format!(
            "<script src=\"{site}embed.js\" defer></script>\n<gradlab-widget experiment=\"{name}\" config=\"{}\"></gradlab-widget>",
            query.replace('&', "&amp;").replace('"', "&quot;")
        );
        (iframe, element)
    };
    view! {
        <Control name="share">
        <div class="share-bar">
            <button on:click=copy data-testid="copy-link">"Copy link"</button>
            <button on:click=move |_| show_embed.update(|s| *s = !*s) aria-expanded=move || show_embed.get().to_string() data-testid="embed">"Embed"</button>
            <button on:click=move |_| on_reset() data-testid="reset">"Reset"</button>
            <a
                class="button"
                class:disabled=move || json.with(Option::is_none)
                href=href
                download=format!("gradlab-{name}.json")
                data-testid="export-json"
            >
                "Export JSON"
            </a>
            <span class="share-status" role="status">{move || status.get()}</span>
        </div>
        <Show when=move || show_embed.get()>
            {move || {
                let (iframe, element) = snippets();
                view! {
                    <div class="embed-snippets" data-testid="embed-snippets">
                        <label>"An iframe (sized to its content by embed.js)"<textarea readonly rows="3">{iframe}</textarea></label>
                        <label>"Or a custom element"<textarea readonly rows="3">{element}</textarea></label>
                    </div>
                }
            }}
        </Show>
        </Control>
    }
}
