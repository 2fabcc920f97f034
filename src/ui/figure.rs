//! Figure embeds: `/embed/<id>?panels=<panel>,…&controls=<key>,…` shows only
//! those panels of a widget (the registry lists each experiment's panel
//! ids) and only those controls, compact, with a one-line caption, for a
//! blog post's column. Panels that are not shown are not mounted, and a
//! widget asks [`needs`] before it starts the work of a panel, so an embed
//! of one plot computes only that plot.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::charts::short;
use super::pages::paper_anchor;
use super::query::{MAX_NOTES, name_list, use_set_query};
use crate::experiments::config::{FieldInfo, FieldInput};
use crate::experiments::registry::{PanelInfo, Registered};

/// Which of an embedded widget's panels are shown; absent on a widget's own
/// page and in a whole-widget embed (every panel is shown there). Fixed for
/// the embed's life: the embed route mounts the widget again if `panels=`
/// changes.
#[derive(Clone)]
pub struct FigurePanels(Vec<&'static str>);

/// The panels `panels=` asks for in experiment `e`, and a note for each name
/// it has no panel for. Unknown or none at all: the default (first) panel.
fn chosen_panels(e: &dyn Registered, value: Option<&str>) -> (Vec<&'static str>, Vec<String>) {
    let all = e.info().panels;
    let mut shown = Vec::new();
    let mut unknown = Vec::new();
    for name in name_list(value) {
        match all.iter().find(|p| p.id == name) {
            Some(p) if !shown.contains(&p.id) => shown.push(p.id),
            Some(_) => {}
            None => unknown.push(format!("\"{name}\"")),
        }
    }
    let mut notes = Vec::new();
    if shown.is_empty()
        && let Some(first) = all.first()
    {
        shown.push(first.id);
    }
    if !unknown.is_empty() {
        let ids = all.iter().map(|p| p.id).collect::<Vec<_>>().join(", ");
        notes.push(format!(
            "panels: no panel named {} in {}, showing \"{}\" (one of: {ids})",
            unknown.join(", "),
            e.info().id,
            shown.join(", ")
        ));
    }
    (shown, notes)
}

/// The names `controls=` may list besides the config keys.
const CONTROL_GROUPS: &[&str] = &["share", "backend"];

/// A note for each name in `controls=` that is neither a config key of `e`
/// nor a control group.
fn control_notes(e: &dyn Registered, value: Option<&str>) -> Vec<String> {
    let fields = e.fields();
    let unknown = name_list(value)
        .into_iter()
        .filter(|n| !CONTROL_GROUPS.contains(&n.as_str()) && !fields.iter().any(|f| f.name == n))
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>();
    if unknown.is_empty() {
        return Vec::new();
    }
    let known = fields
        .iter()
        .map(|f| f.name)
        .chain(CONTROL_GROUPS.iter().copied())
        .collect::<Vec<_>>()
        .join(", ");
    vec![format!(
        "controls: no control named {} here, ignored (one of: {known})",
        unknown.join(", ")
    )]
}

/// Whether panel `id` is shown, so whether the widget needs its work:
/// always, outside a figure embed.
pub fn needs(id: &str) -> bool {
    use_context::<FigurePanels>().is_none_or(|f| f.0.contains(&id))
}

/// Whether any of the panels `ids` is needed.
pub fn needs_any(ids: &[&str]) -> bool {
    ids.iter().any(|id| needs(id))
}

/// Which panel the reader asked to embed ("embed this figure"): the Embed
/// dialog opens with it chosen. Provided once by the shell.
#[derive(Clone, Copy)]
pub struct EmbedPick {
    pub open: RwSignal<bool>,
    pub panels: RwSignal<Vec<&'static str>>,
}

impl EmbedPick {
    pub fn provide() {
        provide_context(EmbedPick {
            open: RwSignal::new(false),
            panels: RwSignal::new(Vec::new()),
        });
    }
}

/// One figure of a widget: a `<section class="panel" data-panel=id>` with
/// an "embed this figure" action; not mounted where a figure embed leaves it
/// out. `id` must be listed in the experiment's registry `panels`.
#[component]
pub fn Panel(
    id: &'static str,
    /// Extra classes besides `panel`.
    #[prop(optional)]
    class: &'static str,
    /// Its `data-testid`, if any.
    #[prop(optional)]
    testid: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    if !needs(id) {
        return None;
    }
    let class = if class.is_empty() {
        "panel".to_string()
    } else {
        format!("panel {class}")
    };
    let pick = move |_| {
        if let Some(p) = use_context::<EmbedPick>() {
            p.panels.set(vec![id]);
            p.open.set(true);
            // Once the dialog is drawn: bring it into view.
            request_animation_frame(|| {
                if let Some(dialog) = web_sys::window().and_then(|w| w.document()).and_then(|d| {
                    d.query_selector("[data-testid=embed-snippets]")
                        .ok()
                        .flatten()
                }) {
                    dialog.scroll_into_view();
                }
            });
        }
    };
    Some(view! {
        <section class=class data-panel=id data-testid=testid>
            <button type="button" class="panel-embed" on:click=pick
                title="Embed this figure in a page" aria-label="Embed this figure"
                data-testid="panel-embed">"</> embed"</button>
            {children()}
        </section>
    })
}

/// A figure embed's frame around a widget: its notes, the allowed controls
/// (drawn from the registry's field list, so every experiment gets them),
/// the widget with only its chosen panels, and a one-line caption.
#[component]
pub fn FigureFrame(
    e: &'static dyn Registered,
    full_href: Signal<String>,
    children: Children,
) -> impl IntoView {
    let query = use_query_map();
    let chosen = Memo::new(move |_| query.with(|q| chosen_panels(e, q.get_str("panels"))));
    provide_context(FigurePanels(chosen.with_untracked(|c| c.0.clone())));
    let notes = Memo::new(move |_| {
        let mut n = chosen.with(|c| c.1.clone());
        n.extend(query.with(|q| control_notes(e, q.get_str("controls"))));
        n.truncate(MAX_NOTES);
        n
    });
    let titles = move || {
        chosen.with(|c| {
            c.0.iter()
                .filter_map(|id| e.info().panels.iter().find(|p| p.id == *id))
                .map(|p: &PanelInfo| p.title)
                .collect::<Vec<_>>()
                .join(" · ")
        })
    };
    let paper = e.info().papers[0];
    view! {
        <Show when=move || !notes.with(Vec::is_empty)>
            <div class="notes" role="status" data-testid="figure-notes">
                <ul>{move || notes.get().into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
            </div>
        </Show>
        <FigureControls e />
        {children()}
        <p class="figure-caption" data-testid="figure-caption">
            <strong>{titles}</strong>
            " — "
            {paper_anchor(paper)}
            " · "
            <a href=move || full_href.get() target="_blank" rel="noopener">"open in gradlab ↗"</a>
        </p>
    }
}

/// The controls `controls=` allows, one generic control per config key.
#[component]
fn FigureControls(e: &'static dyn Registered) -> impl IntoView {
    let query = use_query_map();
    let set_query = use_set_query();
    // Every field's current value, read as the widget reads it (leniently).
    let values = Memo::new(move |_| {
        query.with(|q| {
            let pairs: Vec<(&str, &str)> = q.into_iter().map(|(k, v)| (k.as_ref(), v)).collect();
            e.lenient_pairs(&pairs)
        })
    });
    let allowed = Memo::new(move |_| {
        let names = query.with(|q| name_list(q.get_str("controls")));
        e.fields()
            .into_iter()
            .filter(|f| names.iter().any(|n| n == f.name))
            .collect::<Vec<_>>()
    });
    move || {
        let fields = allowed.get();
        if fields.is_empty() {
            return None;
        }
        let set_query = set_query.clone();
        Some(view! {
            <div class="controls figure-controls" data-testid="figure-controls">
                {fields.into_iter().map(|f| {
                    let key = f.name;
                    let value = Signal::derive(move || {
                        values.with(|v| v.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()).unwrap_or_default())
                    });
                    let set_query = set_query.clone();
                    let set = Callback::new(move |v: String| set_query(&[(key, Some(v))]));
                    field_control(&f, value, set)
                }).collect_view()}
            </div>
        })
    }
}

/// One generic control for a config field: a slider (on a log scale where
/// the range spans decades), a drop-down, a checkbox, or a text field.
fn field_control(f: &FieldInfo, value: Signal<String>, set: Callback<String>) -> AnyView {
    let key = f.name;
    let help = f.help;
    match f.input.clone() {
        // A seed-like integer over a huge linear range: typed, not slid.
        FieldInput::Range { min, max, integer: true } if min <= 0.0 && max - min > 1000.0 => view! {
            <label title=help>
                <span>{key}</span>
                <input type="number" min=min max=max step="1" aria-label=key data-testid=key
                    prop:value=move || value.get()
                    on:change=move |ev| set.run(event_target_value(&ev)) />
            </label>
        }
        .into_any(),
        FieldInput::Range { min, max, integer } => {
            let log = min > 0.0 && max / min >= 100.0;
            let to_pos = move |v: f64| {
                if log {
                    ((v.ln() - min.ln()) / (max.ln() - min.ln()) * 1000.0).round()
                } else {
                    ((v - min) / (max - min) * 1000.0).round()
                }
            };
            let from_pos = move |p: f64| {
                let f = (p / 1000.0).clamp(0.0, 1.0);
                let v = if log {
                    (min.ln() + f * (max.ln() - min.ln())).exp()
                } else {
                    min + f * (max - min)
                };
                if integer {
                    v.round().to_string()
                } else {
                    short(v)
                }
            };
            view! {
                <label class="wide" title=help>
                    <span>{move || format!("{key} = {}", value.get())}</span>
                    <input type="range" min="0" max="1000" step="1" aria-label=key data-testid=key
                        prop:value=move || to_pos(value.get().parse::<f64>().unwrap_or(min)).to_string()
                        on:change=move |ev| {
                            let p = event_target_value(&ev).parse::<f64>().unwrap_or(0.0);
                            set.run(from_pos(p));
                        } />
                </label>
            }
            .into_any()
        }
        FieldInput::Choice { options } => view! {
            <label title=help>
                <span>{key}</span>
                <select aria-label=key data-testid=key prop:value=move || value.get()
                    on:change=move |ev| set.run(event_target_value(&ev))>
                    {options.into_iter().map(|o| view! { <option value=o>{o}</option> }).collect_view()}
                </select>
            </label>
        }
        .into_any(),
        FieldInput::Switch => view! {
            <label class="check" title=help>
                <input type="checkbox" data-testid=key prop:checked=move || value.get() == "true"
                    on:change=move |ev| set.run(event_target_checked(&ev).to_string()) />
                {key}
            </label>
        }
        .into_any(),
        FieldInput::Text => view! {
            <label title=help>
                <span>{key}</span>
                <input type="text" aria-label=key data-testid=key prop:value=move || value.get()
                    on:change=move |ev| set.run(event_target_value(&ev)) />
            </label>
        }
        .into_any(),
    }
}
