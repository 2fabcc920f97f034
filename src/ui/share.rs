//! Share a view: copy its link, reset it to the defaults, export its numbers
//! as the same JSON the CLI prints for the same config.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

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
    view! {
        <div class="share-bar">
            <button on:click=copy data-testid="copy-link">"Copy link"</button>
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
    }
}
