//! Share a view: copy its link, reset it to the defaults, export its numbers
//! as the same JSON the CLI prints for the same config.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::figure::EmbedPick;
use super::query::{Control, PAGE_KEYS};
use crate::experiments::registry;

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
    let pick = expect_context::<EmbedPick>();
    let show_embed = pick.open;
    let controls = RwSignal::new(Vec::<&'static str>::new());
    // The snippets follow the page's state (its query) and the picks.
    let query = leptos_router::hooks::use_query_map();
    let snippets = move || {
        query.track();
        embed_snippets(name, &pick.panels.get(), &controls.get())
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
            <div class="embed-snippets" data-testid="embed-snippets">
                <EmbedPicker name panels=pick.panels controls />
                {move || {
                    let (iframe, element) = snippets();
                    view! {
                        <label>"An iframe (sized to its content by embed.js)"<textarea readonly rows="3">{iframe}</textarea></label>
                        <label>"Or a custom element"<textarea readonly rows="3">{element}</textarea></label>
                    }
                }}
            </div>
        </Show>
        </Control>
    }
}

/// The iframe and the custom-element snippets for experiment `name` in its
/// current state (the page's query), as a figure of `panels` with
/// `controls` when any panel is chosen, else as the whole widget.
fn embed_snippets(name: &str, panels: &[&str], controls: &[&str]) -> (String, String) {
    // Under the site's base path (e.g. /gradlab/ on GitHub Pages).
    let site = super::site_url();
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    // The config as the page shows it; the page's own keys are set below.
    let mut pairs: Vec<String> = search
        .trim_start_matches('?')
        .split('&')
        .filter(|p| {
            let key = p.split('=').next().unwrap_or_default();
            !p.is_empty() && !PAGE_KEYS.contains(&key)
        })
        .map(str::to_string)
        .collect();
    let config = pairs.join("&");
    if !panels.is_empty() {
        pairs.push(format!("panels={}", panels.join(",")));
        if !controls.is_empty() {
            pairs.push(format!("controls={}", controls.join(",")));
        }
    }
    let query = pairs.join("&");
    let sep = if query.is_empty() { "" } else { "?" };
    let attr = |v: &str| v.replace('&', "&amp;").replace('"', "&quot;");
    let iframe = format!(
        "<iframe src=\"{site}embed/{name}{sep}{}\" style=\"width:100%;border:0\" loading=\"lazy\" title=\"gradlab: {name}\"></iframe>\n<script src=\"{site}embed.js\" defer></script>",
        attr(&query)
    );
    let mut element = format!("<gradlab-widget experiment=\"{name}\"");
    if !panels.is_empty() {
        element.push_str(&format!(" panels=\"{}\"", panels.join(",")));
        if !controls.is_empty() {
            element.push_str(&format!(" controls=\"{}\"", controls.join(",")));
        }
    }
    element.push_str(&format!(" config=\"{}\"></gradlab-widget>", attr(&config)));
    (
        iframe,
        format!("<script src=\"{site}embed.js\" defer></script>\n{element}"),
    )
}

/// Check boxes for the figures and controls an embed shows: no figure
/// chosen embeds the whole widget.
#[component]
fn EmbedPicker(
    name: &'static str,
    panels: RwSignal<Vec<&'static str>>,
    controls: RwSignal<Vec<&'static str>>,
) -> impl IntoView {
    let e = registry::find(name)?;
    let toggle = |list: RwSignal<Vec<&'static str>>, id: &'static str, on: bool| {
        list.update(|l| {
            l.retain(|x| *x != id);
            if on {
                l.push(id);
            }
        });
    };
    let keys: Vec<&'static str> = e
        .fields()
        .into_iter()
        .map(|f| f.name)
        .chain(["share", "backend"])
        .collect();
    Some(view! {
        <fieldset class="embed-pick" data-testid="embed-panels">
            <legend>"Figures (none: the whole widget)"</legend>
            {e.info().panels.iter().map(|p| {
                let id = p.id;
                view! {
                    <label class="check">
                        <input type="checkbox" value=id
                            prop:checked=move || panels.with(|l| l.contains(&id))
                            on:change=move |ev| toggle(panels, id, event_target_checked(&ev)) />
                        {p.title}
                    </label>
                }
            }).collect_view()}
        </fieldset>
        <fieldset class="embed-pick" data-testid="embed-controls"
            prop:disabled=move || panels.with(Vec::is_empty)>
            <legend>"Controls a figure shows"</legend>
            {keys.into_iter().map(|k| view! {
                <label class="check">
                    <input type="checkbox" value=k
                        prop:checked=move || controls.with(|l| l.contains(&k))
                        on:change=move |ev| toggle(controls, k, event_target_checked(&ev)) />
                    {k}
                </label>
            }).collect_view()}
        </fieldset>
    })
}
