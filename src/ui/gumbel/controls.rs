//! The Gumbel-Softmax widget's controls: the draggable logits, the table of
//! θ and w, the temperature and its annealing, and the mini optimisation's
//! settings.

use leptos::prelude::*;

use crate::experiments::config::Config;
use crate::experiments::gumbel::{GumbelConfig, softmax};
use crate::ui::charts::{category_color, short};
use crate::ui::controls::SetField;
use crate::ui::query::Control;

/// The logit bars' vertical range.
const THETA_VIEW: f64 = 5.0;

/// Changes the config in place, then reconciles it and writes it to the URL.
pub(super) type ConfigUpdate = Callback<Box<dyn FnOnce(&mut GumbelConfig)>>;

/// The config's two setters: an in-place update, and one field by key.
pub(super) fn setters(
    cfg: Memo<GumbelConfig>,
    set_config: impl Fn(&GumbelConfig) + Send + Sync + 'static,
) -> (ConfigUpdate, SetField) {
    let update = Callback::new(move |f: Box<dyn FnOnce(&mut GumbelConfig)>| {
        let mut c = cfg.get_untracked();
        f(&mut c);
        let _ = c.reconcile();
        set_config(&c);
    });
    let set_field = Callback::new(move |(key, value): (&'static str, String)| {
        update.run(Box::new(move |c| {
            let _ = c.set(key, &value, false);
        }));
    });
    (update, set_field)
}

/// Draggable logit bars (commit on release) with the probabilities above them.
#[component]
pub(super) fn LogitBars(
    cfg: Memo<GumbelConfig>,
    draft: RwSignal<Option<Vec<f64>>>,
    update: ConfigUpdate,
) -> impl IntoView {
    const W: f64 = 360.0;
    const H: f64 = 200.0;
    const TOP: f64 = 26.0;
    const BOTTOM: f64 = 22.0;
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let dragging = StoredValue::new(None::<usize>);
    let logits = move || {
        draft
            .get()
            .unwrap_or_else(|| cfg.with(|c| c.logits.clone()))
    };
    let y_of = |v: f64| {
        let mid = TOP + (H - TOP - BOTTOM) / 2.0;
        mid - v.clamp(-THETA_VIEW, THETA_VIEW) / THETA_VIEW * (H - TOP - BOTTOM) / 2.0
    };
    let value_at = move |ev: &web_sys::PointerEvent| -> Option<(usize, f64)> {
        let el = svg.get()?;
        let rect = el.get_bounding_client_rect();
        let k = cfg.with(|c| c.k());
        let x = (f64::from(ev.client_x()) - rect.left()) / rect.width() * W;
        let y = (f64::from(ev.client_y()) - rect.top()) / rect.height() * H;
        let i = ((x / W) * k as f64).floor().clamp(0.0, (k - 1) as f64) as usize;
        let mid = TOP + (H - TOP - BOTTOM) / 2.0;
        let v = (mid - y) / ((H - TOP - BOTTOM) / 2.0) * THETA_VIEW;
        Some((i, (v.clamp(-THETA_VIEW, THETA_VIEW) * 20.0).round() / 20.0))
    };
    let set_draft = move |i: usize, v: f64| {
        let mut l = draft
            .get_untracked()
            .unwrap_or_else(|| cfg.get_untracked().logits);
        if let Some(slot) = l.get_mut(i) {
            *slot = v;
        }
        draft.set(Some(l));
    };
    let commit = move || {
        if let Some(l) = draft.get_untracked() {
            update.run(Box::new(move |c| c.logits = l));
        }
        draft.set(None);
        dragging.set_value(None);
    };
    view! {
        <svg
            node_ref=svg
            class="logit-bars"
            viewBox=format!("0 0 {W} {H}")
            role="img"
            aria-label="Logits as draggable bars"
            data-testid="logit-bars"
            on:pointerdown=move |ev| {
                if let Some((i, v)) = value_at(&ev) {
                    dragging.set_value(Some(i));
                    set_draft(i, v);
                    if let Some(el) = svg.get() {
                        let _ = el.set_pointer_capture(ev.pointer_id());
                    }
                }
            }
            on:pointermove=move |ev| {
                if let (Some(i), Some((_, v))) = (dragging.get_value(), value_at(&ev)) {
                    set_draft(i, v);
                }
            }
            on:pointerup=move |_| commit()
            on:pointercancel=move |_| commit()
        >
            <line class="axis" x1=0 y1=y_of(0.0) x2=W y2=y_of(0.0) />
            {move || {
                let l = logits();
                let k = l.len();
                let p = softmax(&l);
                let bw = W / k as f64;
                l.iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        let (y0, y1) = (y_of(0.0), y_of(v));
                        let color = category_color(i);
                        view! {
                            <rect
                                class="logit"
                                x=i as f64 * bw + bw * 0.2
                                y=y0.min(y1)
                                width=bw * 0.6
                                height=(y1 - y0).abs().max(1.5)
                                fill=color
                            />
                            <circle cx=i as f64 * bw + bw / 2.0 cy=TOP - 12.0 r=3.0 + 9.0 * p[i].sqrt() fill=color opacity="0.85" />
                            <text class="tick" x=i as f64 * bw + bw / 2.0 y=H - 6.0 text-anchor="middle">
                                {format!("θ{} = {}", i + 1, short(v))}
                            </text>
                        }
                    })
                    .collect_view()
            }}
        </svg>
    }
}

/// Numeric entry for θ and w per category, and K.
#[component]
pub(super) fn CategoryTable(
    cfg: Memo<GumbelConfig>,
    set_field: SetField,
    update: ConfigUpdate,
) -> impl IntoView {
    let set_list = move |field: &'static str, i: usize, value: String| {
        let c = cfg.get_untracked();
        let mut list = if field == "logits" {
            c.logits
        } else {
            c.weights
        };
        if let (Some(slot), Ok(v)) = (list.get_mut(i), value.trim().parse::<f64>()) {
            *slot = v;
        }
        let text = list
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",");
        set_field.run((field, text));
    };
    let add = move |_| {
        update.run(Box::new(|c| {
            if c.k() < 16 {
                c.logits.push(0.0);
                c.weights.push(0.0);
            }
        }))
    };
    let remove = move |_| {
        update.run(Box::new(|c| {
            if c.k() > 2 {
                c.logits.pop();
                c.weights.pop();
            }
        }))
    };
    view! {
        <div class="category-table">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"k"</th>
                        <th scope="col">"θ_k"</th>
                        <th scope="col">"w_k"</th>
                        <th scope="col">"p_k"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let c = cfg.get();
                        let p = softmax(&c.logits);
                        (0..c.k())
                            .map(|i| {
                                view! {
                                    <tr>
                                        <th scope="row">{i + 1}</th>
                                        <td>
                                            <input type="number" step="0.1" aria-label=format!("logit {}", i + 1)
                                                prop:value=c.logits[i].to_string()
                                                on:change=move |ev| set_list("logits", i, event_target_value(&ev)) />
                                        </td>
                                        <td>
                                            <input type="number" step="0.5" aria-label=format!("weight {}", i + 1)
                                                prop:value=c.weights[i].to_string()
                                                on:change=move |ev| set_list("weights", i, event_target_value(&ev)) />
                                        </td>
                                        <td class="num">{format!("{:.3}", p[i])}</td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
            <div class="buttons">
                <button on:click=add disabled=move || cfg.with(|c| c.k() >= 16)>"+ category"</button>
                <button on:click=remove disabled=move || cfg.with(|c| c.k() <= 2)>"− category"</button>
            </div>
        </div>
    }
}

/// τ on a log slider, the annealing schedule, play/pause.
#[component]
pub(super) fn TemperatureControls(
    cfg: Memo<GumbelConfig>,
    tau_now: Memo<f64>,
    playing: RwSignal<bool>,
    tick: RwSignal<u32>,
    set_field: SetField,
) -> impl IntoView {
    view! {
        <div class="controls stacked">
            <Control name="tau">
            <label class="wide">
                <span>{move || format!("τ = {}", short(cfg.get().tau))}</span>
                <input
                    type="range"
                    min="0"
                    max="1000"
                    data-testid="tau"
                    aria-label="Temperature τ (log scale, 0.05 to 10)"
                    prop:value=move || {
                        let t = cfg.get().tau;
                        (((t.ln() - 0.05f64.ln()) / (10f64.ln() - 0.05f64.ln())) * 1000.0).round().to_string()
                    }
                    on:input=move |ev| {
                        let f = event_target_value(&ev).parse::<f64>().unwrap_or(500.0) / 1000.0;
                        let tau = (0.05f64.ln() + f * (10f64.ln() - 0.05f64.ln())).exp();
                        set_field.run(("tau", format!("{:.4}", tau)));
                    }
                />
            </label>
            </Control>
            <Control name="anneal">
            <label>
                <span>{move || format!("annealing rate r = {}", short(cfg.get().anneal))}</span>
                <input
                    type="range"
                    min="0"
                    max="0.1"
                    step="0.002"
                    aria-label="Annealing rate r (0 turns annealing off)"
                    prop:value=move || cfg.get().anneal.to_string()
                    on:input=move |ev| {
                        tick.set(0);
                        set_field.run(("anneal", event_target_value(&ev)));
                    }
                />
            </label>
            </Control>
            <Control name="tau-min">
            <label>
                <span>"τ_min"</span>
                <input
                    type="number"
                    min="0.05"
                    max="10"
                    step="0.05"
                    prop:value=move || cfg.get().tau_min.to_string()
                    on:change=move |ev| set_field.run(("tau-min", event_target_value(&ev)))
                />
            </label>
            </Control>
            <Control name="anneal">
            <div class="buttons">
                <button on:click=move |_| playing.update(|p| *p = !*p) aria-pressed=move || playing.get().to_string()>
                    {move || if playing.get() { "Pause" } else { "Play" }}
                </button>
                <button on:click=move |_| tick.set(0)>"Restart schedule"</button>
            </div>
            </Control>
            <p class="meta" data-testid="tau-now">
                {move || {
                    let c = cfg.get();
                    if c.anneal > 0.0 {
                        format!(
                            "τ(t) = max({}, {}·e^(−{}·t)); now t = {}, τ = {}",
                            short(c.tau_min),
                            short(c.tau),
                            short(c.anneal),
                            tick.get(),
                            short(tau_now.get()),
                        )
                    } else {
                        format!("τ = {} (annealing off)", short(tau_now.get()))
                    }
                }}
            </p>
        </div>
    }
}

/// The mini optimisation's learning rate, steps, samples per step and seed.
#[component]
pub(super) fn OptimisationControls(cfg: Memo<GumbelConfig>, set_field: SetField) -> impl IntoView {
    view! {
        <div class="controls">
            <Control name="lr">
            <label>
                <span>"learning rate"</span>
                <input type="number" min="0.0001" max="10" step="0.05" prop:value=move || cfg.get().lr.to_string()
                    on:change=move |ev| set_field.run(("lr", event_target_value(&ev))) />
            </label>
            </Control>
            <Control name="steps">
            <label>
                <span>"steps"</span>
                <input type="number" min="1" max="5000" step="50" prop:value=move || cfg.get().steps.to_string()
                    on:change=move |ev| set_field.run(("steps", event_target_value(&ev))) />
            </label>
            </Control>
            <Control name="batch">
            <label>
                <span>"samples per step (RLOO batch, ≥ 2)"</span>
                <input type="number" min="2" max="1024" prop:value=move || cfg.get().batch.to_string()
                    on:change=move |ev| set_field.run(("batch", event_target_value(&ev))) />
            </label>
            </Control>
            <Control name="seed">
            <label>
                <span>"seed"</span>
                <input type="number" min="0" data-testid="seed" prop:value=move || cfg.get().seed.to_string()
                    on:change=move |ev| set_field.run(("seed", event_target_value(&ev))) />
            </label>
            </Control>
        </div>
    }
}
