//! The label-smoothing widget: two or three tiny classifiers (hard labels,
//! smoothed labels, MaxSup) train side by side from the same seed and data,
//! live, with their logits on one example, penultimate-layer clusters,
//! calibration, selective classification and decision regions.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::backend::{BackendCtx, gpu_compute, report_gpu_fault, use_active_backend};
use super::charts::{LinePlot, Series, canvas_context, category_color, short};
use super::controls::{self, SetField};
use super::export::PlotExport;
use super::pages::paper_anchor;
use super::query::{ConfigNotes, Control, use_config, use_set_config, use_set_field};
use super::share::ShareBar;
use super::worker::{Fault, LabelSmoothingSession};
use crate::experiments::Backend;
use crate::experiments::config::Param;
use crate::experiments::label_smoothing::{
    DatasetId, FINDINGS, LabelSmoothing, LabelSmoothingConfig, LabelSmoothingRun, LogitView,
    ModelKind, Report, Snapshot, softmax_rows,
};
use crate::experiments::papers;
use crate::experiments::registry::Experiment;
use crate::experiments::registry::GpuError;

/// The animation clock, in milliseconds.
const TICK_MS: u64 = 20;
/// CPU training per tick on the main thread (where no compute worker runs),
/// in milliseconds: the frame budget is 16 ms.
const CPU_TICK_MS: f64 = 7.0;
/// At most one snapshot (read-back and metrics) this often, in milliseconds.
const SNAPSHOT_MS: f64 = 350.0;
/// At most one model's decision regions this often, in milliseconds.
const REGION_MS: f64 = 450.0;
/// Decision-region grid side on the GPU and on the CPU.
const GRID_GPU: usize = 96;
const GRID_CPU: usize = 64;
/// GPU steps per submission: the first, and the bounds of its adaptation.
const GPU_BATCH: (u32, u32, u32) = (8, 1, 128);
/// Canvas side in CSS pixels (decision regions, clusters).
const CANVAS: f64 = 260.0;
/// Test points drawn over the decision regions.
const OVERLAY_POINTS: usize = 600;

/// One colour per model, the same in every panel.
fn model_color(k: ModelKind) -> &'static str {
    match k {
        ModelKind::Hard => "#3b5bdb",
        ModelKind::Smoothed => "#D55E00",
        ModelKind::MaxSup => "#009E73",
    }
}

fn model_name(k: ModelKind) -> &'static str {
    match k {
        ModelKind::Hard => "hard labels",
        ModelKind::Smoothed => "label smoothing",
        ModelKind::MaxSup => "MaxSup",
    }
}

fn lognorm_name(k: ModelKind) -> &'static str {
    match k {
        ModelKind::Hard => "hard · lognorm",
        ModelKind::Smoothed => "smoothing · lognorm",
        ModelKind::MaxSup => "MaxSup · lognorm",
    }
}

/// The model's name with its loss parameter, e.g. "label smoothing (ε = 0.2)".
fn model_title(k: ModelKind, c: &LabelSmoothingConfig) -> String {
    match k {
        ModelKind::Hard => "hard labels".into(),
        ModelKind::Smoothed if c.tsla > 0 => {
            format!(
                "label smoothing (ε = {}, off from step {})",
                short(c.smoothing),
                c.tsla
            )
        }
        ModelKind::Smoothed => format!("label smoothing (ε = {})", short(c.smoothing)),
        ModelKind::MaxSup => format!("MaxSup (α = {})", short(c.maxsup)),
    }
}

/// Where a run trains: on the GPU here, or on the CPU in the compute worker
/// (or on the main thread where there is none).
enum Engine {
    Gpu(LabelSmoothingRun),
    Cpu(LabelSmoothingSession),
}

/// A failed job, by where it failed.
enum Failure {
    Gpu(GpuError),
    Cpu(Fault),
}

impl Engine {
    fn step(&self) -> u32 {
        match self {
            Engine::Gpu(run) => run.step(),
            Engine::Cpu(s) => s.step(),
        }
    }

    fn cfg(&self) -> &LabelSmoothingConfig {
        match self {
            Engine::Gpu(run) => &run.cfg,
            Engine::Cpu(s) => &s.cfg,
        }
    }

    fn backend(&self) -> Backend {
        match self {
            Engine::Gpu(run) => run.backend(),
            Engine::Cpu(_) => Backend::Cpu,
        }
    }

    async fn snapshot(&mut self) -> Result<Snapshot, Failure> {
        match self {
            Engine::Gpu(run) => run.snapshot().await.map_err(Failure::Gpu),
            Engine::Cpu(s) => s.snapshot().await.map_err(Failure::Cpu),
        }
    }

    async fn predict(&mut self, model: usize, points: &[f32]) -> Result<Vec<f32>, Failure> {
        match self {
            Engine::Gpu(run) => run.predict(model, points).await.map_err(Failure::Gpu),
            Engine::Cpu(s) => s.predict(model, points).await.map_err(Failure::Cpu),
        }
    }
}

/// A run in progress, with its bookkeeping.
struct Runner {
    run: Engine,
    /// When the last snapshot was taken, and at which step.
    snapped_at: f64,
    snapped_step: Option<u32>,
    /// When decision regions were last computed, the step of each model's, and whose turn it is.
    region_at: f64,
    region_steps: Vec<Option<u32>>,
    region_next: usize,
    /// The decision-region grid (side², row-major from the top-left).
    grid: Vec<f32>,
    side: usize,
    gpu_batch: u32,
}

/// The square of the input plane shown: the test set's bounding box, padded.
#[derive(Debug, Clone, Copy, PartialEq)]
struct View {
    cx: f64,
    cy: f64,
    half: f64,
}

impl View {
    fn of(x: &[f32]) -> Self {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in x.chunks_exact(2) {
            for d in 0..2 {
                let v = f64::from(p[d]);
                if v.is_finite() {
                    lo[d] = lo[d].min(v);
                    hi[d] = hi[d].max(v);
                }
            }
        }
        if !lo[0].is_finite() || !lo[1].is_finite() {
            return Self {
                cx: 0.0,
                cy: 0.0,
                half: 1.0,
            };
        }
        let half = ((hi[0] - lo[0]).max(hi[1] - lo[1]) / 2.0 * 1.08).max(1e-3);
        Self {
            cx: (lo[0] + hi[0]) / 2.0,
            cy: (lo[1] + hi[1]) / 2.0,
            half,
        }
    }

    fn grid(&self, side: usize) -> Vec<f32> {
        let mut g = Vec::with_capacity(side * side * 2);
        for r in 0..side {
            for c in 0..side {
                let fx = (c as f64 + 0.5) / side as f64 * 2.0 - 1.0;
                let fy = 1.0 - (r as f64 + 0.5) / side as f64 * 2.0;
                g.push((self.cx + fx * self.half) as f32);
                g.push((self.cy + fy * self.half) as f32);
            }
        }
        g
    }

    fn px(&self, x: f32, y: f32) -> (f64, f64) {
        (
            ((f64::from(x) - self.cx) / self.half + 1.0) * CANVAS / 2.0,
            (1.0 - (f64::from(y) - self.cy) / self.half) * CANVAS / 2.0,
        )
    }
}

/// One model's decision regions: the predicted class and its probability per cell.
#[derive(Debug, Clone, PartialEq)]
struct Region {
    side: usize,
    step: u32,
    cells: Vec<(u8, f32)>,
}

impl Region {
    fn of(logits: &[f32], classes: usize, side: usize, step: u32) -> Self {
        let probs = softmax_rows(logits, classes);
        let cells = probs
            .chunks_exact(classes.max(1))
            .map(|p| {
                let (k, v) = p
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f32::NEG_INFINITY),
                        |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                    );
                (k as u8, v)
            })
            .collect();
        Self { side, step, cells }
    }
}

/// The test set and the plane it is shown in.
#[derive(Debug, Clone, PartialEq)]
struct TestData {
    x: Vec<f32>,
    y: Vec<u32>,
    view: View,
}

/// What one tick does, besides nothing.
enum Job {
    Snapshot,
    Region(usize),
    Train,
}

#[component]
pub fn LabelSmoothingWidget() -> impl IntoView {
    let ctx = expect_context::<BackendCtx>();
    let (cfg, notes) = use_config::<LabelSmoothingConfig>();
    let set_config = use_set_config::<LabelSmoothingConfig>();
    let backend = use_active_backend();

    let runner = StoredValue::new_local(None::<Runner>);
    let generation = StoredValue::new(0u64);
    let playing = RwSignal::new(true);
    let restarts = RwSignal::new(0u32);
    let step = RwSignal::new(0u32);
    let computed_on = RwSignal::new(None::<Backend>);
    let snap = RwSignal::new(None::<Arc<Snapshot>>);
    let diverged = RwSignal::new(None::<String>);
    let regions = RwSignal::new(Vec::<Option<Arc<Region>>>::new());
    let test_data = RwSignal::new(None::<Arc<TestData>>);
    let example = RwSignal::new(0usize);
    // Where the CPU trains: the compute worker or the main thread, and why.
    let thread = RwSignal::new(None::<String>);
    let kinds = Memo::new(move |_| cfg.with(LabelSmoothingConfig::kinds));

    // A job failed: on the GPU the page falls back to the CPU; where the
    // compute worker stopped, the run starts again (on the main thread);
    // otherwise the run pauses and says why.
    let fail = move |f: Failure| match f {
        Failure::Gpu(e) => report_gpu_fault(ctx, &e),
        Failure::Cpu(Fault::WorkerStopped(_)) => restarts.update(|r| *r += 1),
        Failure::Cpu(Fault::Job(why)) => {
            playing.set(false);
            diverged.set(Some(format!("Training stopped: {why}")));
        }
    };

    // (Re)start whenever the config, the backend or Restart changes: latest config wins.
    Effect::new(move |_| {
        let c = cfg.get();
        let b = backend.get();
        restarts.track();
        let this = generation.get_value() + 1;
        generation.set_value(this);
        runner.set_value(None);
        snap.set(None);
        diverged.set(None);
        step.set(0);
        regions.set(vec![None; c.kinds().len()]);
        computed_on.set(None);
        let gpu = (b == Backend::Gpu).then(gpu_compute).flatten();
        spawn_local(async move {
            let started = match gpu {
                Some(on) => LabelSmoothingRun::new(c, on.gpu())
                    .await
                    .map(|run| {
                        let t = run.test_set();
                        let test = (t.x.clone(), t.y.clone());
                        (Engine::Gpu(run), test)
                    })
                    .map_err(Failure::Gpu),
                None => LabelSmoothingSession::start(&c)
                    .await
                    .map(|(session, t)| {
                        thread.set(Some(session.session.place()));
                        (Engine::Cpu(session), (t.x, t.y))
                    })
                    .map_err(Failure::Cpu),
            };
            if generation.try_get_value() != Some(this) {
                return;
            }
            let (run, (x, y)) = match started {
                Ok(s) => s,
                Err(f) => return fail(f),
            };
            let view = View::of(&x);
            let n = y.len();
            test_data.set(Some(Arc::new(TestData { x, y, view })));
            example.update(|e| {
                if *e >= n {
                    *e = 0;
                }
            });
            let side = if run.backend() == Backend::Gpu {
                GRID_GPU
            } else {
                GRID_CPU
            };
            computed_on.set(Some(run.backend()));
            let models = run.cfg().kinds().len();
            runner.set_value(Some(Runner {
                run,
                snapped_at: f64::NEG_INFINITY,
                snapped_step: None,
                region_at: f64::NEG_INFINITY,
                region_steps: vec![None; models],
                region_next: 0,
                grid: view.grid(side),
                side,
                gpu_batch: GPU_BATCH.0,
            }));
        });
    });

    // Puts a runner back after async work, unless a newer run replaced it.
    let put_back = move |this: u64, r: Runner| {
        if generation.try_get_value() == Some(this) {
            step.set(r.run.step());
            runner.set_value(Some(r));
        }
    };

    // The animation clock: one bounded job per tick, nothing while paused or hidden.
    super::animation_clock(playing, TICK_MS, move || {
        let this = generation.get_value();
        let mut taken = None;
        runner.update_value(|r| taken = r.take());
        let Some(mut r) = taken else { return };
        let now = super::now_ms();
        let at = r.run.step();
        let done = at >= r.run.cfg().steps;
        let models = r.region_steps.len();
        let snap_due = r.snapped_step != Some(at)
            && (done || r.snapped_step.is_none() || now - r.snapped_at >= SNAPSHOT_MS);
        let region_due = (0..models)
            .map(|i| (r.region_next + i) % models)
            .find(|&i| r.region_steps[i] != Some(at))
            .filter(|_| done || now - r.region_at >= REGION_MS);
        let job = if snap_due {
            Job::Snapshot
        } else if let Some(i) = region_due {
            Job::Region(i)
        } else if !done {
            Job::Train
        } else {
            // Finished: every panel shows the last step.
            runner.set_value(Some(r));
            return;
        };
        let gpu = matches!(r.run, Engine::Gpu(_));
        match job {
            Job::Snapshot => spawn_local(async move {
                let s = r.run.snapshot().await;
                if generation.try_get_value() != Some(this) {
                    return;
                }
                match s {
                    Ok(s) => {
                        r.snapped_at = super::now_ms();
                        r.snapped_step = Some(s.step);
                        if let Some(m) = s.models.iter().find(|m| !m.nll.is_finite()) {
                            playing.set(false);
                            diverged.set(Some(format!(
                                    "The {} model diverged at step {} (its loss is no longer a finite number). Lower the learning rate, or press Reset.",
                                    m.kind.as_str(),
                                    s.step
                                )));
                        }
                        snap.set(Some(Arc::new(s)));
                        put_back(this, r);
                    }
                    Err(f) => fail(f),
                }
            }),
            Job::Region(i) => spawn_local(async move {
                let grid = std::mem::take(&mut r.grid);
                let logits = r.run.predict(i, &grid).await;
                r.grid = grid;
                if generation.try_get_value() != Some(this) {
                    return;
                }
                match logits {
                    Ok(l) => {
                        let classes = r.run.cfg().dataset.classes();
                        let region = Region::of(&l, classes, r.side, at);
                        r.region_steps[i] = Some(at);
                        r.region_next = (i + 1) % models;
                        r.region_at = super::now_ms();
                        regions.update(|v| {
                            if i < v.len() {
                                v[i] = Some(Arc::new(region));
                            }
                        });
                        put_back(this, r);
                    }
                    Err(f) => fail(f),
                }
            }),
            Job::Train if gpu => {
                let n = r.gpu_batch;
                let start = super::now_ms();
                if let Engine::Gpu(run) = &mut r.run
                    && let Err(e) = run.train_steps(n)
                {
                    report_gpu_fault(ctx, &e);
                    return;
                }
                // Wait for the device (a one-point read-back) before the next
                // submission, so queued work stays bounded; adapt the batch.
                spawn_local(async move {
                    let fence = r.run.predict(0, &[0.0, 0.0]).await;
                    if generation.try_get_value() != Some(this) {
                        return;
                    }
                    match fence {
                        Ok(_) => {
                            let took = super::now_ms() - start;
                            // Aim at ~40 ms per submission, changing by at most 2× at a time.
                            let per_step = (took / f64::from(n)).max(0.01);
                            let want = (40.0 / per_step) as u32;
                            r.gpu_batch = want.clamp(
                                (r.gpu_batch / 2).max(GPU_BATCH.1),
                                (r.gpu_batch * 2).min(GPU_BATCH.2),
                            );
                            put_back(this, r);
                        }
                        Err(f) => fail(f),
                    }
                });
            }
            Job::Train => spawn_local(async move {
                let Engine::Cpu(session) = &mut r.run else {
                    return;
                };
                let trained = session.train(session.session.slice_ms(CPU_TICK_MS)).await;
                if generation.try_get_value() != Some(this) {
                    return;
                }
                match trained {
                    Ok(_) => put_back(this, r),
                    Err(f) => fail(Failure::Cpu(f)),
                }
            }),
        }
    });

    let report = Signal::derive(move || {
        let b = computed_on.get()?;
        snap.with(|s| {
            s.as_ref()
                .and_then(|s| serde_json::to_string(&Report::from_snapshot(s, b)).ok())
        })
    });

    let set_field = use_set_field(cfg);

    let total = Memo::new(move |_| cfg.with(|c| c.steps));
    let finished = move || {
        step.get() >= total.get()
            && snap.with(|s| s.as_ref().is_some_and(|s| s.step >= total.get()))
    };
    let off_default =
        Memo::new(move |_| cfg.with(|c| c.dataset != DatasetId::Gauss8 || c.noise > 0.0));

    view! {
        <article class="widget" data-testid="label-smoothing-widget" data-step=move || step.get().to_string()>
            <header class="widget-head">
                <h1>"Label smoothing"</h1>
                <p class="claim">
                    "Train with soft targets (1 − ε)·onehot + ε/K instead of hard labels, and the classifier becomes better calibrated and its classes cluster tightly — yet it ranks its own mistakes worse, so selective classification suffers. Three tiny networks train side by side from the same seed, data and minibatches."
                </p>
            </header>
            <ConfigNotes notes />
            {move || diverged.get().map(|m| view! { <p class="notes" role="status" data-testid="diverged">{m}</p> })}
            {move || off_default.get().then(|| view! {
                <p class="agreement" role="status" data-testid="off-default-note">
                    "The published effects below are only verified at the default setting (gauss8, no label noise). "
                    {move || cfg.with(|c| {
                        let mut why = Vec::new();
                        if matches!(c.dataset, DatasetId::Blobs3 | DatasetId::Spirals3) {
                            why.push("blobs3 and spirals3 are nearly separable, so AURC is close to 0 for every model and the effects barely show.");
                        }
                        if c.noise > 0.0 {
                            why.push("With label noise the calibration effect can fail: calibration is scored on the clean test labels.");
                        }
                        why.join(" ")
                    })}
                </p>
            })}
            <ShareBar
                name="label-smoothing"
                json=report
                on_reset={
                    let set_config = set_config.clone();
                    move || set_config(&LabelSmoothingConfig::default())
                }
            />
            <div class="panels ls-top">
                <section class="panel">
                    <h2>"Settings"</h2>
                    <LsControls cfg set_field />
                </section>
                <section class="panel">
                    <h2>{move || format!("Step {} of {}", step.get(), total.get())}</h2>
                    <progress class="ls-progress" max=move || total.get().to_string() value=move || step.get().to_string()></progress>
                    <Control name="controls">
                    <div class="buttons ls-buttons">
                        <button data-testid="play" on:click=move |_| playing.update(|p| *p = !*p)>
                            {move || if playing.get() { "Pause" } else { "Play" }}
                        </button>
                        <button data-testid="restart" on:click=move |_| {
                            restarts.update(|r| *r += 1);
                            playing.set(true);
                        }>"Restart"</button>
                        <span class="muted" data-testid="ls-state">{move || if finished() { "finished" } else if playing.get() { "training…" } else { "paused" }}</span>
                    </div>
                    </Control>
                    <MetricsTable snap computed_on thread />
                    <p class="explain">
                        "All models share the initial weights, the data and every minibatch; only the loss differs. Metrics are on the clean test set; ECE uses 15 equal-width bins; AURC is the area under the risk–coverage curve (lower is better); “ln” after logit normalisation."
                    </p>
                </section>
            </div>
            <section class="panel ls-section">
                <h2>"Decision regions"</h2>
                <div class="ls-grid" style=move || format!("--n: {}", kinds.with(Vec::len))>
                    {move || kinds.get().into_iter().enumerate().map(|(i, k)| view! {
                        <RegionCanvas index=i kind=k cfg regions test_data />
                    }).collect_view()}
                </div>
                <p class="explain">
                    "The predicted class over the input plane; paler where the model is less confident. Dots are test points, coloured by their true class."
                </p>
            </section>
            <section class="panel ls-section">
                <h2>"What the loss sees on one example"</h2>
                <ExamplePicker example snap test_data />
                <LogitPanel example snap cfg />
                <p class="explain">
                    "Smoothing adds ε·(z_y − mean z) to the cross-entropy. MaxSup splits it: the regularisation part pulls the true logit towards the others it beats; the error-enhancement part (nonzero only on a misclassified example) pushes the true logit further below the classes that beat it. MaxSup keeps only the first, penalising α·(max z − mean z). "
                    {paper_anchor(papers::ZHOU_2025)}
                </p>
            </section>
            <section class="panel ls-section">
                <h2>"Penultimate-layer clusters"</h2>
                <div class="ls-grid" style=move || format!("--n: {}", kinds.with(Vec::len))>
                    {move || kinds.get().into_iter().enumerate().map(|(i, k)| view! {
                        <ClusterCanvas index=i kind=k cfg snap />
                    }).collect_view()}
                </div>
                <p class="explain">
                    "Test points of three classes, projected onto the plane through those classes' templates (their rows of the last weight matrix). Label smoothing pulls each class into a tight cluster, equidistant from the others, and erases how close examples are to other classes. "
                    {paper_anchor(papers::MULLER_2019)}
                </p>
            </section>
            <div class="panels two">
                <section class="panel">
                    <h2>"Calibration"</h2>
                    <ReliabilityPlot snap />
                    <Findings effects=&["ece"] />
                    <p class="explain">"Accuracy against confidence in 15 bins; a calibrated model lies on the diagonal. Hard labels make a network over-confident; smoothing pulls it back. " {paper_anchor(papers::MULLER_2019)}</p>
                </section>
                <section class="panel">
                    <h2>"Selective classification"</h2>
                    <RiskCoveragePlot snap />
                    <Findings effects=&["aurc", "lognorm"] />
                    <p class="explain">"Keep only the most confident fraction (coverage) of the test set and measure the error among those kept. Solid: max-softmax confidence; dashed: after logit normalisation. " {paper_anchor(papers::XIA_2025)}</p>
                </section>
            </div>
            <section class="explain">
                <p class="papers-inline">
                    {LabelSmoothing::INFO.papers.iter().map(|p| view! { {paper_anchor(*p)} " " }).collect_view()}
                </p>
            </section>
        </article>
    }
}

/// The published effects whose `effect` is listed, and whether the default shows them.
#[component]
fn Findings(effects: &'static [&'static str]) -> impl IntoView {
    view! {
        <ul class="ls-findings">
            {FINDINGS.iter().filter(|f| effects.contains(&f.effect)).map(|f| view! {
                <li data-testid="finding" data-effect=f.effect data-holds=f.holds.to_string()>
                    <span class="ls-check" aria-hidden="true">{if f.holds { "✓" } else { "✗" }}</span>
                    {f.text}
                </li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn MetricsTable(
    snap: RwSignal<Option<Arc<Snapshot>>>,
    computed_on: RwSignal<Option<Backend>>,
    thread: RwSignal<Option<String>>,
) -> impl IntoView {
    let cell = |v: f32, digits: usize| format!("{v:.digits$}");
    view! {
        <div class="table-scroll">
        <table class="moments ls-metrics" data-testid="ls-metrics"
            data-step=move || snap.with(|s| s.as_ref().map_or(0, |s| s.step)).to_string()
            data-ece=move || snap.with(|s| s.as_ref().map(|s| s.models.iter().map(|m| format!("{:.4}", m.ece)).collect::<Vec<_>>().join(",")).unwrap_or_default())>
            <thead>
                <tr><th>"model"</th><th>"acc"</th><th>"NLL"</th><th>"ECE"</th><th>"AURC"</th><th title="AURC after logit normalisation">"AURC ln"</th></tr>
            </thead>
            <tbody>
                {move || snap.get().map(|s| s.models.iter().map(|m| {
                    let title = model_name(m.kind);
                    view! {
                        <tr data-testid="ls-row" data-kind=m.kind.as_str()>
                            <td><span class="dot" style=format!("background:{}", model_color(m.kind))></span>{title}</td>
                            <td>{format!("{:.1} %", 100.0 * m.test_acc)}</td>
                            <td>{cell(m.nll, 3)}</td>
                            <td data-testid="ece">{cell(m.ece, 4)}</td>
                            <td>{cell(m.aurc, 4)}</td>
                            <td>{cell(m.aurc_lognorm, 4)}</td>
                        </tr>
                    }
                }).collect_view())}
            </tbody>
        </table>
        </div>
        <p class="meta">"computed on "
            <span data-testid="ls-backend">{move || computed_on.get().map(|b| match b { Backend::Gpu => "WebGPU", Backend::Cpu => "CPU" }).unwrap_or("—")}</span>
            {move || (computed_on.get() == Some(Backend::Cpu)).then(|| view! { <span class="muted" data-testid="compute-thread">{move || thread.get().map(|t| format!(" · {t}"))}</span> })}
        </p>
    }
}

#[component]
fn LsControls(cfg: Memo<LabelSmoothingConfig>, set_field: SetField) -> impl IntoView {
    let slider =
        move |key, label, range, value| controls::slider(cfg, set_field, key, label, range, value);
    let number = move |key, label, value| controls::number(cfg, set_field, key, label, value);
    view! {
        <div class="controls stacked ls-controls">
            {controls::select(cfg, set_field, "dataset", "data set", [DatasetId::Gauss8, DatasetId::Blobs3, DatasetId::Spirals3, DatasetId::Moons, DatasetId::Circles].iter().map(|d| d.as_str()).collect(), |c| c.dataset.render())}
            {slider("smoothing", "smoothing ε", (0.0, 0.5, 0.01), |c| c.smoothing)}
            {slider("maxsup", "MaxSup α (0 = off)", (0.0, 1.0, 0.05), |c| c.maxsup)}
            {slider("noise", "label noise", (0.0, 0.5, 0.01), |c| c.noise)}
            <div class="ls-row">
                {number("tsla", "TSLA: ε off from step (0 = never)", |c| c.tsla.render())}
                {number("hidden", "hidden widths", |c| c.hidden.render())}
            </div>
            <div class="ls-row">
                {number("steps", "steps", |c| c.steps.render())}
                {number("lr", "learning rate", |c| c.lr.render())}
                {number("seed", "seed", |c| c.seed.render())}
            </div>
        </div>
    }
}

/// Chooses the test example of the logit view.
#[component]
fn ExamplePicker(
    example: RwSignal<usize>,
    snap: RwSignal<Option<Arc<Snapshot>>>,
    test_data: RwSignal<Option<Arc<TestData>>>,
) -> impl IntoView {
    let n = move || {
        test_data
            .with(|t| t.as_ref().map_or(1, |t| t.y.len()))
            .max(1)
    };
    // The next example some model gets wrong (where the error-enhancement term acts).
    let next_wrong = move |_| {
        let start = example.get_untracked();
        let found = snap.with_untracked(|s| {
            let s = s.as_ref()?;
            let c = s.classes;
            let total = s.test_labels.len();
            (1..=total).map(|d| (start + d) % total).find(|&i| {
                s.models.iter().any(|m| {
                    let row = &m.logits[i * c..(i + 1) * c];
                    let arg = row
                        .iter()
                        .enumerate()
                        .fold(
                            (0, f32::NEG_INFINITY),
                            |b, (k, &v)| if v > b.1 { (k, v) } else { b },
                        )
                        .0;
                    arg as u32 != s.test_labels[i]
                })
            })
        });
        if let Some(i) = found {
            example.set(i);
        }
    };
    view! {
        <div class="buttons ls-picker">
            <button data-testid="example-prev" on:click=move |_| example.update(|e| *e = (*e + n() - 1) % n())>"◀"</button>
            <label class="ls-inline">
                <span>"test example"</span>
                <input type="number" min="0" data-testid="example" aria-label="test example"
                    prop:max=move || (n() - 1).to_string()
                    prop:value=move || example.get().to_string()
                    on:change=move |ev| {
                        if let Ok(v) = event_target_value(&ev).trim().parse::<usize>() {
                            example.set(v.min(n() - 1));
                        }
                    } />
            </label>
            <button data-testid="example-next" on:click=move |_| example.update(|e| *e = (*e + 1) % n())>"▶"</button>
            <button data-testid="example-wrong" on:click=next_wrong>"next misclassified"</button>
            <span class="muted">{move || {
                let label = test_data.with(|t| t.as_ref().and_then(|t| t.y.get(example.get()).copied()));
                let at = test_data.with(|t| t.as_ref().and_then(|t| {
                    let i = example.get();
                    t.x.get(2 * i..2 * i + 2).map(|p| (p[0], p[1]))
                }));
                match (label, at) {
                    (Some(y), Some((a, b))) => format!("true class {} · at ({a:.2}, {b:.2})", y + 1),
                    _ => String::new(),
                }
            }}</span>
        </div>
    }
}

/// Logits, p against q, the gradient p − q and the MaxSup decomposition, per model.
#[component]
fn LogitPanel(
    example: RwSignal<usize>,
    snap: RwSignal<Option<Arc<Snapshot>>>,
    cfg: Memo<LabelSmoothingConfig>,
) -> impl IntoView {
    move || {
        let views = snap.with(|s| s.as_ref().and_then(|s| s.logit_view(example.get())));
        let Some(views) = views else {
            return view! { <p class="running">"Training…"</p> }.into_any();
        };
        let range = |f: fn(&LogitView) -> &Vec<f32>| {
            let (lo, hi) = views
                .iter()
                .flat_map(|v| f(v).iter())
                .fold((0f64, 0f64), |(a, b), &x| {
                    (a.min(f64::from(x)), b.max(f64::from(x)))
                });
            (lo, hi.max(lo + 1e-6))
        };
        let pr = (0.0, 1.0);
        let gr = range(|v| &v.softmax_minus_q);
        let gr = {
            let m = gr.0.abs().max(gr.1.abs()).max(1e-3);
            (-m, m)
        };
        let cols = views.len();
        view! {
            <div class="ls-grid" style=format!("--n: {cols}") data-testid="logit-view" data-example=example.get().to_string()>
                {views.into_iter().map(|v| {
                    let title = cfg.with(|c| model_title(v.kind, c));
                    let d = &v.decomposition;
                    let label = v.label as usize;
                    // Logits per model (their scales differ by an order of magnitude).
                    let zr = {
                        let (lo, hi) = v.logits.iter().fold((0f64, 0f64), |(a, b), &x| (a.min(f64::from(x)), b.max(f64::from(x))));
                        (lo, hi.max(lo + 1e-6))
                    };
                    let kind = v.kind.as_str();
                    view! {
                        <div class="ls-model" data-kind=kind>
                            <h3><span class="dot" style=format!("background:{}", model_color(v.kind))></span>{title}</h3>
                            <ClassBars values=v.logits.iter().map(|&x| f64::from(x)).collect() marks=vec![] label range=zr
                                title="logits z".to_string() export_name=format!("logits-{kind}") />
                            <ClassBars values=v.probs.iter().map(|&x| f64::from(x)).collect() marks=v.target.iter().map(|&x| f64::from(x)).collect() label range=pr
                                title="p (bars) · target q (marks)".to_string() export_name=format!("probs-{kind}") />
                            <ClassBars values=v.softmax_minus_q.iter().map(|&x| f64::from(x)).collect() marks=vec![] label range=gr
                                title="gradient p − q".to_string() export_name=format!("gradient-{kind}") />
                            <table class="moments ls-decomp">
                                <tbody>
                                    <tr><th>"loss"</th><td>{format!("{:.3}", v.loss)}</td></tr>
                                    <tr><th>"smoothing term ε·(z_y − z̄)"</th><td>{format!("{:.3}", d.smoothing_term)}</td></tr>
                                    <tr><th>"… regularisation"</th><td>{format!("{:.3}", d.regularisation)}</td></tr>
                                    <tr><th>"… error enhancement"</th><td data-testid="error-enhancement">{format!("{:.3}", d.error_enhancement)}</td></tr>
                                    <tr><th>"MaxSup term α·(max z − z̄)"</th><td>{format!("{:.3}", d.maxsup_term)}</td></tr>
                                </tbody>
                            </table>
                        </div>
                    }
                }).collect_view()}
            </div>
        }
        .into_any()
    }
}

/// Signed bars, one per class, on a shared range; the true class is marked.
#[component]
fn ClassBars(
    values: Vec<f64>,
    marks: Vec<f64>,
    label: usize,
    range: (f64, f64),
    title: String,
    export_name: String,
) -> impl IntoView {
    const W: f64 = 240.0;
    const H: f64 = 96.0;
    const L: f64 = 34.0;
    const R: f64 = 6.0;
    const T: f64 = 8.0;
    const B: f64 = 16.0;
    let (lo, hi) = range;
    let y_of = move |v: f64| T + (hi - v.clamp(lo, hi)) / (hi - lo) * (H - T - B);
    let k = values.len().max(1);
    let pw = (W - L - R) / k as f64;
    let zero = y_of(0.0);
    let bars = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let x = L + i as f64 * pw;
            let (y0, y1) = (y_of(v.max(0.0)), y_of(v.min(0.0)));
            let mark = marks.get(i).map(|&m| {
                let y = y_of(m);
                view! { <line class="mark" x1=x + pw * 0.1 y1=y x2=x + pw * 0.9 y2=y /> }
            });
            view! {
                <rect x=x + pw * 0.18 y=y0 width=pw * 0.64 height=(y1 - y0).max(0.5) fill=category_color(i)
                    fill-opacity=if i == label { "1" } else { "0.45" } />
                {mark}
                <text class="tick" x=x + pw / 2.0 y=H - 4.0 text-anchor="middle"
                    font-weight=if i == label { "700" } else { "400" }>{if i == label { format!("{}✓", i + 1) } else { (i + 1).to_string() }}</text>
            }
        })
        .collect_view();
    view! {
        <figure class="plot ls-bars">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=title.clone()>
                <line class="axis" x1=L y1=zero x2=W - R y2=zero />
                <line class="axis" x1=L y1=T x2=L y2=H - B />
                <text class="tick" x=L - 4.0 y=y_of(hi) + 3.0 text-anchor="end">{short(hi)}</text>
                <text class="tick" x=L - 4.0 y=y_of(lo) + 3.0 text-anchor="end">{short(lo)}</text>
                {bars}
            </svg>
            <figcaption>
                <span class="caption-title">{title}</span>
                <PlotExport name=export_name />
            </figcaption>
        </figure>
    }
}

/// One model's decision regions with the test points on top.
#[component]
fn RegionCanvas(
    index: usize,
    kind: ModelKind,
    cfg: Memo<LabelSmoothingConfig>,
    regions: RwSignal<Vec<Option<Arc<Region>>>>,
    test_data: RwSignal<Option<Arc<TestData>>>,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let region = Memo::new(move |_| regions.with(|r| r.get(index).cloned().flatten()));
    Effect::new(move |_| {
        let r = region.get();
        let t = test_data.get();
        let Some(el) = canvas.get() else { return };
        let Some(ctx) = canvas_context(&el, CANVAS, CANVAS) else {
            return;
        };
        if let Some(r) = &r {
            let cell = CANVAS / r.side as f64;
            let k = cfg.with_untracked(|c| c.dataset.classes()).max(2) as f32;
            for (i, &(c, p)) in r.cells.iter().enumerate() {
                let (row, col) = (i / r.side, i % r.side);
                // Cells on whole CSS pixels, so neighbours neither overlap nor leave seams.
                let (x0, y0) = ((col as f64 * cell).round(), (row as f64 * cell).round());
                let (x1, y1) = (
                    ((col + 1) as f64 * cell).round(),
                    ((row + 1) as f64 * cell).round(),
                );
                // Confidence from 1/K (palest) to 1 (strongest).
                let a = 0.08 + 0.5 * ((p - 1.0 / k) / (1.0 - 1.0 / k)).clamp(0.0, 1.0);
                ctx.set_global_alpha(f64::from(a));
                ctx.set_fill_style_str(category_color(c as usize));
                ctx.fill_rect(x0, y0, x1 - x0, y1 - y0);
            }
            ctx.set_global_alpha(1.0);
        }
        if let Some(t) = &t {
            let n = t.y.len();
            let stride = n.div_ceil(OVERLAY_POINTS).max(1);
            ctx.set_stroke_style_str("rgba(255,255,255,0.85)");
            ctx.set_line_width(0.8);
            for i in (0..n).step_by(stride) {
                let (x, y) = t.view.px(t.x[2 * i], t.x[2 * i + 1]);
                ctx.set_fill_style_str(category_color(t.y[i] as usize));
                ctx.begin_path();
                let _ = ctx.arc(x, y, 2.6, 0.0, std::f64::consts::TAU);
                ctx.fill();
                ctx.stroke();
            }
        }
    });
    let name = format!("regions-{}", kind.as_str());
    view! {
        <figure class="plot ls-canvas-fig">
            <h3><span class="dot" style=format!("background:{}", model_color(kind))></span>{move || cfg.with(|c| model_title(kind, c))}</h3>
            <canvas node_ref=canvas class="ls-canvas" role="img" aria-label=format!("Decision regions of the {} model", model_name(kind))
                data-testid="regions" data-kind=kind.as_str()
                data-step=move || region.with(|r| r.as_ref().map_or(-1, |r| i64::from(r.step))).to_string()></canvas>
            <figcaption>
                <span class="caption-title">{move || region.with(|r| r.as_ref().map_or("computing…".to_string(), |r| format!("step {}", r.step)))}</span>
                <PlotExport name=name />
            </figcaption>
        </figure>
    }
}

/// One model's penultimate-layer projection, coloured by class.
#[component]
fn ClusterCanvas(
    index: usize,
    kind: ModelKind,
    cfg: Memo<LabelSmoothingConfig>,
    snap: RwSignal<Option<Arc<Snapshot>>>,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let has_projection = Memo::new(move |_| cfg.with(|c| c.dataset.classes() >= 3));
    Effect::new(move |_| {
        let s = snap.get();
        let Some(el) = canvas.get() else { return };
        let Some(ctx) = canvas_context(&el, CANVAS, CANVAS) else {
            return;
        };
        let Some(p) = s
            .as_ref()
            .and_then(|s| s.models.get(index))
            .and_then(|m| m.projection.as_ref())
        else {
            return;
        };
        let finite = || {
            p.points
                .iter()
                .filter(|q| q[0].is_finite() && q[1].is_finite())
        };
        let pts: Vec<f32> = finite().flat_map(|q| [q[0], q[1]]).collect();
        let view = View::of(&pts);
        ctx.set_stroke_style_str("rgba(128,128,140,0.25)");
        ctx.set_line_width(1.0);
        let (ox, oy) = view.px(0.0, 0.0);
        ctx.begin_path();
        ctx.move_to(ox, 0.0);
        ctx.line_to(ox, CANVAS);
        ctx.move_to(0.0, oy);
        ctx.line_to(CANVAS, oy);
        ctx.stroke();
        ctx.set_global_alpha(0.7);
        for (q, &y) in p.points.iter().zip(&p.labels) {
            if !q[0].is_finite() || !q[1].is_finite() {
                continue;
            }
            let (x, yy) = view.px(q[0], q[1]);
            ctx.set_fill_style_str(category_color(y as usize));
            ctx.begin_path();
            let _ = ctx.arc(x, yy, 2.2, 0.0, std::f64::consts::TAU);
            ctx.fill();
        }
        ctx.set_global_alpha(1.0);
    });
    let name = format!("clusters-{}", kind.as_str());
    view! {
        <figure class="plot ls-canvas-fig">
            <h3><span class="dot" style=format!("background:{}", model_color(kind))></span>{move || cfg.with(|c| model_title(kind, c))}</h3>
            <Show when=move || has_projection.get() fallback=|| view! { <p class="simplex-note muted ls-canvas">"Needs three or more classes (choose gauss8, blobs3 or spirals3)."</p> }>
                <canvas node_ref=canvas class="ls-canvas" role="img" aria-label=format!("Penultimate-layer clusters of the {} model", model_name(kind))
                    data-testid="clusters" data-kind=kind.as_str()
                    data-step=move || snap.with(|s| s.as_ref().map_or(-1, |s| i64::from(s.step))).to_string()></canvas>
            </Show>
            <figcaption>
                <span class="legend">
                    {move || snap.with(|s| s.as_ref().and_then(|s| s.models.get(index)).and_then(|m| m.projection.as_ref()).map(|p| p.classes)).map(|cls| {
                        cls.into_iter().map(|c| view! {
                            <span class="key"><i class="ls-swatch" style=format!("background:{}", category_color(c as usize))></i>{format!("class {}", c + 1)}</span>
                        }).collect_view()
                    })}
                </span>
                <PlotExport name=name />
            </figcaption>
        </figure>
    }
}

/// Accuracy against confidence per bin, every model, with the diagonal.
#[component]
fn ReliabilityPlot(snap: RwSignal<Option<Arc<Snapshot>>>) -> impl IntoView {
    view! {
        <div data-testid="reliability"
            data-step=move || snap.with(|s| s.as_ref().map_or(-1, |s| i64::from(s.step))).to_string()
            data-ece=move || snap.with(|s| s.as_ref().map(|s| s.models.iter().map(|m| format!("{:.4}", m.ece)).collect::<Vec<_>>().join(",")).unwrap_or_default())>
            {move || match snap.get() {
                None => view! { <p class="running">"Training…"</p> }.into_any(),
                Some(s) => {
                    let mut series = vec![Series {
                        name: "perfect calibration",
                        color: "var(--muted)",
                        dashed: true,
                        points: vec![(0.0, 0.0), (1.0, 1.0)],
                        ..Series::default()
                    }];
                    series.extend(s.models.iter().map(|m| Series {
                        name: model_name(m.kind),
                        color: model_color(m.kind),
                        points: m
                            .reliability
                            .iter()
                            .filter(|b| b.count > 0)
                            .map(|b| (f64::from(b.confidence), f64::from(b.accuracy)))
                            .collect(),
                        ..Series::default()
                    }));
                    view! {
                        <LinePlot series x_label="confidence (mean per bin)" y_label="accuracy"
                            title=format!("Reliability at step {}", s.step) export_name="reliability" />
                        <p class="meta ls-center legend ls-values">"ECE (15 bins):"
                            {s.models.iter().map(|m| view! { <span class="key"><span class="dot" style=format!("background:{}", model_color(m.kind))></span>{format!("{:.4}", m.ece)}</span> }).collect_view()}
                        </p>
                    }
                    .into_any()
                }
            }}
        </div>
    }
}

/// Selective risk against coverage, with and without logit normalisation.
#[component]
fn RiskCoveragePlot(snap: RwSignal<Option<Arc<Snapshot>>>) -> impl IntoView {
    view! {
        <div data-testid="risk-coverage"
            data-step=move || snap.with(|s| s.as_ref().map_or(-1, |s| i64::from(s.step))).to_string()
            data-aurc=move || snap.with(|s| s.as_ref().map(|s| s.models.iter().map(|m| format!("{:.5}", m.aurc)).collect::<Vec<_>>().join(",")).unwrap_or_default())>
            {move || match snap.get() {
                None => view! { <p class="running">"Training…"</p> }.into_any(),
                Some(s) => {
                    let thin = |v: &[(f32, f32)]| -> Vec<(f64, f64)> {
                        let stride = v.len().div_ceil(200).max(1);
                        let mut out: Vec<(f64, f64)> = v
                            .iter()
                            .step_by(stride)
                            .map(|&(c, r)| (f64::from(c), f64::from(r)))
                            .collect();
                        if let Some(&(c, r)) = v.last()
                            && out.last().is_none_or(|l| l.0 != f64::from(c))
                        {
                            out.push((f64::from(c), f64::from(r)));
                        }
                        out
                    };
                    let mut series = Vec::new();
                    for m in &s.models {
                        series.push(Series {
                            name: model_name(m.kind),
                            color: model_color(m.kind),
                            points: thin(&m.risk_coverage),
                            ..Series::default()
                        });
                        series.push(Series {
                            name: lognorm_name(m.kind),
                            color: model_color(m.kind),
                            dashed: true,
                            points: thin(&m.risk_coverage_lognorm),
                            ..Series::default()
                        });
                    }
                    view! {
                        <LinePlot series x_label="coverage" y_label="selective risk"
                            title=format!("Risk–coverage at step {}", s.step) export_name="risk-coverage" />
                        <p class="meta ls-center legend ls-values">"AURC → with logit normalisation:"
                            {s.models.iter().map(|m| view! { <span class="key"><span class="dot" style=format!("background:{}", model_color(m.kind))></span>{format!("{:.4} → {:.4}", m.aurc, m.aurc_lognorm)}</span> }).collect_view()}
                        </p>
                    }
                    .into_any()
                }
            }}
        </div>
    }
}
