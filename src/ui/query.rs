//! The URL is the state: read an experiment's config from the query
//! (leniently, with notes) and write control changes back into it.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

use crate::experiments::config::{Config, canonical_key, encode_query_value};

/// Query keys that belong to the page, not to an experiment's config.
pub const PAGE_KEYS: &[&str] = &["backend", "hide", "controls", "panels"];

/// Names `hide=` accepts besides a widget's own config keys: every control,
/// the share bar, the backend switch of an embed.
pub const HIDE_GROUPS: &[&str] = &["controls", "share", "backend"];

/// Above this many `key=value` pairs a link's query is trimmed before the
/// router reads it ([`trim_long_query`]): the router's own map looks each
/// key up linearly, so 10,000 distinct keys would cost 5·10^7 comparisons.
const MAX_QUERY_PAIRS: usize = 256;
/// At most this many notes are listed; the rest are counted ("and 9,980 more").
pub const MAX_NOTES: usize = 20;

thread_local! {
    /// The query [`trim_long_query`] left, and how many pairs it dropped.
    static TRIMMED: std::cell::RefCell<Option<(String, usize)>> = const { std::cell::RefCell::new(None) };
}

/// Before the app mounts: a query with more than [`MAX_QUERY_PAIRS`] pairs
/// keeps the pairs whose key some experiment (or the page) knows, plus the
/// first [`MAX_NOTES`] others so their notes name them; the rest are dropped
/// from the URL (in place, no new history entry) and counted in the notes.
/// Linear in the length of the query.
pub fn trim_long_query() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let search = window.location().search().unwrap_or_default();
    let query = search.trim_start_matches('?');
    if query.bytes().filter(|&b| b == b'&').count() < MAX_QUERY_PAIRS {
        return;
    }
    let known: std::collections::HashSet<String> = crate::experiments::registry::REGISTRY
        .iter()
        .flat_map(|e| e.fields())
        .map(|f| f.name.to_string())
        .chain(PAGE_KEYS.iter().map(|k| (*k).to_string()))
        .collect();
    let (mut kept, mut unknown, mut dropped) = (Vec::new(), 0usize, 0usize);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let key = percent_decode(pair.split('=').next().unwrap_or_default());
        if known.contains(canonical_key(&key).as_ref()) {
            kept.push(pair);
        } else if unknown < MAX_NOTES {
            unknown += 1;
            kept.push(pair);
        } else {
            dropped += 1;
        }
    }
    let trimmed = kept.join("&");
    let path = window.location().pathname().unwrap_or_default();
    let hash = window.location().hash().unwrap_or_default();
    let sep = if trimmed.is_empty() { "" } else { "?" };
    let url = format!("{path}{sep}{trimmed}{hash}");
    if let Ok(history) = window.history()
        && history
            .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url))
            .is_ok()
    {
        TRIMMED.with(|t| *t.borrow_mut() = Some((format!("{sep}{trimmed}"), dropped)));
    }
}

/// A query key as text: `+` is a space, `%XX` a byte (invalid UTF-8 lossy).
fn percent_decode(raw: &str) -> std::borrow::Cow<'_, str> {
    if !raw.contains(['%', '+']) {
        return raw.into();
    }
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                #[allow(clippy::cast_possible_truncation)]
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned().into()
}

/// How many pairs [`trim_long_query`] dropped from the query the page shows now.
fn dropped_pairs() -> usize {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    TRIMMED.with(|t| match &*t.borrow() {
        Some((q, n)) if *q == search => *n,
        _ => 0,
    })
}

/// `n` with thousands separators: 9980 → "9,980".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An experiment's config from the URL, and what had to be fixed to get it.
pub fn use_config<C: Config + Send + Sync + 'static>() -> (Memo<C>, Memo<Vec<String>>) {
    let query = use_query_map();
    let parsed = Memo::new(move |_| {
        query.with(|q| {
            let pairs: Vec<(&str, &str)> = q
                .into_iter()
                .map(|(k, v)| (k.as_ref(), v))
                .filter(|(k, _)| !PAGE_KEYS.contains(k))
                .collect();
            let (cfg, notes) = C::from_pairs_lenient(pairs);
            let mut notes = notes.iter().map(ToString::to_string).collect::<Vec<_>>();
            let fields = C::fields();
            let unknown = name_list(q.get_str("hide"))
                .into_iter()
                .filter(|n| {
                    !HIDE_GROUPS.contains(&n.as_str()) && !fields.iter().any(|f| f.name == n)
                })
                .collect::<Vec<_>>();
            if !unknown.is_empty() {
                let known = HIDE_GROUPS
                    .iter()
                    .copied()
                    .chain(fields.iter().map(|f| f.name))
                    .collect::<Vec<_>>()
                    .join(", ");
                notes.push(format!(
                    "hide: no control named {} here, ignored (one of: {known})",
                    unknown
                        .iter()
                        .map(|n| format!("\"{n}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            (cfg, cap_notes(notes, dropped_pairs()))
        })
    });
    (
        Memo::new(move |_| parsed.with(|p| p.0.clone())),
        Memo::new(move |_| parsed.with(|p| p.1.clone())),
    )
}

/// The first [`MAX_NOTES`] notes, and one that counts the rest (with
/// `dropped` keys that never reached the parser).
fn cap_notes(mut notes: Vec<String>, dropped: usize) -> Vec<String> {
    let more = notes.len().saturating_sub(MAX_NOTES) + dropped;
    notes.truncate(MAX_NOTES);
    if more > 0 {
        notes.push(format!(
            "… and {} more keys or values we could not use, ignored",
            thousands(more)
        ));
    }
    notes
}

/// Navigates to the current path with `query`, without a new history entry or a scroll.
fn use_replace_query() -> impl Fn(ParamsMap) + Clone + Send + Sync + 'static {
    let navigate = use_navigate();
    let location = use_location();
    move |q: ParamsMap| {
        let path = location.pathname.get_untracked();
        let query = (&q)
            .into_iter()
            .map(|(k, v)| format!("{}={}", encode_query_value(k), encode_query_value(v)))
            .collect::<Vec<_>>()
            .join("&");
        let sep = if query.is_empty() { "" } else { "?" };
        navigate(
            &format!("{path}{sep}{query}"),
            NavigateOptions {
                replace: true,
                scroll: false,
                // `path` is the browser's, already under the router's base.
                resolve: false,
                ..Default::default()
            },
        );
    }
}

/// A setter that replaces (or, with `None`, removes) some query keys in place.
pub fn use_set_query() -> impl Fn(&[(&str, Option<String>)]) + Clone + Send + Sync + 'static {
    let replace = use_replace_query();
    let query = use_query_map();
    move |changes: &[(&str, Option<String>)]| {
        let mut q = query.get_untracked();
        for (k, v) in changes {
            match v {
                Some(v) => q.replace(k.to_string(), v.clone()),
                None => {
                    q.remove(k);
                }
            }
        }
        replace(q);
    }
}

/// Writes a whole config into the URL: its canonical pairs plus the page keys;
/// anything else the link carried (unknown or repeated keys) is dropped.
pub fn use_set_config<C: Config + 'static>() -> impl Fn(&C) + Clone + Send + Sync + 'static {
    let replace = use_replace_query();
    let query = use_query_map();
    move |cfg: &C| {
        let current = query.get_untracked();
        let mut q = ParamsMap::new();
        for key in PAGE_KEYS {
            if let Some(v) = current.get(key) {
                q.replace(*key, v);
            }
        }
        for (k, v) in cfg.to_pairs() {
            q.replace(k, v);
        }
        replace(q);
    }
}

/// A control's setter for a widget showing `cfg`: sets one key leniently
/// (an out-of-range value is clamped, never rejected), reconciles the
/// config, and writes it into the URL.
pub fn use_set_field<C: Config + Clone + Send + Sync + 'static>(
    cfg: Memo<C>,
) -> super::controls::SetField {
    let set_config = use_set_config::<C>();
    Callback::new(move |(key, value): (&'static str, String)| {
        set_config(&with_field(&cfg.get_untracked(), key, &value))
    })
}

/// `cfg` with `key` set leniently to `value`, then reconciled.
pub fn with_field<C: Config + Clone>(cfg: &C, key: &str, value: &str) -> C {
    let mut c = cfg.clone();
    let _ = c.set(key, value, false);
    let _ = c.reconcile();
    c
}

/// The notes shown when a link carried values that had to be fixed.
#[component]
pub fn ConfigNotes(notes: Memo<Vec<String>>) -> impl IntoView {
    view! {
        <Show when=move || !notes.with(Vec::is_empty)>
            <div class="notes" role="status" data-testid="config-notes">
                <strong>"This link had values we could not use as given: "</strong>
                <ul>
                    {move || {
                        notes.get().into_iter().map(|n| view! { <li>{n}</li> }).collect_view()
                    }}
                </ul>
            </div>
        </Show>
    }
}

/// The names in a `hide=a,b` (or `controls=`, `panels=`) value: trimmed,
/// lower-case, at most 64 of 40 chars.
pub fn name_list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split([',', ' '])
        // Keys in their kebab-case spelling (`tau_min` names `tau-min`).
        .map(|n| n.trim().to_ascii_lowercase().replace('_', "-"))
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(40).collect())
        .take(64)
        .collect()
}

/// Which controls the URL hides: `?hide=tau,seed` and `?hide=controls` (as
/// TensorFlow Playground's embeds do), or the allow-list `?controls=tau`
/// (only those; `share` and `backend` name the share bar and the backend
/// switch). In a figure embed the widget's own controls are all hidden: the
/// figure's control strip draws the allowed keys.
#[derive(Clone, Copy)]
pub struct Hidden {
    hide: Memo<Vec<String>>,
    allow: Memo<Option<Vec<String>>>,
    figure: Memo<bool>,
}

impl Hidden {
    /// Whether the control (or group) `name` is hidden (reactive).
    fn hides(&self, name: &str) -> bool {
        let named = |list: &[String]| list.iter().any(|n| name.split(',').any(|k| k == n));
        let group = name == "share" || name == "backend";
        if self.figure.get() && !group {
            return true;
        }
        if let Some(allow) = self.allow.with(|a| a.as_ref().map(|a| named(a))) {
            return !allow;
        }
        if self.figure.get() {
            // A figure without `controls=`: no share bar, no backend switch.
            return true;
        }
        self.hide
            .with(|v| named(v) || (!group && v.iter().any(|n| n == "controls")))
    }
}

/// Provides [`Hidden`] from the query; the shell calls it once, `figure`
/// telling whether the page is a figure embed.
pub fn provide_hidden(figure: Memo<bool>) {
    let query = use_query_map();
    provide_context(Hidden {
        hide: Memo::new(move |_| query.with(|q| name_list(q.get_str("hide")))),
        allow: Memo::new(move |_| {
            query.with(|q| q.get_str("controls").map(|v| name_list(Some(v))))
        }),
        figure,
    });
}

/// Whether `hide=`/`controls=` hide `name` (reactive).
pub fn is_hidden(name: &str) -> bool {
    use_context::<Hidden>().is_some_and(|h| h.hides(name))
}

/// One control (or a group of them) that `hide=` can remove: hidden when the
/// query names it, or one of its comma-separated `name`s, or "controls"
/// (every control; the group names are in [`HIDE_GROUPS`]). The wrapper is
/// `display: contents`, so the layout is the same with or without it.
#[component]
pub fn Control(
    /// The config key(s) this control sets, e.g. "tau" or "logits,weights".
    name: &'static str,
    children: Children,
) -> impl IntoView {
    let hidden = use_context::<Hidden>();
    let is_hidden = move || hidden.is_some_and(|h| h.hides(name));
    view! {
        <div class="control" data-control=name style:display=move || if is_hidden() { "none" } else { "contents" }>
            {children()}
        </div>
    }
}
