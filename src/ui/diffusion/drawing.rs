//! The reader's own data: the drawn points and the custom mixture, kept in
//! the browser's local storage ([`super::store`]), and the tools to clear,
//! export, import and undo them.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::store::{DrawingStore, thousands};
use crate::experiments::diffusion::{
    DiffusionConfig, DiffusionData, Drawing, MAX_DRAWN_POINTS, sanitize_drawn,
};

/// Keeps the reader's custom mixture in the browser (with the drawing).
pub(super) fn keep_mixture(store: DrawingStore, c: &DiffusionConfig) {
    let m = c.stored_mixture();
    store.change(|d| {
        d.mixture = Some(m);
        None
    });
}

/// Adds a drawn stroke to the drawing (its mixture and other tabs' strokes
/// stay), and stores it; says how many points did not fit.
pub(super) fn add_stroke(store: DrawingStore, stroke: Vec<[f32; 2]>) {
    store.change(|d| {
        let (stroke, outside) = sanitize_drawn(&stroke);
        d.points.extend(stroke);
        let (points, over) = sanitize_drawn(&d.points);
        d.points = points;
        let mut notes = Vec::new();
        if over > 0 {
            notes.push(format!(
                "A drawing holds at most {} points: {over} points of this stroke were not added.",
                thousands(MAX_DRAWN_POINTS)
            ));
        }
        if outside > 0 {
            notes.push(format!(
                "{outside} points of this stroke were outside the canvas and were not added."
            ));
        }
        (!notes.is_empty()).then(|| notes.join(" "))
    });
}

/// A bare `?dataset=custom` link opens the reader's own stored mixture.
pub(super) fn open_stored_mixture(
    cfg: Memo<DiffusionConfig>,
    drawing: RwSignal<Drawing>,
    set_config: impl Fn(&DiffusionConfig),
) {
    let query = leptos_router::hooks::use_query_map();
    let bare = query.with_untracked(|q| q.get("gmm").is_none());
    let stored = drawing.with_untracked(|d| d.mixture.clone());
    let mut c = cfg.get_untracked();
    if bare
        && c.dataset == DiffusionData::Custom
        && let Some(m) = stored
        && c.set_mixture(&m).is_ok()
    {
        set_config(&c);
    }
}

/// The drawing as a JSON file to download.
fn export_href(drawing: RwSignal<Drawing>) -> String {
    format!(
        "data:application/json;charset=utf-8,{}",
        String::from(js_sys::encode_uri_component(
            &drawing.with(Drawing::to_json)
        ))
    )
}

/// Imports a drawing (JSON text): it replaces the stored one, which one
/// undo brings back; its mixture, if any, becomes the config's.
fn import(
    store: DrawingStore,
    cfg: Memo<DiffusionConfig>,
    apply_config: Callback<DiffusionConfig>,
    text: &str,
) {
    match Drawing::parse(text) {
        Ok((d, dropped)) => {
            let note = (dropped > 0).then(|| format!(
                "{dropped} points were outside the canvas or beyond the {} points a drawing holds, and were left out.",
                thousands(MAX_DRAWN_POINTS)
            ));
            apply_mixture(&d, cfg, apply_config);
            store.replace("import", d, note);
        }
        Err(e) => store.note.set(Some(format!(
            "Import failed: {e}. Your drawing is unchanged."
        ))),
    }
}

/// Makes a drawing's mixture the config's (an import, an undo).
fn apply_mixture(d: &Drawing, cfg: Memo<DiffusionConfig>, apply_config: Callback<DiffusionConfig>) {
    if let Some(m) = &d.mixture {
        let mut c = cfg.get_untracked();
        if c.set_mixture(m).is_ok() && c != cfg.get_untracked() {
            apply_config.run(c);
        }
    }
}

/// Reads a chosen file as text and imports it.
fn import_file(
    store: DrawingStore,
    cfg: Memo<DiffusionConfig>,
    apply_config: Callback<DiffusionConfig>,
    ev: &web_sys::Event,
) {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    let Some(file) = input.files().and_then(|f| f.get(0)) else {
        return;
    };
    // The same file can be chosen again.
    input.set_value("");
    if file.size() > f64::from(1 << 20) {
        store.note.set(Some(
            "Import failed: the file is larger than 1 MB. Your drawing is unchanged.".into(),
        ));
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(file.text()).await {
            Ok(text) => import(
                store,
                cfg,
                apply_config,
                &text.as_string().unwrap_or_default(),
            ),
            Err(_) => store.note.set(Some(
                "Import failed: the file could not be read. Your drawing is unchanged.".into(),
            )),
        }
    });
}

/// The note under the canvas about the drawing; while the drawing could not
/// be stored, it offers the export right there.
#[component]
pub(super) fn DrawingNote(store: DrawingStore) -> impl IntoView {
    move || {
        store.note.get().map(|m| {
            view! {
                <p class="notes" role="status" data-testid="drawing-note">
                    {m}
                    {move || (!store.saved.get()).then(|| view! {
                        " "
                        <a class="button" download="gradlab-drawing.json" data-testid="drawing-note-export"
                            href=move || export_href(store.drawing)>
                            "Export the drawing"
                        </a>
                        " to keep it: until then it lasts only as long as this page."
                    })}
                </p>
            }
        })
    }
}

/// The drawing tools: how much is drawn, and buttons to clear, export,
/// import (a file or typed JSON) and undo the drawing (and mixture).
#[component]
pub(super) fn DrawingTools(
    cfg: Memo<DiffusionConfig>,
    /// Writes a whole config (an imported mixture).
    apply_config: Callback<DiffusionConfig>,
    drawing: RwSignal<Drawing>,
    drawing_note: RwSignal<Option<String>>,
    /// The JSON typed for import (kept while the tools are hidden).
    import_text: RwSignal<String>,
) -> impl IntoView {
    let store = DrawingStore {
        drawing,
        note: drawing_note,
        ..expect_context::<DrawingStore>()
    };
    view! {
        <div class="drawing-tools">
            <p class="muted" data-testid="drawing-count">{move || {
                let n = drawing.with(|d| d.points.len());
                format!(
                    "{} drawn points{}{}; both are kept in this browser. Drag on the canvas to add points or move a component.",
                    thousands(n),
                    if n >= MAX_DRAWN_POINTS { " (the most a drawing holds: further strokes are not added)" } else { "" },
                    if drawing.with(|d| d.mixture.is_some()) { " and your mixture" } else { "" },
                )
            }}</p>
            <div class="buttons">
                <button data-testid="clear-drawing" on:click=move |_| {
                    let d = Drawing { points: Vec::new(), ..drawing.get_untracked() };
                    store.replace("clear", d, None);
                }>"Clear"</button>
                <a class="button" download="gradlab-drawing.json" data-testid="export-drawing"
                    href=move || export_href(drawing)>
                    "Export JSON"
                </a>
                {move || store.undo.get().map(|u| view! {
                    <button data-testid="undo-drawing" title="Bring back the drawing this replaced" on:click=move |_| {
                        if let Some(d) = store.undo() {
                            apply_mixture(&d, cfg, apply_config);
                        }
                    }>{u.label()}</button>
                })}
            </div>
            <label>
                <span>"Import a file"</span>
                <input type="file" accept=".json,application/json" data-testid="import-drawing-file"
                    on:change=move |ev| import_file(store, cfg, apply_config, &ev) />
            </label>
            <label>
                <span>"Import JSON"</span>
                <textarea rows="2" data-testid="import-drawing" placeholder="{\"version\":1,\"points\":[[x,y],…]}"
                    on:input=move |ev| import_text.set(event_target_value(&ev))></textarea>
            </label>
            <button data-testid="import-drawing-go" on:click=move |_| {
                import(store, cfg, apply_config, &import_text.get_untracked());
            }>"Import"</button>
        </div>
    }
}
