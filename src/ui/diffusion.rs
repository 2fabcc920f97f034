//! The tiny-diffusion widget: particles flow from noise to a 2D data set as
//! an animation, under a chosen score source, sampler, schedule and guidance,
//! with the score field, trails, a timeline and live metrics. The reader can
//! drag the components of a custom mixture or draw their own data, which
//! stays in the browser's storage.

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::rc::Rc;

use super::backend::{BackendCtx, gpu_compute, report_gpu_fault, use_active_backend};
use super::charts::{LinePlot, Series, canvas_context, category_color, short};
use super::controls::{self, SetField};
use super::export::PlotExport;
use super::pages::paper_anchor;
use super::query::{ConfigNotes, Control, use_config, use_set_config, with_field};
use super::share::ShareBar;
use super::worker::{DiffusionSession, Fault};
use crate::experiments::Backend;
use crate::experiments::config::{Config, Param};
use crate::experiments::diffusion::{
    self as dexp, DiffusionConfig, DiffusionReport, Drawing, HISTORY_PARTICLES, MAX_CPU_PARTICLES,
    Metrics, ScoreArrows, ScoreKind, build_source, initial_particles, load_denoiser,
    shipped_denoiser,
};
use crate::experiments::diffusion::{
    Diffusion, DiffusionData, GpuSampling, Level, MlpDenoiser, PointSet, SamplerKind, ScheduleKind,
    Source, TRAIN_STEPS, sanitize_drawn,
};
use crate::experiments::papers;
use crate::experiments::registry::Experiment;

/// CPU work per animation tick on the main thread (where no compute worker
/// runs), in milliseconds: the frame budget is 16 ms.
const CPU_TICK_MS: f64 = 6.0;
const TICK_MS: u64 = 16;
/// The canvas shows [−VIEW, VIEW]².
const VIEW: f64 = 2.0;
/// Canvas size in CSS pixels.
const SIZE: f64 = 480.0;
/// Arrows per side of the score field.
const FIELD_SIDE: usize = 17;
/// Where the reader's drawing lives in local storage (versioned).
const DRAWING_KEY: &str = "gradlab.diffusion.drawing.v1";
/// Least time between two live metric updates.
const METRICS_EVERY_MS: f64 = 250.0;
/// Minimum distance between two drawn points, in data units.
const DRAW_SPACING: f32 = 0.03;

/// Where a run computes.
enum Engine {
    /// [`dexp::Sampling`] in the compute worker (or on the main thread where there is none).
    Cpu(Rc<DiffusionSession>),
    Gpu(GpuSampling),
}

/// A run in progress: its engine, and what it last reported. At most one
/// slice of work is in flight (`busy`); the particles are those of `step`.
struct Runner {
    engine: Engine,
    particles: Vec<[f32; 2]>,
    /// The paths of the first particles, one frame per step, for the timeline.
    history: Vec<Vec<[f32; 2]>>,
    step: usize,
    finished: bool,
    busy: bool,
}

impl Runner {
    fn new(engine: Engine, initial: Vec<[f32; 2]>) -> Self {
        Self {
            engine,
            history: vec![initial[..initial.len().min(HISTORY_PARTICLES)].to_vec()],
            particles: initial,
            step: 0,
            finished: false,
            busy: false,
        }
    }
}

/// What the canvas and the readouts show; bumped once per displayed change.
#[derive(Clone, Debug, PartialEq)]
struct Frame {
    step: usize,
    total: usize,
    backend: Backend,
    revision: u64,
}

fn read_drawing() -> (Drawing, Option<String>) {
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

fn write_drawing(d: &Drawing) -> Result<(), String> {
    let storage = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .ok_or("this browser has no local storage; the drawing lasts until you leave")?;
    storage
        .set_item(DRAWING_KEY, &d.to_json())
        .map_err(|_| "the browser refused to store the drawing (storage full?)".to_string())
}

async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    use wasm_bindgen::JsCast;
    let window = web_sys::window().ok_or("no window")?;
    let resp = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| format!("could not fetch {url}"))?
        .dyn_into::<web_sys::Response>()
        .map_err(|_| "not a response".to_string())?;
    if !resp.ok() {
        return Err(format!("{url}: HTTP {}", resp.status()));
    }
    let buf = wasm_bindgen_futures::JsFuture::from(resp.array_buffer().map_err(|_| "no body")?)
        .await
        .map_err(|_| format!("could not read {url}"))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// World (data) coordinates to canvas pixels.
fn to_px(p: [f32; 2]) -> (f64, f64) {
    (
        (f64::from(p[0]) / VIEW + 1.0) * SIZE / 2.0,
        (1.0 - f64::from(p[1]) / VIEW) * SIZE / 2.0,
    )
}

fn to_world(x: f64, y: f64) -> [f32; 2] {
    [
        ((x / SIZE * 2.0 - 1.0) * VIEW) as f32,
        ((1.0 - y / SIZE * 2.0) * VIEW) as f32,
    ]
}

#[component]
pub fn DiffusionWidget() -> impl IntoView {
    let ctx = expect_context::<BackendCtx>();
    let (cfg, notes) = use_config::<DiffusionConfig>();
    let set_config = use_set_config::<DiffusionConfig>();
    let backend = use_active_backend();

    let (stored, stored_note) = read_drawing();
    let drawing = RwSignal::new(stored);
    let drawing_note = RwSignal::new(stored_note);
    // Runs restart when the drawn points change, not when a stored mixture does.
    let drawn_points = Memo::new(move |_| drawing.with(Drawing::point_set));
    // Keeps the reader's custom mixture in the browser (with the drawing).
    let keep_mixture = move |c: &DiffusionConfig| {
        drawing.update(|d| d.mixture = Some(c.stored_mixture()));
        drawing_note.set(drawing.with_untracked(write_drawing).err());
    };

    // Shipped denoisers, fetched once per data set: the network, and its file for the worker.
    let denoisers = StoredValue::new_local(Vec::<(DiffusionData, MlpDenoiser, Rc<Vec<u8>>)>::new());
    let denoiser_rev = RwSignal::new(0u32);
    let message = RwSignal::new(None::<String>);

    let runner = StoredValue::new_local(None::<Runner>);
    let source_copy = StoredValue::new_local(None::<Rc<Source>>);
    let train_set = StoredValue::new_local(PointSet::default());
    let fresh = StoredValue::new_local(Vec::<[f32; 2]>::new());
    let generation = StoredValue::new(0u64);
    let frame = RwSignal::new(None::<Frame>);
    let playing = RwSignal::new(true);
    let scrub = RwSignal::new(None::<usize>);
    let metrics = RwSignal::new(None::<Metrics>);
    let swd_curve = RwSignal::new(Vec::<(f64, f64)>::new());
    let nfe = RwSignal::new(0u64);
    let report = RwSignal::new(None::<String>);
    // Where the CPU computes: the compute worker or the main thread, and why.
    let thread = RwSignal::new(None::<String>);
    let restarts = RwSignal::new(0u32);
    let last_metrics = StoredValue::new(f64::NEG_INFINITY);

    // What restarts the run: every field except the display toggles.
    let run_key = Memo::new(move |_| {
        cfg.with(|c| DiffusionConfig {
            trails: false,
            field: false,
            ..c.clone()
        })
    });
    // The noise levels of the current run, from noise to data.
    let levels = Memo::new(move |_| run_key.with(DiffusionConfig::levels));

    let publish = move |r: &Runner, b: Backend| {
        let step = r.step;
        let total = levels.with_untracked(Vec::len) - 1;
        let rev = frame.with_untracked(|f| f.as_ref().map_or(0, |f| f.revision + 1));
        frame.set(Some(Frame {
            step,
            total,
            backend: b,
            revision: rev,
        }));
        let bad = r
            .particles
            .iter()
            .filter(|p| !(p[0].is_finite() && p[1].is_finite()))
            .count();
        if bad > 0 {
            playing.set(false);
            message.set(Some(format!(
                "This run diverged: {bad} particles are no longer finite numbers. Lower the guidance or the Langevin step size, or press Reset."
            )));
        }
        let classes = train_set.with_value(|t| t.class_count);
        let per = run_key.with_untracked(|c| c.evaluations_per_particle(classes)) as u64;
        nfe.set(per * step as u64 / (total as u64).max(1));
        // The metrics sort 64 projections of 2,048 points (in the compute
        // worker where there is one): at most a few times a second while
        // running, always at the end. The worker answers in order.
        let now = super::now_ms();
        if !r.finished && now - last_metrics.get_value() < METRICS_EVERY_MS {
            return;
        }
        last_metrics.set_value(now);
        let this = generation.get_value();
        let particles = r.particles[..r.particles.len().min(dexp::METRIC_POINTS)].to_vec();
        let samples = r.finished.then(|| r.particles.clone());
        let train = train_set.with_value(|t| t.points.clone());
        let fresh = fresh.get_value();
        let delta = run_key.with_untracked(|c| c.delta);
        spawn_local(async move {
            let m = super::worker::diffusion_metrics(&particles, &fresh, &train, delta).await;
            if generation.try_get_value() != Some(this) {
                return;
            }
            metrics.set(Some(m));
            swd_curve.update(|c| {
                if c.last().is_none_or(|l| l.0 < step as f64) {
                    c.push((step as f64, m.swd));
                }
            });
            if let Some(samples) = samples {
                let c = run_key.get_untracked();
                report.set(Some(
                    serde_json::to_string(&DiffusionReport {
                        samples,
                        metrics: m,
                        nfe: c.evaluations_per_particle(classes),
                        backend: b,
                    })
                    .unwrap_or_default(),
                ));
            }
        });
    };

    // A CPU run failed: where the compute worker stopped, start again (on
    // the main thread); otherwise say why and pause.
    let cpu_fault = move |f: Fault| match f {
        Fault::WorkerStopped(_) => restarts.update(|r| *r += 1),
        Fault::Job(why) => {
            playing.set(false);
            message.set(Some(format!("The CPU run failed: {why}")));
        }
    };

    // (Re)start whenever the run's config, the backend, the drawing or a loaded denoiser changes.
    Effect::new(move |_| {
        let c = run_key.get();
        let b = backend.get();
        let drawn = drawn_points.get();
        denoiser_rev.track();
        restarts.track();
        let this = generation.get_value() + 1;
        generation.set_value(this);
        runner.set_value(None);
        last_metrics.set_value(f64::NEG_INFINITY);
        frame.set(None);
        metrics.set(None);
        swd_curve.set(Vec::new());
        report.set(None);
        scrub.set(None);
        message.set(None);
        let train = c.training_set(&drawn);
        fresh.set_value(c.fresh_data(&drawn));
        let mlp = if c.score == ScoreKind::Mlp {
            let found = denoisers.with_value(|v| {
                v.iter()
                    .find(|(ds, _, _)| *ds == c.dataset)
                    .map(|(_, m, file)| (m.clone(), file.clone()))
            });
            if found.is_none() {
                if let Some(rel) = shipped_denoiser(c.dataset) {
                    message.set(Some("Loading the denoiser network…".into()));
                    let url = super::app_href(&format!("/{rel}"));
                    let ds = c.dataset;
                    spawn_local(async move {
                        let loaded = fetch_bytes(&url)
                            .await
                            .and_then(|b| Ok((load_denoiser(&b, ds)?, Rc::new(b))));
                        match loaded {
                            Ok((m, file)) => {
                                denoisers.update_value(|v| v.push((ds, m, file)));
                                denoiser_rev.update(|r| *r += 1);
                            }
                            Err(e) => {
                                message.set(Some(format!("The denoiser could not be loaded: {e}")))
                            }
                        }
                    });
                }
                return;
            }
            found
        } else {
            None
        };
        let (mlp, mlp_file) = mlp.unzip();
        let source = match build_source(&c, &train, mlp) {
            Ok(s) => Rc::new(s),
            Err(e) => {
                message.set(Some(e));
                train_set.set_value(train);
                return;
            }
        };
        source_copy.set_value(Some(source.clone()));
        let classes = train.class_count;
        train_set.set_value(train);
        let gpu = (b == Backend::Gpu).then(gpu_compute).flatten();
        // Installs a started run, unless a newer one replaced it.
        let install = move |r: Runner, b: Backend| {
            if generation.try_get_value() == Some(this) {
                publish(&r, b);
                runner.set_value(Some(r));
            }
        };
        match gpu {
            Some(on) => {
                spawn_local(async move {
                    let Some(gpu) = on.gpu().cloned() else { return };
                    match GpuSampling::start(&c, &source, classes, gpu).await {
                        Ok(run) => {
                            let initial = initial_particles(c.seed, c.n);
                            install(Runner::new(Engine::Gpu(run), initial), Backend::Gpu)
                        }
                        Err(e) => report_gpu_fault(ctx, &e),
                    }
                });
            }
            None => {
                let mut c = c;
                if c.n > MAX_CPU_PARTICLES {
                    message.set(Some(format!(
                        "The CPU runs at most {MAX_CPU_PARTICLES} particles; showing that many."
                    )));
                    c.n = MAX_CPU_PARTICLES;
                }
                spawn_local(async move {
                    let file = mlp_file.map(|f| f.to_vec());
                    match DiffusionSession::start(&c, &drawn, file).await {
                        Ok(session) => {
                            thread.set(Some(session.0.place()));
                            let initial = initial_particles(c.seed, c.n);
                            install(
                                Runner::new(Engine::Cpu(Rc::new(session)), initial),
                                Backend::Cpu,
                            );
                        }
                        Err(e) => cpu_fault(e),
                    }
                });
            }
        }
    });

    // The animation clock: one slice of work in flight at a time, nothing
    // while paused or hidden.
    super::animation_clock(playing, TICK_MS, move || {
        let this = generation.get_value();
        let mut cpu = None;
        let mut gpu_read = None;
        runner.update_value(|r| {
            let Some(r) = r.as_mut() else { return };
            if r.finished || r.busy {
                return;
            }
            match &mut r.engine {
                Engine::Cpu(session) => {
                    r.busy = true;
                    cpu = Some(session.clone());
                }
                Engine::Gpu(run) => match run.advance() {
                    Ok(()) => {
                        r.busy = true;
                        gpu_read = Some(run.read());
                    }
                    Err(e) => report_gpu_fault(ctx, &e),
                },
            }
        });
        // Takes what a slice produced, and shows it when the step moved.
        let land = move |particles: Option<Vec<[f32; 2]>>,
                         history: Vec<Vec<[f32; 2]>>,
                         step: usize,
                         finished: bool,
                         b: Backend| {
            if generation.try_get_value() != Some(this) {
                return;
            }
            let mut moved = false;
            runner.update_value(|r| {
                if let Some(r) = r.as_mut() {
                    moved = step != r.step || finished != r.finished;
                    r.history.extend(history);
                    if let Some(p) = particles {
                        r.particles = p;
                    }
                    r.step = step;
                    r.finished = finished;
                    r.busy = false;
                }
            });
            if moved {
                runner.with_value(|r| {
                    if let Some(r) = r {
                        publish(r, b);
                    }
                });
            }
        };
        if let Some(session) = cpu {
            spawn_local(async move {
                let slice = session.sample(session.0.slice_ms(CPU_TICK_MS)).await;
                if generation.try_get_value() != Some(this) {
                    return;
                }
                match slice {
                    Ok(s) => land(
                        s.particles.map(|p| p.0),
                        s.history.into_iter().map(|p| p.0).collect(),
                        s.step,
                        s.finished,
                        Backend::Cpu,
                    ),
                    Err(e) => cpu_fault(e),
                }
            });
        }
        if let Some(read) = gpu_read {
            spawn_local(async move {
                let result = read.await;
                if generation.try_get_value() != Some(this) {
                    return;
                }
                match result {
                    Ok(p) => {
                        let (step, finished) = runner.with_value(|r| match r {
                            Some(Runner {
                                engine: Engine::Gpu(run),
                                ..
                            }) => (run.step(), run.finished()),
                            _ => (0, false),
                        });
                        let frame = p[..p.len().min(HISTORY_PARTICLES)].to_vec();
                        land(Some(p), vec![frame], step, finished, Backend::Gpu);
                    }
                    Err(e) => report_gpu_fault(ctx, &e),
                }
            });
        }
    });

    // The score field at the shown level (computed on the CPU: a 17 × 17 grid).
    let field = Memo::new(move |_| {
        let shown_step = scrub
            .get()
            .or_else(|| frame.with(|f| f.as_ref().map(|f| f.step)))?;
        let (on, c) = cfg.with(|c| (c.field, run_key.get()));
        if !on {
            return None;
        }
        // At the data level the field is that of the last noisy level.
        let level = levels.with(|l| l[shown_step.min(l.len().saturating_sub(2))]);
        if level.v <= 0.0 {
            return None;
        }
        let classes = train_set.with_value(|t| t.class_count);
        source_copy.with_value(|s| {
            s.as_ref()
                .map(|s| dexp::score_field(&c, s, level, classes, FIELD_SIDE, VIEW as f32 * 0.9))
        })
    });

    let set_field = {
        let set_config = set_config.clone();
        Callback::new(move |(key, value): (&'static str, String)| {
            let c = with_field(&cfg.get_untracked(), key, &value);
            set_config(&c);
            if key == "gmm-std" {
                keep_mixture(&c);
            }
        })
    };
    let apply_config = {
        let set_config = set_config.clone();
        Callback::new(move |c: DiffusionConfig| set_config(&c))
    };
    // A bare `?dataset=custom` link opens the reader's own stored mixture.
    {
        let set_config = set_config.clone();
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
    let set_gmm = {
        let set_config = set_config.clone();
        move |means: Vec<[f32; 2]>| {
            let mut c = cfg.get_untracked();
            c.gmm = means
                .iter()
                .flat_map(|p| {
                    [
                        (f64::from(p[0]) * 100.0).round() / 100.0,
                        (f64::from(p[1]) * 100.0).round() / 100.0,
                    ]
                })
                .collect();
            let _ = c.reconcile();
            set_config(&c);
            keep_mixture(&c);
        }
    };

    let restart = move |_| {
        restarts.update(|r| *r += 1);
        playing.set(true);
    };

    view! {
        <article class="widget" data-testid="diffusion-widget">
            <header class="widget-head">
                <h1>"Tiny diffusion"</h1>
                <p class="claim">
                    "A diffusion model turns noise into data by following the score ∇log p of the data blurred by noise, from very blurred to sharp. Swap where the score comes from and how the particles step, and watch what is learnt, what is memorised, and what guidance does."
                </p>
            </header>
            <ConfigNotes notes />
            <ShareBar
                name="diffusion"
                json=Signal::derive(move || report.get())
                on_reset={
                    let set_config = set_config.clone();
                    move || set_config(&DiffusionConfig::default())
                }
            />
            <div class="panels two diffusion-layout">
                <section class="panel">
                    <h2>{move || {
                        frame.with(|f| match f {
                            Some(f) => format!(
                                "Particles at step {} of {} · σ = {}",
                                scrub.get().unwrap_or(f.step),
                                f.total,
                                short(f64::from(levels.with(|l| l[scrub.get().unwrap_or(f.step).min(f.total)].sigma())))
                            ),
                            None => "Particles".into(),
                        })
                    }}</h2>
                    <ParticleCanvas cfg runner frame scrub field drawing train_set drawing_note set_gmm />
                    {move || message.get().map(|m| view! { <p class="notes" role="status" data-testid="diffusion-message">{m}</p> })}
                    {move || drawing_note.get().map(|m| view! { <p class="notes" role="status" data-testid="drawing-note">{m}</p> })}
                    <Control name="controls">
                    <div class="buttons">
                        <button data-testid="play" on:click=move |_| playing.update(|p| *p = !*p)>
                            {move || if playing.get() { "Pause" } else { "Play" }}
                        </button>
                        <button data-testid="restart" on:click=restart>"Restart"</button>
                        {controls::checkbox(cfg, set_field, "trails", "trails", |c| c.trails)}
                        {controls::checkbox(cfg, set_field, "field", "score field", |c| c.field)}
                    </div>
                    <label class="timeline">
                        <span>"timeline"</span>
                        <input
                            type="range"
                            min="0"
                            data-testid="timeline"
                            aria-label="Timeline: the step shown"
                            prop:max=move || frame.with(|f| f.as_ref().map_or(0, |f| f.step)).to_string()
                            prop:value=move || scrub.get().or_else(|| frame.with(|f| f.as_ref().map(|f| f.step))).unwrap_or(0).to_string()
                            on:input=move |ev| {
                                let v = event_target_value(&ev).parse::<usize>().unwrap_or(0);
                                let now = frame.with_untracked(|f| f.as_ref().map_or(0, |f| f.step));
                                playing.set(false);
                                scrub.set(if v >= now { None } else { Some(v) });
                            }
                        />
                    </label>
                    </Control>
                    <p class="explain">
                        {move || explain_score(cfg.with(|c| c.score))}
                        " "
                        {move || explain_sampler(cfg.with(|c| c.sampler))}
                    </p>
                </section>
                <section class="panel">
                    <h2>"Settings"</h2>
                    <DiffusionControls cfg set_field apply_config drawing drawing_note />
                </section>
            </div>
            <div class="panels two">
                <section class="panel">
                    <h2>"How close to the data"</h2>
                    <MetricsTable metrics nfe frame thread />
                    {move || {
                        let pts = swd_curve.get();
                        (pts.len() > 1).then(|| view! {
                            <LinePlot
                                series=vec![Series { name: "sliced Wasserstein distance to fresh data", color: "var(--accent)", points: pts, ..Series::default() }]
                                x_label="step"
                                y_label="SWD"
                                title="Distance to fresh data over the run".to_string()
                            />
                        })
                    }}
                    <p class="explain">
                        "The sliced Wasserstein distance compares the particles with fresh samples of the data (points the scores never saw) along 64 directions; two independent data samples of the same size sit near the noise floor. A sample within δ of a training point counts as memorised — fresh data shows how often that happens by chance. "
                        {paper_anchor(papers::SCARVELIS_2025)}
                    </p>
                </section>
                <section class="panel">
                    <h2>"The noise schedule"</h2>
                    <ScheduleView cfg levels frame scrub />
                    <p class="explain">
                        "x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε. The linear schedule of DDPM destroys the signal early; the cosine schedule of Improved DDPM keeps it longer. The sampler visits the marked levels, from pure noise (left) to data (right). "
                        {paper_anchor(papers::HO_2020)} " " {paper_anchor(papers::NICHOL_2021)}
                    </p>
                </section>
            </div>
            <section class="explain">
                <p class="papers-inline">
                    {Diffusion::INFO.papers.iter().map(|p| view! { {paper_anchor(*p)} " " }).collect_view()}
                </p>
            </section>
        </article>
    }
}

fn explain_score(s: ScoreKind) -> &'static str {
    match s {
        ScoreKind::ExactGmm => {
            "The exact score of the data's Gaussian mixture: the ideal a network could learn."
        }
        ScoreKind::Empirical => {
            "The exact score of the training points themselves: optimal for the training set, so with small noise every particle lands on a training point — memorisation."
        }
        ScoreKind::Smoothed => {
            "The closed-form score averaged over a small Gaussian smoothing: particles settle between nearby training points and produce new samples without any training."
        }
        ScoreKind::Gaussian => {
            "The score of one Gaussian with the data's mean and covariance: exact at high noise, blurry at low noise, yet it sets the early layout."
        }
        ScoreKind::Mlp => {
            "A tiny MLP trained to predict the noise (shipped, trained reproducibly by `gradlab train-denoiser`)."
        }
    }
}

fn explain_sampler(s: SamplerKind) -> &'static str {
    match s {
        SamplerKind::Ddpm => {
            "DDPM samples the reverse Markov chain, adding fresh noise every step."
        }
        SamplerKind::Ddim => {
            "DDIM takes the same marginals with η·(DDPM's noise); η = 0 is deterministic."
        }
        SamplerKind::Euler => {
            "Euler steps of the probability-flow ODE (identical to DDIM with η = 0)."
        }
        SamplerKind::Heun => {
            "Heun's second-order steps of the probability-flow ODE: two score evaluations a step, far more accurate per step."
        }
        SamplerKind::Langevin => {
            "Annealed Langevin dynamics: a few noisy gradient steps on log p at each noise level."
        }
        SamplerKind::Iadb => {
            "Iterative α-(de)blending: walks the straight line between noise and data, deterministically."
        }
    }
}

#[component]
fn MetricsTable(
    metrics: RwSignal<Option<Metrics>>,
    nfe: RwSignal<u64>,
    frame: RwSignal<Option<Frame>>,
    thread: RwSignal<Option<String>>,
) -> impl IntoView {
    let on_cpu = move || frame.with(|f| f.as_ref().is_some_and(|f| f.backend == Backend::Cpu));
    view! {
        <table class="metrics" data-testid="diffusion-metrics">
            <tbody>
                <tr><th>"sliced Wasserstein to fresh data"</th><td data-testid="swd">{move || metrics.get().map(|m| short(m.swd)).unwrap_or_else(|| "—".into())}</td></tr>
                <tr><th>"memorised (within δ of a training point)"</th><td data-testid="memorized">{move || metrics.get().map(|m| format!("{:.1} %", 100.0 * m.memorized)).unwrap_or_else(|| "—".into())}</td></tr>
                <tr><th>"… fresh data, for comparison"</th><td>{move || metrics.get().map(|m| format!("{:.1} %", 100.0 * m.memorized_fresh)).unwrap_or_else(|| "—".into())}</td></tr>
                <tr><th>"score evaluations per particle"</th><td data-testid="nfe">{move || nfe.get().to_string()}</td></tr>
                <tr><th>"computed on"</th><td>
                    <span data-testid="diffusion-backend">{move || frame.get().map(|f| match f.backend { Backend::Gpu => "WebGPU", Backend::Cpu => "CPU" }).unwrap_or("—")}</span>
                    {move || on_cpu().then(|| view! { <span class="muted" data-testid="compute-thread">{move || thread.get().map(|t| format!(" · {t}"))}</span> })}
                </td></tr>
            </tbody>
        </table>
    }
}

/// √ᾱ and √(1 − ᾱ) over the training steps, with the sampler's levels marked.
#[component]
fn ScheduleView(
    cfg: Memo<DiffusionConfig>,
    levels: Memo<Vec<Level>>,
    frame: RwSignal<Option<Frame>>,
    scrub: RwSignal<Option<usize>>,
) -> impl IntoView {
    // The curves change with the schedule only; the marker with every step.
    let kind = Memo::new(move |_| cfg.with(|c| c.schedule));
    let sched = Memo::new(move |_| dexp::schedule(kind.get(), TRAIN_STEPS));
    let curve = move |f: fn(f64) -> f64| -> Vec<(f64, f64)> {
        sched.with(|s| {
            s.alphas_cumprod
                .iter()
                .enumerate()
                .step_by(10)
                .map(|(t, &a)| (t as f64, f(a)))
                .collect()
        })
    };
    move || {
        let signal = curve(f64::sqrt);
        let noise = curve(|a| (1.0 - a).sqrt());
        let shown = scrub
            .get()
            .or_else(|| frame.with(|f| f.as_ref().map(|f| f.step)));
        let marker = shown.map(|k| {
            let l = levels.with(|l| l[k.min(l.len() - 1)]);
            // The training step with this ᾱ (on the VP path): nearest in the table.
            let abar = f64::from(l.a * l.a) / f64::from(l.a * l.a + l.v).max(1e-12);
            sched.with(|s| {
                s.alphas_cumprod
                    .iter()
                    .position(|&a| a <= abar)
                    .unwrap_or(0)
            }) as f64
        });
        let series = vec![
            Series {
                name: "signal √ᾱ",
                color: "var(--accent)",
                points: signal,
                ..Series::default()
            },
            Series {
                name: "noise √(1 − ᾱ)",
                color: "#D55E00",
                points: noise,
                ..Series::default()
            },
        ];
        let title = format!("{} schedule, T = 1000", kind.get().as_str());
        match marker {
            Some(m) => view! { <LinePlot series x_label="training step t" y_label="scale" marker_x=m title /> }.into_any(),
            None => view! { <LinePlot series x_label="training step t" y_label="scale" title /> }.into_any(),
        }
    }
}

#[component]
fn DiffusionControls(
    cfg: Memo<DiffusionConfig>,
    set_field: SetField,
    /// Writes a whole config (an imported mixture).
    apply_config: Callback<DiffusionConfig>,
    drawing: RwSignal<Drawing>,
    drawing_note: RwSignal<Option<String>>,
) -> impl IntoView {
    let select = move |key, label, options, value| {
        controls::select(cfg, set_field, key, label, options, value)
    };
    let slider =
        move |key, label, range, value| controls::slider(cfg, set_field, key, label, range, value);
    let number = move |key, label, value| controls::number(cfg, set_field, key, label, value);
    let datasets: Vec<&'static str> = DiffusionData::ALL.iter().map(|d| d.as_str()).collect();
    let scores: Vec<&'static str> = ScoreKind::ALL.iter().map(|d| d.as_str()).collect();
    let samplers: Vec<&'static str> = SamplerKind::ALL.iter().map(|d| d.as_str()).collect();
    let schedules: Vec<&'static str> = ScheduleKind::ALL.iter().map(|d| d.as_str()).collect();
    let import_text = RwSignal::new(String::new());
    view! {
        <div class="controls diffusion-controls">
            {select("dataset", "data set", datasets, |c| c.dataset.render())}
            {select("score", "score source", scores, |c| c.score.render())}
            {move || (cfg.with(|c| c.score) == ScoreKind::Smoothed).then(|| slider("smoothing", "smoothing σ", (0.0, 0.3, 0.005), |c| c.smoothing))}
            {select("sampler", "sampler", samplers, |c| c.sampler.render())}
            {move || (cfg.with(|c| c.sampler) == SamplerKind::Ddim).then(|| slider("eta", "η", (0.0, 1.0, 0.05), |c| c.eta))}
            {move || (cfg.with(|c| c.sampler) == SamplerKind::Langevin).then(|| view! {
                {number("langevin-steps", "Langevin steps per level", |c| c.langevin_steps.render())}
                {slider("langevin-delta", "Langevin step δ", (0.01, 1.0, 0.01), |c| c.langevin_delta)}
            })}
            {select("schedule", "schedule", schedules, |c| c.schedule.render())}
            {number("steps", "steps", |c| c.steps.render())}
            {number("n", "particles", |c| c.n.render())}
            {slider("guidance", "guidance w", (0.0, 15.0, 0.25), |c| c.guidance)}
            {controls::checkbox(cfg, set_field, "project", "drop the parallel part (APG)", |c| c.project)}
            {number("train", "training points", |c| c.train.render())}
            {number("seed", "seed", |c| c.seed.render())}
            {move || (cfg.with(|c| c.dataset) == DiffusionData::Custom).then(|| slider("gmm-std", "component std", (0.01, 0.5, 0.01), |c| c.gmm_std))}
            {move || matches!(cfg.with(|c| c.dataset), DiffusionData::Drawn | DiffusionData::Custom).then(|| view! {
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
            })}
        </div>
    }
}

/// The particles, the training data, the score field and trails on a canvas;
/// mixture components can be dragged, drawn data added with the pointer.
#[component]
#[allow(clippy::too_many_arguments)]
fn ParticleCanvas(
    cfg: Memo<DiffusionConfig>,
    runner: StoredValue<Option<Runner>, LocalStorage>,
    frame: RwSignal<Option<Frame>>,
    scrub: RwSignal<Option<usize>>,
    field: Memo<Option<ScoreArrows>>,
    drawing: RwSignal<Drawing>,
    train_set: StoredValue<PointSet, LocalStorage>,
    drawing_note: RwSignal<Option<String>>,
    set_gmm: impl Fn(Vec<[f32; 2]>) + Clone + 'static,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    // A component being dragged (index) or points being drawn.
    let dragging = StoredValue::new(None::<usize>);
    let draft_means = RwSignal::new(None::<Vec<[f32; 2]>>);
    let stroke = RwSignal::new(None::<Vec<[f32; 2]>>);
    Effect::new(move |_| {
        frame.track();
        let shown = scrub.get();
        let c = cfg.get();
        let arrows = field.get();
        let drawn = stroke.get();
        let means = draft_means.get().unwrap_or_else(|| c.custom().means);
        let Some(el) = canvas.get() else { return };
        let Some(ctx) = canvas_context(&el, SIZE, SIZE) else {
            return;
        };
        // Axes.
        ctx.set_stroke_style_str("rgba(128,128,140,0.25)");
        ctx.set_line_width(1.0);
        for v in [-1.0f32, 0.0, 1.0] {
            let (x, _) = to_px([v, 0.0]);
            let (_, y) = to_px([0.0, v]);
            ctx.begin_path();
            ctx.move_to(x, 0.0);
            ctx.line_to(x, SIZE);
            ctx.move_to(0.0, y);
            ctx.line_to(SIZE, y);
            ctx.stroke();
        }
        // Training data (faint), or the drawing.
        ctx.set_fill_style_str("rgba(128,128,140,0.45)");
        train_set.with_value(|t| {
            for p in &t.points {
                let (x, y) = to_px(*p);
                ctx.fill_rect(x - 1.0, y - 1.0, 2.0, 2.0);
            }
        });
        if let Some(s) = &drawn {
            for p in s {
                let (x, y) = to_px(*p);
                ctx.fill_rect(x - 1.5, y - 1.5, 3.0, 3.0);
            }
        }
        // Score field.
        if let Some(arrows) = arrows {
            ctx.set_stroke_style_str("rgba(128,128,140,0.7)");
            ctx.set_line_width(1.0);
            let cell = SIZE / FIELD_SIDE as f64 * 0.45;
            for (p, d) in arrows {
                let len = f64::from((d[0] * d[0] + d[1] * d[1]).sqrt());
                if len < 1e-9 {
                    continue;
                }
                // Arrow length: a squashed magnitude, so near and far arrows both read.
                let l = cell * (len / (len + 0.25));
                let (ux, uy) = (f64::from(d[0]) / len, -f64::from(d[1]) / len);
                let (x0, y0) = to_px(p);
                let (x1, y1) = (x0 + ux * l, y0 + uy * l);
                ctx.begin_path();
                ctx.move_to(x0, y0);
                ctx.line_to(x1, y1);
                ctx.line_to(x1 - 3.0 * ux + 2.0 * uy, y1 - 3.0 * uy - 2.0 * ux);
                ctx.move_to(x1, y1);
                ctx.line_to(x1 - 3.0 * ux - 2.0 * uy, y1 - 3.0 * uy + 2.0 * ux);
                ctx.stroke();
            }
        }
        let classes = c.guidance_classes(train_set.with_value(|t| t.class_count)) as usize;
        runner.with_value(|r| {
            let Some(r) = r else { return };
            let history = &r.history;
            if c.trails && history.len() > 1 {
                let upto = shown.unwrap_or(history.len() - 1).min(history.len() - 1);
                ctx.set_line_width(0.6);
                ctx.set_stroke_style_str("rgba(59,91,219,0.25)");
                for i in 0..history[0].len().min(256) {
                    ctx.begin_path();
                    let (x, y) = to_px(history[0][i]);
                    ctx.move_to(x, y);
                    for f in &history[1..=upto] {
                        let (x, y) = to_px(f[i]);
                        ctx.line_to(x, y);
                    }
                    ctx.stroke();
                }
            }
            let pts: &[[f32; 2]] = match shown {
                Some(k) if k < history.len() => &history[k],
                _ => &r.particles,
            };
            let radius = if pts.len() > 20_000 { 0.8 } else { 1.2 };
            let mut current = usize::MAX;
            for (i, p) in pts.iter().enumerate() {
                if !p[0].is_finite() || !p[1].is_finite() {
                    continue;
                }
                let k = if classes > 0 { i % classes } else { 0 };
                if k != current {
                    ctx.set_fill_style_str(if classes > 0 {
                        category_color(k)
                    } else {
                        "#3b5bdb"
                    });
                    current = k;
                }
                let (x, y) = to_px(*p);
                ctx.fill_rect(x - radius, y - radius, 2.0 * radius, 2.0 * radius);
            }
        });
        // Draggable mixture components.
        if c.dataset == DiffusionData::Custom {
            ctx.set_line_width(2.0);
            for (k, m) in means.iter().enumerate() {
                let (x, y) = to_px(*m);
                ctx.set_stroke_style_str(category_color(k));
                ctx.begin_path();
                let _ = ctx.arc(
                    x,
                    y,
                    (f64::from(c.gmm_std as f32) / VIEW * SIZE / 2.0).max(6.0),
                    0.0,
                    std::f64::consts::TAU,
                );
                ctx.stroke();
            }
        }
    });
    let at = move |ev: &web_sys::PointerEvent| -> Option<[f32; 2]> {
        let el = canvas.get()?;
        let rect = el.get_bounding_client_rect();
        let x = (f64::from(ev.client_x()) - rect.left()) / rect.width() * SIZE;
        let y = (f64::from(ev.client_y()) - rect.top()) / rect.height() * SIZE;
        Some(to_world(x, y))
    };
    let commit_gmm = set_gmm.clone();
    let finish = move || {
        if let Some(m) = draft_means.get_untracked() {
            commit_gmm(m);
        }
        draft_means.set(None);
        dragging.set_value(None);
        if let Some(s) = stroke.get_untracked() {
            let mut d = drawing.get_untracked();
            d.points.extend(s);
            let (points, _) = sanitize_drawn(&d.points);
            let d = Drawing::new(points);
            drawing_note.set(write_drawing(&d).err());
            drawing.set(d);
        }
        stroke.set(None);
    };
    let finish2 = finish.clone();
    view! {
        <figure class="plot">
            <canvas
                node_ref=canvas
                class="particles-canvas"
                role="img"
                aria-label="Diffusion particles"
                data-testid="particles"
                data-step=move || frame.with(|f| f.as_ref().map_or(0, |f| f.step)).to_string()
                data-points=move || { frame.track(); runner.with_value(|r| r.as_ref().map_or(0, |r| r.particles.len())).to_string() }
                data-drawn=move || drawing.with(|d| d.points.len()).to_string()
                on:pointerdown=move |ev| {
                    let Some(p) = at(&ev) else { return };
                    let c = cfg.get_untracked();
                    match c.dataset {
                        DiffusionData::Custom => {
                            let means = c.custom().means;
                            let near = means.iter().enumerate().map(|(k, m)| (k, (m[0] - p[0]).hypot(m[1] - p[1]))).min_by(|a, b| a.1.total_cmp(&b.1));
                            if let Some((k, d)) = near && d < 0.2 {
                                dragging.set_value(Some(k));
                                draft_means.set(Some(means));
                            }
                        }
                        DiffusionData::Drawn => stroke.set(Some(vec![p])),
                        _ => return,
                    }
                    if let Some(el) = canvas.get() {
                        let _ = el.set_pointer_capture(ev.pointer_id());
                    }
                }
                on:pointermove=move |ev| {
                    let Some(p) = at(&ev) else { return };
                    if let Some(k) = dragging.get_value() {
                        draft_means.update(|m| if let Some(m) = m.as_mut() && k < m.len() { m[k] = [p[0].clamp(-2.5, 2.5), p[1].clamp(-2.5, 2.5)]; });
                    } else if stroke.with_untracked(Option::is_some) {
                        stroke.update(|s| if let Some(s) = s.as_mut() && s.last().is_none_or(|l| (l[0] - p[0]).hypot(l[1] - p[1]) >= DRAW_SPACING) { s.push(p); });
                    }
                }
                on:pointerup=move |_| finish()
                on:pointercancel=move |_| finish2()
            ></canvas>
            <figcaption>
                <span class="caption-title">{move || match cfg.with(|c| c.dataset) {
                    DiffusionData::Custom => "Drag a ring to move a mixture component",
                    DiffusionData::Drawn => "Drag on the canvas to draw data points",
                    _ if cfg.with(|c| c.guidance != 0.0) => "Grey: training data · colour: the class each particle is guided to",
                    _ => "Grey: training data · blue: particles",
                }}</span>
                <PlotExport name="particles".to_string() />
            </figcaption>
        </figure>
    }
}
