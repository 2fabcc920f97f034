//! The controls widgets are built from: a select, a text field, a slider and
//! a checkbox, each bound to one config key. The value shown is read from the
//! config (the URL); a change is sent as `(key, text)` to the widget's setter,
//! which parses it leniently and writes the URL. Every control is wrapped in
//! [`Control`], so `hide=` can remove it.

use leptos::prelude::*;

use super::charts::short;
use super::query::Control;

/// A widget's setter: `(config key, new text value)`.
pub type SetField = Callback<(&'static str, String)>;

/// A drop-down of `options` for `key`.
pub fn select<C: Send + Sync + 'static>(
    cfg: Memo<C>,
    set: SetField,
    key: &'static str,
    label: &'static str,
    options: Vec<&'static str>,
    value: fn(&C) -> String,
) -> impl IntoView {
    view! {
        <Control name=key>
        <label>
            <span>{label}</span>
            <select aria-label=label data-testid=key prop:value=move || cfg.with(value)
                on:change=move |ev| set.run((key, event_target_value(&ev)))>
                {options.into_iter().map(|o| view! { <option value=o>{o}</option> }).collect_view()}
            </select>
        </label>
        </Control>
    }
}

/// A text field for numbers and lists such as `64,64` (committed on change).
pub fn number<C: Send + Sync + 'static>(
    cfg: Memo<C>,
    set: SetField,
    key: &'static str,
    label: &'static str,
    value: fn(&C) -> String,
) -> impl IntoView {
    view! {
        <Control name=key>
        <label>
            <span>{label}</span>
            <input type="text" inputmode="decimal" aria-label=label data-testid=key
                prop:value=move || cfg.with(value)
                on:change=move |ev| set.run((key, event_target_value(&ev))) />
        </label>
        </Control>
    }
}

/// A linear slider over `[lo, hi]` in steps of `step`, its value in the label.
pub fn slider<C: Send + Sync + 'static>(
    cfg: Memo<C>,
    set: SetField,
    key: &'static str,
    label: &'static str,
    (lo, hi, step): (f64, f64, f64),
    value: fn(&C) -> f64,
) -> impl IntoView {
    view! {
        <Control name=key>
        <label class="wide">
            <span>{move || format!("{label} = {}", short(cfg.with(value)))}</span>
            <input type="range" aria-label=label data-testid=key
                min=lo.to_string() max=hi.to_string() step=step.to_string()
                prop:value=move || cfg.with(value).to_string()
                on:change=move |ev| set.run((key, event_target_value(&ev))) />
        </label>
        </Control>
    }
}

/// A checkbox for a boolean key.
pub fn checkbox<C: Send + Sync + 'static>(
    cfg: Memo<C>,
    set: SetField,
    key: &'static str,
    label: &'static str,
    value: fn(&C) -> bool,
) -> impl IntoView {
    view! {
        <Control name=key>
        <label class="check">
            <input type="checkbox" data-testid=key prop:checked=move || cfg.with(value)
                on:change=move |ev| set.run((key, event_target_checked(&ev).to_string())) />
            {label}
        </label>
        </Control>
    }
}

/// A slider on a log scale over `[lo, hi]` (1,000 positions), for values that
/// span decades such as a learning rate or a clipping threshold.
pub fn log_slider<C: Send + Sync + 'static>(
    cfg: Memo<C>,
    set: SetField,
    key: &'static str,
    label: &'static str,
    (lo, hi): (f64, f64),
    value: fn(&C) -> f64,
) -> impl IntoView {
    let (a, b) = (lo.ln(), hi.ln());
    view! {
        <Control name=key>
        <label>
            <span>{move || format!("{label} = {}", short(cfg.with(value)))}</span>
            <input type="range" min="0" max="1000" aria-label=label data-testid=key
                prop:value=move || (((cfg.with(value).ln() - a) / (b - a)) * 1000.0).round().to_string()
                on:change=move |ev| {
                    let f = event_target_value(&ev).parse::<f64>().unwrap_or(500.0) / 1000.0;
                    set.run((key, format!("{:.4}", (a + f * (b - a)).exp())));
                } />
        </label>
        </Control>
    }
}
