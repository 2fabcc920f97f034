//! The reader's own data: the drawn points and the custom mixture, kept in
//! the browser's local storage, and the tools to clear, export and import them.

use leptos::prelude::*;

use crate::experiments::diffusion::{DiffusionConfig, DiffusionData, Drawing, sanitize_drawn};

/// Where the reader's drawing lives in local storage (versioned).
const DRAWING_KEY: &str = "gradlab.diffusion.drawing.v1";

/// The stored drawing (empty when there is none), and a note when it could
/// not be read whole.
pub(super) fn read_drawing() -> (Drawing, Option<String>) {
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
    let Some(text) = storage
        .as_ref()
        .and_then(|s| s.get_item(DRAWING_KEY).ok().flatten())
    else {
        return (Drawing::new(Vec::new()), None);
    };
    match Drawing::parse(&text) {
        Ok((d, 0)) => (d, None),
        Ok((d, dropped)) => (
            d,
            Some(format!(
                "{dropped} stored points were outside the canvas and were left out."
            )),
        ),
        Err(e) => {
            // Keep the unreadable text where the reader can still recover it.
            if let Some(s) = storage {
                let _ = s.set_item(&format!("{DRAWING_KEY}.unreadable"), &text);
            }
            (
                Drawing::new(Vec::new()),
                Some(format!(
                    "Your stored drawing could not be read ({e}); it was kept under \"{DRAWING_KEY}.unreadable\"."
                )),
            )
        }
    }
}

/// Stores the drawing; the error says why it could not be.
pub(super) fn write_drawing(d: &Drawing) -> Result<(), String> {
    let storage = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .ok_or("this browser has no local storage; the drawing lasts until you leave")?;
    storage
        .set_item(DRAWING_KEY, &d.to_json())
        .map_err(|_| "the browser refused to store the drawing (storage full?)".to_string())
}

/// Keeps the reader's custom mixture in the browser (with the drawing).
pub(super) fn keep_mixture(
    drawing: RwSignal<Drawing>,
    drawing_note: RwSignal<Option<String>>,
    c: &DiffusionConfig,
) {
    drawing.update(|d| d.mixture = Some(c.stored_mixture()));
    drawing_note.set(drawing.with_untracked(write_drawing).err());
}

/// Adds a drawn stroke to the drawing, and stores it.
pub(super) fn add_stroke(
    drawing: RwSignal<Drawing>,
    drawing_note: RwSignal<Option<String>>,
    stroke: Vec<[f32; 2]>,
) {
    let mut d = drawing.get_untracked();
    d.points.extend(stroke);
    let (points, _) = sanitize_drawn(&d.points);
    let d = Drawing::new(points);
    drawing_note.set(write_drawing(&d).err());
    drawing.set(d);
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

/// The drawing tools: how much is drawn, and buttons to clear, export and
/// import the drawing (and mixture) as JSON.
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
    view! {
        <div class="drawing-tools">
            <p class="muted">{move || format!(
                "{} drawn points{}; both are kept in this browser. Drag on the canvas to add points or move a component.",
                drawing.with(|d| d.points.len()),
                if drawing.with(|d| d.mixture.is_some()) { " and your mixture" } else { "" },
            )}</p>
            <div class="buttons">
                <button data-testid="clear-drawing" on:click=move |_| {
                    let d = Drawing { points: Vec::new(), ..drawing.get_untracked() };
                    drawing_note.set(write_drawing(&d).err());
                    drawing.set(d);
                }>"Clear"</button>
                <a class="button" download="gradlab-drawing.json" data-testid="export-drawing"
                    href=move || format!("data:application/json;charset=utf-8,{}", String::from(js_sys::encode_uri_component(&drawing.with(Drawing::to_json))))>
                    "Export JSON"
                </a>
            </div>
            <label>
                <span>"Import JSON"</span>
                <textarea rows="2" data-testid="import-drawing" placeholder="{\"version\":1,\"points\":[[x,y],…]}"
                    on:input=move |ev| import_text.set(event_target_value(&ev))></textarea>
            </label>
            <button data-testid="import-drawing-go" on:click=move |_| {
                match Drawing::parse(&import_text.get_untracked()) {
                    Ok((d, dropped)) => {
                        let note = write_drawing(&d).err().or((dropped > 0).then(|| format!("{dropped} points outside the canvas were left out.")));
                        drawing_note.set(note);
                        if let Some(m) = &d.mixture {
                            let mut c = cfg.get_untracked();
                            if c.set_mixture(m).is_ok() {
                                apply_config.run(c);
                            }
                        }
                        drawing.set(d);
                    }
                    Err(e) => drawing_note.set(Some(format!("Import failed: {e}. Your drawing is unchanged."))),
                }
            }>"Import"</button>
        </div>
    }
}
