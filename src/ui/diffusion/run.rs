//! The run: its [`Runner`] and [`Engine`], the signals the widget shows, the
//! effect that (re)starts it and the animation clock that steps it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::rc::Rc;

use crate::experiments::Backend;
use crate::experiments::diffusion::{
    self as dexp, DiffusionConfig, DiffusionData, DiffusionReport, GpuSampling, HISTORY_PARTICLES,
    Level, MAX_CPU_PARTICLES, Metrics, MlpDenoiser, PointSet, ScoreKind, Source, build_source,
    initial_particles, load_denoiser, shipped_denoiser,
};
use crate::experiments::registry::Compute;
use crate::ui::backend::{BackendCtx, gpu_compute, record_computed, report_gpu_fault};
use crate::ui::worker::{DiffusionSession, Fault};

/// CPU work per animation tick on the main thread (where no compute worker
/// runs), in milliseconds: the frame budget is 16 ms.
const CPU_TICK_MS: f64 = 6.0;
const TICK_MS: u64 = 16;
/// Least time between two live metric updates.
const METRICS_EVERY_MS: f64 = 250.0;

/// Where a run computes.
enum Engine {
    /// [`dexp::Sampling`]s of the particles split over the pool's workers
    /// (or one on the main thread where none runs).
    Cpu(Rc<DiffusionSession>),
    Gpu(GpuSampling),
}

/// A run in progress: its engine, and what it last reported. At most one
/// slice of work is in flight (`busy`); the particles are those of `step`.
pub(super) struct Runner {
    engine: Engine,
    pub(super) particles: Vec<[f32; 2]>,
    /// The paths of the first particles, one frame per step, for the timeline.
    pub(super) history: Vec<Vec<[f32; 2]>>,
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
pub(super) struct Frame {
    pub(super) step: usize,
    pub(super) total: usize,
    pub(super) backend: Backend,
    revision: u64,
}

/// Shipped denoisers: the data set, the network, and its file for the worker.
type Denoisers = Vec<(DiffusionData, MlpDenoiser, Rc<Vec<u8>>)>;

/// The run's signals and stored values, shared (they are `Copy`) by the widget's parts.
#[derive(Clone, Copy)]
pub(super) struct RunState {
    /// Shipped denoisers, fetched once per data set: the network, and its file for the worker.
    denoisers: StoredValue<Denoisers, LocalStorage>,
    /// Bumped when a denoiser has loaded (the run restarts).
    denoiser_rev: RwSignal<u32>,
    /// Why the run stopped or waits, for the reader.
    pub(super) message: RwSignal<Option<String>>,
    /// The run in progress.
    pub(super) runner: StoredValue<Option<Runner>, LocalStorage>,
    /// The run's score source, for the score field.
    pub(super) source_copy: StoredValue<Option<Rc<Source>>, LocalStorage>,
    /// The training data of the run.
    pub(super) train_set: StoredValue<PointSet, LocalStorage>,
    /// Fresh samples of the data, for the metrics.
    fresh: StoredValue<Vec<[f32; 2]>, LocalStorage>,
    /// Counts the (re)starts; late answers of older runs are dropped.
    generation: StoredValue<u64>,
    /// What the canvas and the readouts show.
    pub(super) frame: RwSignal<Option<Frame>>,
    /// Whether the animation clock steps the run.
    pub(super) playing: RwSignal<bool>,
    /// The step shown on the timeline, when not the latest.
    pub(super) scrub: RwSignal<Option<usize>>,
    /// The latest metrics.
    pub(super) metrics: RwSignal<Option<Metrics>>,
    /// The sliced Wasserstein distance over the run's steps.
    pub(super) swd_curve: RwSignal<Vec<(f64, f64)>>,
    /// Score evaluations per particle so far.
    pub(super) nfe: RwSignal<u64>,
    /// The finished run's report, as JSON.
    pub(super) report: RwSignal<Option<String>>,
    /// Where the CPU computes: the compute worker or the main thread, and why.
    pub(super) thread: RwSignal<Option<String>>,
    /// Bumped to restart the run.
    pub(super) restarts: RwSignal<u32>,
    /// When the metrics were last asked for.
    last_metrics: StoredValue<f64>,
    /// What restarts the run: every field except the display toggles.
    pub(super) run_key: Memo<DiffusionConfig>,
    /// The noise levels of the current run, from noise to data.
    pub(super) levels: Memo<Vec<Level>>,
}

impl RunState {
    /// The state of a run of `cfg`, before any run started.
    pub(super) fn new(cfg: Memo<DiffusionConfig>) -> Self {
        // Shipped denoisers, fetched once per data set: the network, and its file for the worker.
        let denoisers = StoredValue::new_local(Denoisers::new());
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
        let levels = Memo::new(move |_| run_key.with(DiffusionConfig::run_levels));
        Self {
            denoisers,
            denoiser_rev,
            message,
            runner,
            source_copy,
            train_set,
            fresh,
            generation,
            frame,
            playing,
            scrub,
            metrics,
            swd_curve,
            nfe,
            report,
            thread,
            restarts,
            last_metrics,
            run_key,
            levels,
        }
    }
}

/// Shows where run `r` stands: the frame, whether it diverged, the score
/// evaluations, and (now and then, always at the end) the metrics and the report.
fn publish(run: RunState, r: &Runner, b: Backend) {
    let RunState {
        levels,
        frame,
        playing,
        message,
        train_set,
        run_key,
        nfe,
        last_metrics,
        generation,
        fresh,
        metrics,
        swd_curve,
        report,
        ..
    } = run;
    let step = r.step;
    record_computed(b);
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
    let per = run_key.with_untracked(|c| {
        c.planned_calls(classes)
            .map_or(c.evaluations_per_particle(classes) as f64, |p| p.0)
    }) as u64;
    nfe.set(per * step as u64 / (total as u64).max(1));
    // The metrics sort 64 projections of 2,048 points (in the compute
    // worker where there is one): at most a few times a second while
    // running, always at the end. The worker answers in order.
    let now = crate::ui::now_ms();
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
        let m = crate::ui::worker::diffusion_metrics(&particles, &fresh, &train, delta).await;
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
            // The live session keeps its call counts in the worker; the fixed
            // skip plan gives them exactly, adaptive skipping per particle is
            // counted here as calls (the calls panel's run has the exact counts).
            let calls = c
                .planned_calls(classes)
                .unwrap_or((c.evaluations_per_particle(classes) as f64, 0.0));
            let per_step = c
                .skip_plan()
                .map(|p| p.iter().map(|&s| f64::from(u8::from(s))).collect())
                .unwrap_or_default();
            report.set(Some(
                serde_json::to_string(&DiffusionReport::new(&c, samples, m, calls, per_step, b))
                    .unwrap_or_default(),
            ));
        }
    });
}

/// A CPU run failed: where the compute worker stopped, start again (on
/// the main thread); otherwise say why and pause.
fn cpu_fault(run: RunState, f: Fault) {
    match f {
        Fault::WorkerStopped(_) => run.restarts.update(|r| *r += 1),
        Fault::Job(why) => {
            run.playing.set(false);
            run.message.set(Some(format!("The CPU run failed: {why}")));
        }
    }
}

/// Runs and steps the widget's diffusion: (re)starts whenever the run's
/// config, the backend, the drawing or a loaded denoiser changes, and
/// advances on the animation clock.
pub(super) fn drive(
    ctx: BackendCtx,
    run: RunState,
    backend: Memo<Backend>,
    drawn_points: Memo<PointSet>,
) {
    // (Re)start whenever the run's config, the backend, the drawing or a loaded denoiser changes.
    Effect::new(move |_| {
        let c = run.run_key.get();
        let b = backend.get();
        let drawn = drawn_points.get();
        run.denoiser_rev.track();
        run.restarts.track();
        restart(ctx, run, c, b, drawn);
    });

    // The animation clock: one slice of work in flight at a time, nothing
    // while paused or hidden.
    crate::ui::animation_clock(run.playing, TICK_MS, move || tick(ctx, run));
}

/// Drops the run in progress and starts one of `c` on backend `b` (once
/// its denoiser, if it needs one, has loaded).
fn restart(ctx: BackendCtx, run: RunState, c: DiffusionConfig, b: Backend, drawn: PointSet) {
    let RunState {
        generation,
        runner,
        last_metrics,
        frame,
        metrics,
        swd_curve,
        report,
        scrub,
        message,
        fresh,
        source_copy,
        train_set,
        ..
    } = run;
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
        let found = run.denoisers.with_value(|v| {
            v.iter()
                .find(|(ds, _, _)| *ds == c.dataset)
                .map(|(_, m, file)| (m.clone(), file.clone()))
        });
        if found.is_none() {
            fetch_denoiser(run, c.dataset);
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
    match gpu {
        Some(on) => start_gpu(ctx, run, this, c, source, classes, on),
        None => start_cpu(run, this, c, drawn, mlp_file),
    }
}

/// Fetches the shipped denoiser of data set `ds`, if there is one; once
/// loaded, the run restarts.
fn fetch_denoiser(run: RunState, ds: DiffusionData) {
    let RunState {
        message,
        denoisers,
        denoiser_rev,
        ..
    } = run;
    if let Some(rel) = shipped_denoiser(ds) {
        message.set(Some("Loading the denoiser network…".into()));
        let url = crate::ui::app_href(&format!("/{rel}"));
        spawn_local(async move {
            let loaded = fetch_bytes(&url)
                .await
                .and_then(|b| Ok((load_denoiser(&b, ds)?, Rc::new(b))));
            match loaded {
                Ok((m, file)) => {
                    denoisers.update_value(|v| v.push((ds, m, file)));
                    denoiser_rev.update(|r| *r += 1);
                }
                Err(e) => message.set(Some(format!("The denoiser could not be loaded: {e}"))),
            }
        });
    }
}

/// Installs a started run, unless a newer one replaced it.
fn install(run: RunState, this: u64, r: Runner, b: Backend) {
    if run.generation.try_get_value() == Some(this) {
        publish(run, &r, b);
        run.runner.set_value(Some(r));
    }
}

/// Starts run `this` of `c` on the GPU `on`.
fn start_gpu(
    ctx: BackendCtx,
    run: RunState,
    this: u64,
    c: DiffusionConfig,
    source: Rc<Source>,
    classes: usize,
    on: Compute,
) {
    spawn_local(async move {
        let Some(gpu) = on.gpu().cloned() else { return };
        match GpuSampling::start(&c, &source, classes, gpu).await {
            Ok(sampling) => {
                let initial = initial_particles(c.seed, c.n);
                install(
                    run,
                    this,
                    Runner::new(Engine::Gpu(sampling), initial),
                    Backend::Gpu,
                )
            }
            Err(e) => report_gpu_fault(ctx, &e),
        }
    });
}

/// Starts run `this` of `c` on the CPU: split over the pool's workers, or
/// on the main thread where none runs.
fn start_cpu(
    run: RunState,
    this: u64,
    mut c: DiffusionConfig,
    drawn: PointSet,
    mlp_file: Option<Rc<Vec<u8>>>,
) {
    if c.n > MAX_CPU_PARTICLES {
        run.message.set(Some(format!(
            "The CPU runs at most {MAX_CPU_PARTICLES} particles; showing that many."
        )));
        c.n = MAX_CPU_PARTICLES;
    }
    spawn_local(async move {
        let file = mlp_file.map(|f| f.to_vec());
        match DiffusionSession::start(&c, &drawn, file).await {
            Ok(session) => {
                run.thread.set(Some(session.place()));
                let initial = initial_particles(c.seed, c.n);
                install(
                    run,
                    this,
                    Runner::new(Engine::Cpu(Rc::new(session)), initial),
                    Backend::Cpu,
                );
            }
            Err(e) => cpu_fault(run, e),
        }
    });
}

/// One tick of the animation clock: sends the run's next slice of work,
/// unless one is in flight or the run finished.
fn tick(ctx: BackendCtx, run: RunState) {
    let RunState {
        generation, runner, ..
    } = run;
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
            Engine::Gpu(sampling) => match sampling.advance() {
                Ok(()) => {
                    r.busy = true;
                    gpu_read = Some(sampling.read());
                }
                Err(e) => report_gpu_fault(ctx, &e),
            },
        }
    });
    if let Some(session) = cpu {
        spawn_local(async move {
            let slice = session.sample(session.slice_ms(CPU_TICK_MS)).await;
            if generation.try_get_value() != Some(this) {
                return;
            }
            match slice {
                Ok(s) => land(
                    run,
                    this,
                    s.particles.map(|p| p.0),
                    s.history.into_iter().map(|p| p.0).collect(),
                    s.step,
                    s.finished,
                    Backend::Cpu,
                ),
                Err(e) => cpu_fault(run, e),
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
                            engine: Engine::Gpu(sampling),
                            ..
                        }) => (sampling.step(), sampling.finished()),
                        _ => (0, false),
                    });
                    let frame = p[..p.len().min(HISTORY_PARTICLES)].to_vec();
                    land(
                        run,
                        this,
                        Some(p),
                        vec![frame],
                        step,
                        finished,
                        Backend::Gpu,
                    );
                }
                Err(e) => report_gpu_fault(ctx, &e),
            }
        });
    }
}

/// Takes what a slice of run `this` produced, and shows it when the step moved.
fn land(
    run: RunState,
    this: u64,
    particles: Option<Vec<[f32; 2]>>,
    history: Vec<Vec<[f32; 2]>>,
    step: usize,
    finished: bool,
    b: Backend,
) {
    let RunState {
        generation, runner, ..
    } = run;
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
                publish(run, r, b);
            }
        });
    }
}

/// The bytes at `url`.
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
