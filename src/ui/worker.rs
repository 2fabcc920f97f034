//! CPU compute off the main thread.
//!
//! One dedicated module worker (`worker-<hash>.js`, written for each build by
//! `scripts/precache.mjs`) loads this same wasm and calls
//! [`gradlab_worker_main`]. The page sends it jobs and awaits the answers, so
//! sampling and training on the CPU never block input. Long runs are
//! sessions: the state (a diffusion sampler, three label-smoothing models)
//! lives in the worker, and the page asks it to advance for a time slice and
//! gets back what the widget shows.
//!
//! Where no worker runs (it failed to start, or stopped) the very same
//! [`host`] answers on the main thread, in the short slices the widgets used
//! before there was a worker, and the widget says where it computes.
//!
//! Work that splits into independent units (Monte Carlo runs, sweep
//! points, certify's pixels and points) goes to a pool of such workers, one per core but the page's own
//! ([`pool_size`]), without SharedArrayBuffer: each worker computes a range
//! of units and the page joins them in order ([`split`]). Every unit draws
//! from counters keyed by its own index, so the numbers equal a single
//! worker's, bit for bit.

use std::cell::RefCell;
use std::collections::HashMap;

use futures_channel::oneshot;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::experiments::certify::run as certify;
use crate::experiments::certify::{Certify, CertifyConfig, CertifyReport, Model};
use crate::experiments::clipping;
use crate::experiments::config::Config;
use crate::experiments::diffusion::{self as dexp, DiffusionConfig, PointSet, Sampling};
use crate::experiments::gumbel::{self, GumbelConfig, SweepPoint};
use crate::experiments::label_smoothing::{LabelSmoothingConfig, LabelSmoothingRun, Snapshot};
use crate::experiments::registry::{self, Compute, Experiment, RunError};
use crate::experiments::wire::{Bytes, Points, f32s};
use crate::experiments::zo::{RaceFrame, RaceRun, ZoConfig};

/// One slice of work in the worker, in milliseconds.
const WORKER_SLICE_MS: f64 = 40.0;
/// Particles a sampling slice advances between clock checks.
const SAMPLE_CHUNK: usize = 128;
/// How long the page waits for the answer to a short job (a slice, a
/// snapshot, metrics) beyond its own budget before it gives the worker up:
/// 1,500 slices' worth, so a loaded 2-core machine never trips it, yet a
/// worker that hangs is noticed.
const SHORT_JOB_TIMEOUT_MS: f64 = 60_000.0;
/// The same for a whole run (bounded for the page's CPU, seconds at most).
const RUN_TIMEOUT_MS: f64 = 300_000.0;

/// A config as its canonical `(key, value)` pairs, the URL's own form, which
/// the host parses strictly: one format for links, the CLI and the worker.
type Pairs = Vec<(String, String)>;

fn pairs<C: Config>(c: &C) -> Pairs {
    c.to_pairs()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

fn parse<C: Config>(p: &Pairs) -> Result<C, String> {
    C::from_pairs_strict(p.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| format!("the compute worker refused the config: {e}"))
}

#[derive(Debug, Serialize, Deserialize)]
enum Job {
    /// One whole run of a registry experiment; the report comes back as JSON.
    Run {
        id: String,
        cfg: Pairs,
    },
    /// The sweep with `n` samples per temperature, temperatures `lo..hi`.
    GumbelSweep {
        cfg: Pairs,
        n: u32,
        lo: u32,
        hi: u32,
    },
    GumbelOptimise(Pairs),
    ClippingPaths(Pairs),
    /// The Monte Carlo curves of runs `lo..hi`.
    ClippingRuns {
        cfg: Pairs,
        lo: u32,
        hi: u32,
    },
    /// Train the MLP of a certify run (`CertifyConfig` pairs); answers its parameters.
    CertifyModel(Pairs),
    /// Units `lo..hi` of kind `units` of a certify run, with the MLP's
    /// trained parameters (empty for the half-plane and disk).
    CertifyParts {
        cfg: Pairs,
        #[serde(with = "f32s")]
        params: Vec<f32>,
        units: certify::Units,
        lo: u32,
        hi: u32,
    },
    DiffusionMetrics {
        particles: Points,
        fresh: Points,
        train: Points,
        delta: f64,
    },
    /// Start sampling particles `range` of the run of `cfg` (one part of a
    /// run split over the pool, [`DiffusionSession`]).
    StartDiffusion {
        cfg: Pairs,
        drawn: PointSet,
        denoiser: Option<Bytes>,
        range: std::ops::Range<u32>,
    },
    /// Advance the session's sampler until it has completed transition
    /// `until` (no further), or for `budget_ms` if that is sooner.
    Sample {
        budget_ms: f64,
        until: usize,
    },
    /// Start training models `models` (indices into the config's kinds) of
    /// a label-smoothing run (one part of it, [`LabelSmoothingSession`]).
    StartLabelSmoothing {
        cfg: Pairs,
        models: std::ops::Range<u32>,
    },
    /// Start zo's training race (`ZoConfig` pairs); answers its first frame.
    StartRace(Pairs),
    /// Advance the race for about `budget_ms`; answers a frame.
    Race {
        budget_ms: f64,
    },
    /// Train the session's models for about `budget_ms`, never past step `until`.
    Train {
        budget_ms: f64,
        until: u32,
    },
    Snapshot,
    Predict {
        model: usize,
        #[serde(with = "f32s")]
        points: Vec<f32>,
    },
    End,
    /// Time bench workload `name` at its default size on the CPU, quickly
    /// (the page's calibration of WebGPU against the CPU, `ui::backend`).
    Calibrate {
        workload: String,
    },
    /// Never answered (a test of the page's timeout, [`gradlab_worker_fault`]).
    Stall {
        timeout_ms: f64,
    },
}

impl Job {
    /// How long the page waits for the answer, derived from the job.
    fn timeout_ms(&self) -> f64 {
        match self {
            Job::Sample { budget_ms, .. }
            | Job::Train { budget_ms, .. }
            | Job::Race { budget_ms } => budget_ms + SHORT_JOB_TIMEOUT_MS,
            Job::Stall { timeout_ms } => *timeout_ms,
            Job::Snapshot | Job::Predict { .. } | Job::End | Job::DiffusionMetrics { .. } => {
                SHORT_JOB_TIMEOUT_MS
            }
            Job::Run { .. }
            | Job::GumbelSweep { .. }
            | Job::GumbelOptimise(_)
            | Job::ClippingPaths(_)
            | Job::ClippingRuns { .. }
            | Job::CertifyModel(_)
            | Job::CertifyParts { .. }
            | Job::StartDiffusion { .. }
            | Job::StartRace(_)
            | Job::StartLabelSmoothing { .. }
            | Job::Calibrate { .. } => RUN_TIMEOUT_MS,
        }
    }
}

/// What a diffusion slice produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sampled {
    /// Transitions completed, and whether that is all of them.
    pub step: usize,
    pub finished: bool,
    /// The particles, when `step` moved.
    pub particles: Option<Points>,
    /// The timeline's frames reached in this slice (the first particles' paths).
    pub history: Vec<Points>,
}

/// The test set of a label-smoothing session (`x` is `len × 2` row-major).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestSet {
    #[serde(with = "f32s")]
    pub x: Vec<f32>,
    pub y: Vec<u32>,
}

#[derive(Debug, Serialize, Deserialize)]
enum Done {
    Report(String),
    Sweep(Vec<SweepPoint>),
    Optimisation(gumbel::Optimisation),
    Paths(Vec<(clipping::Method, Points)>),
    /// `[method][run][point]`, flattened, with its run and point counts.
    Curves {
        runs: usize,
        points: usize,
        #[serde(with = "f32s")]
        data: Vec<f32>,
    },
    /// The certify MLP's trained parameters.
    CertifyModel(#[serde(with = "f32s")] Vec<f32>),
    CertifyPart(certify::Part),
    Metrics(dexp::Metrics),
    Started,
    Sampled(Sampled),
    TestSet(TestSet),
    Trained(u32),
    Snapshot(Box<Snapshot>),
    Logits(#[serde(with = "f32s")] Vec<f32>),
    Race(Box<RaceFrame>),
    /// Milliseconds per iteration.
    Timed(f64),
    Ended,
}

/// A job with its call id (to match the answer) and session id.
#[derive(Serialize, Deserialize)]
struct Call {
    id: u64,
    session: u64,
    job: Job,
}

#[derive(Serialize, Deserialize)]
struct Answer {
    id: u64,
    done: Result<Done, String>,
}

// ---------------------------------------------------------------------------
// The host: runs jobs, in the worker or (without one) on the main thread.

enum Hosted {
    /// The page keeps the timeline: frames are handed over, not kept here.
    Diffusion(Sampling),
    LabelSmoothing(LabelSmoothingRun),
    Race(Box<RaceRun>),
}

thread_local! {
    static SESSIONS: RefCell<HashMap<u64, Hosted>> = RefCell::new(HashMap::new());
}

fn wrong_session(session: u64) -> String {
    format!("the compute session {session} has ended or is of another kind")
}

/// A diffusion part's sampler: every part builds the training set, the
/// source (with the loaded model file) and so the teleport from the same
/// config and drawing, so all that is not per particle is the same in each.
fn start_diffusion(
    cfg: &Pairs,
    drawn: &PointSet,
    denoiser: Option<Bytes>,
    range: std::ops::Range<u32>,
) -> Result<Hosted, String> {
    let c: DiffusionConfig = parse(cfg)?;
    let train = c.training_set(drawn);
    let mlp = denoiser
        .map(|b| dexp::load_denoiser(&b.0, c.dataset))
        .transpose()?;
    let source = dexp::build_source(&c, &train, mlp)?;
    let range = range.start as usize..range.end as usize;
    let mut sampling = Sampling::new_range(c, source, train.class_count, range);
    // The page has frame 0 (it knows the initial particles).
    sampling.history.clear();
    Ok(Hosted::Diffusion(sampling))
}

/// Advances `sampling` until transition `until` is complete, or for
/// `budget_ms`: at most one step per slice, so the animation shows every
/// step, paced by the frames as on the GPU, and the parts of a split run
/// stay in lockstep.
fn sample_until(sampling: &mut Sampling, budget_ms: f64, until: usize) -> Sampled {
    let start = super::now_ms();
    let from = sampling.step();
    while !sampling.finished() && sampling.step() < until && super::now_ms() - start < budget_ms {
        sampling.advance_in_step(SAMPLE_CHUNK);
    }
    Sampled {
        step: sampling.step(),
        finished: sampling.finished(),
        particles: (sampling.step() != from).then(|| Points(sampling.particles().to_vec())),
        history: std::mem::take(&mut sampling.history)
            .into_iter()
            .map(Points)
            .collect(),
    }
}

/// Runs one job.
async fn host(session: u64, job: Job) -> Result<Done, String> {
    let take = || SESSIONS.with(|s| s.borrow_mut().remove(&session));
    let put = |s: Hosted| SESSIONS.with(|t| t.borrow_mut().insert(session, s));
    match job {
        Job::Run { id, cfg } => {
            let e = registry::find(&id).ok_or_else(|| format!("no experiment {id:?}"))?;
            let pairs: Vec<(&str, &str)> =
                cfg.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            e.run_json(&pairs, &Compute::Cpu)
                .await
                .map(Done::Report)
                .map_err(|e| e.to_string())
        }
        Job::GumbelSweep { cfg, n, lo, hi } => Ok(Done::Sweep(gumbel::sweep_of(
            &parse(&cfg)?,
            n,
            lo as usize..hi as usize,
        ))),
        Job::GumbelOptimise(p) => Ok(Done::Optimisation(gumbel::optimise(&parse(&p)?))),
        Job::Calibrate { workload } => time_on_cpu(&workload).await.map(Done::Timed),
        Job::ClippingPaths(p) => Ok(Done::Paths(
            clipping::trajectories(&parse(&p)?)
                .into_iter()
                .map(|(m, path)| (m, Points(path)))
                .collect(),
        )),
        Job::ClippingRuns { cfg, lo, hi } => clipping_runs(&cfg, lo, hi),
        Job::CertifyModel(p) => Ok(Done::CertifyModel(
            certify::Setup::new(&parse(&p)?).params().to_vec(),
        )),
        Job::CertifyParts {
            cfg,
            params,
            units,
            lo,
            hi,
        } => certify_part(&cfg, params, units, lo..hi)
            .await
            .map(Done::CertifyPart),
        Job::DiffusionMetrics {
            particles,
            fresh,
            train,
            delta,
        } => Ok(Done::Metrics(dexp::metrics(
            &particles.0,
            &fresh.0,
            &train.0,
            delta,
        ))),
        Job::StartDiffusion {
            cfg,
            drawn,
            denoiser,
            range,
        } => {
            put(start_diffusion(&cfg, &drawn, denoiser, range)?);
            Ok(Done::Started)
        }
        Job::Sample { budget_ms, until } => {
            let Some(Hosted::Diffusion(mut sampling)) = take() else {
                return Err(wrong_session(session));
            };
            let done = sample_until(&mut sampling, budget_ms, until);
            put(Hosted::Diffusion(sampling));
            Ok(Done::Sampled(done))
        }
        Job::StartLabelSmoothing { cfg, models } => {
            let c: LabelSmoothingConfig = parse(&cfg)?;
            let range = models.start as usize..models.end as usize;
            if range.is_empty() || range.end > c.kinds().len() {
                return Err(format!("the run has no models {range:?}"));
            }
            let run = LabelSmoothingRun::new_models(c, None, range)
                .await
                .map_err(|e| e.to_string())?;
            let t = run.test_set();
            let test = TestSet {
                x: t.x.clone(),
                y: t.y.clone(),
            };
            put(Hosted::LabelSmoothing(run));
            Ok(Done::TestSet(test))
        }
        Job::Train { budget_ms, until } => {
            let Some(Hosted::LabelSmoothing(mut run)) = take() else {
                return Err(wrong_session(session));
            };
            let start = super::now_ms();
            let mut result = Ok(());
            let last = run.cfg.steps.min(until);
            while run.step() < last && super::now_ms() - start < budget_ms {
                if let Err(e) = run.train_steps(1) {
                    result = Err(e.to_string());
                    break;
                }
            }
            let step = run.step();
            put(Hosted::LabelSmoothing(run));
            result.map(|()| Done::Trained(step))
        }
        Job::Snapshot => {
            let Some(Hosted::LabelSmoothing(mut run)) = take() else {
                return Err(wrong_session(session));
            };
            let s = run.snapshot().await;
            put(Hosted::LabelSmoothing(run));
            s.map(|s| Done::Snapshot(Box::new(s)))
                .map_err(|e| e.to_string())
        }
        Job::Predict { model, points } => {
            let Some(Hosted::LabelSmoothing(mut run)) = take() else {
                return Err(wrong_session(session));
            };
            if model >= run.kinds().len() {
                put(Hosted::LabelSmoothing(run));
                return Err(format!("there is no model {model}"));
            }
            let l = run.predict(model, &points).await;
            put(Hosted::LabelSmoothing(run));
            l.map(Done::Logits).map_err(|e| e.to_string())
        }
        Job::StartRace(p) => start_race(session, &p),
        Job::Race { budget_ms } => advance_race(session, budget_ms),
        Job::End => {
            take();
            Ok(Done::Ended)
        }
        Job::Stall { .. } => std::future::pending().await,
    }
}

/// The clipping Monte Carlo curves of runs `lo..hi` ([`clipping::curves_of_runs`]), flattened.
fn clipping_runs(cfg: &Pairs, lo: u32, hi: u32) -> Result<Done, String> {
    let curves = clipping::curves_of_runs(&parse(cfg)?, lo..hi);
    let points = curves.first().and_then(|m| m.first()).map_or(0, Vec::len);
    let data = curves.into_iter().flatten().flatten().collect();
    Ok(Done::Curves {
        runs: (hi - lo) as usize,
        points,
        data,
    })
}

/// Units `range` of kind `units` of the certify run of `cfg` on the CPU
/// ([`certify::part`]), with the MLP's parameters `params`.
async fn certify_part(
    cfg: &Pairs,
    params: Vec<f32>,
    units: certify::Units,
    range: std::ops::Range<u32>,
) -> Result<certify::Part, String> {
    let cfg: CertifyConfig = parse(cfg)?;
    if range.start > range.end || range.end > units.count(&cfg) {
        return Err(format!(
            "the run has no {units:?} {}..{}",
            range.start, range.end
        ));
    }
    let setup = certify::Setup::with_params(&cfg, params)?;
    certify::part(&cfg, &setup, units, range, &Compute::Cpu)
        .await
        .map_err(|e| e.to_string())
}

/// Milliseconds per iteration of bench workload `name` at its default size here.
async fn time_on_cpu(name: &str) -> Result<f64, String> {
    let (_, w) = registry::workload(name).ok_or_else(|| format!("no bench workload {name:?}"))?;
    let mut bench = (w.prepare)(&[], Compute::Cpu)
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())?;
    crate::experiments::bench::time_quick(bench.as_mut(), &super::now_ms, || async {})
        .await
        .map_err(|e| e.to_string())
}

/// Starts zo's training race in `session`; answers its first frame.
fn start_race(session: u64, p: &Pairs) -> Result<Done, String> {
    let cfg: ZoConfig = parse(p)?;
    let mut run = Box::new(RaceRun::new(&cfg));
    let frame = run.frame();
    SESSIONS.with(|t| t.borrow_mut().insert(session, Hosted::Race(run)));
    Ok(Done::Race(Box::new(frame)))
}

/// Advances the race of `session` for about `budget_ms`; answers a frame.
fn advance_race(session: u64, budget_ms: f64) -> Result<Done, String> {
    let Some(Hosted::Race(mut run)) = SESSIONS.with(|s| s.borrow_mut().remove(&session)) else {
        return Err(wrong_session(session));
    };
    let start = super::now_ms();
    run.advance(|| super::now_ms() - start < budget_ms);
    let frame = run.frame();
    SESSIONS.with(|t| t.borrow_mut().insert(session, Hosted::Race(run)));
    Ok(Done::Race(Box::new(frame)))
}

/// The worker's entry point, called by the worker script once the wasm is loaded,
/// with the messages that arrived while it loaded.
#[wasm_bindgen]
pub fn gradlab_worker_main(early: js_sys::Array) {
    console_error_panic_hook::set_once();
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let onmessage = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|e: web_sys::MessageEvent| {
        serve(e.data())
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    for e in early.iter() {
        if let Ok(e) = e.dyn_into::<web_sys::MessageEvent>() {
            serve(e.data());
        }
    }
}

/// Answers one message in the worker. A job it cannot read is answered
/// with an error all the same (the page would otherwise wait for it); a
/// message without even a readable call id stops the worker
/// (`{stopped: why}`), which fails every job the page awaits.
fn serve(data: JsValue) {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let call: Call = match serde_wasm_bindgen::from_value(data.clone()) {
        Ok(c) => c,
        Err(e) => {
            let why = format!("the compute worker could not read the job: {e}");
            web_sys::console::error_1(&format!("gradlab worker: {why}").into());
            let id = js_sys::Reflect::get(&data, &"id".into())
                .ok()
                .and_then(|v| v.as_f64())
                .filter(|id| id.fract() == 0.0 && *id >= 1.0);
            let reply = match id {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Some(id) => serde_wasm_bindgen::to_value(&Answer {
                    id: id as u64,
                    done: Err(why),
                })
                .ok(),
                None => {
                    let o = js_sys::Object::new();
                    let _ = js_sys::Reflect::set(&o, &"stopped".into(), &why.into());
                    Some(o.into())
                }
            };
            if let Some(v) = reply {
                let _ = scope.post_message(&v);
            }
            return;
        }
    };
    wasm_bindgen_futures::spawn_local(async move {
        let done = host(call.session, call.job).await;
        let answer = Answer { id: call.id, done };
        let sent = serde_wasm_bindgen::to_value(&answer)
            .map_err(|e| JsValue::from_str(&e.to_string()))
            .and_then(|v| scope.post_message(&v));
        if let Err(e) = sent {
            let failed = Answer {
                id: call.id,
                done: Err(format!("the answer could not be sent: {e:?}")),
            };
            if let Ok(v) = serde_wasm_bindgen::to_value(&failed) {
                let _ = scope.post_message(&v);
            }
        }
    });
}

// ---------------------------------------------------------------------------
// The client, on the page's main thread.

enum Link {
    Unstarted,
    Up {
        worker: web_sys::Worker,
        // Kept alive while the worker is.
        _handlers: [Closure<dyn FnMut(JsValue)>; 2],
    },
    /// No worker: it could not start or it stopped, and why.
    Down(String),
}

/// Why a job in a session failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// The worker stopped, and the session with it: start again (on the main thread).
    WorkerStopped(String),
    /// The job itself failed.
    Job(String),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Fault::WorkerStopped(why) => write!(f, "the compute worker stopped: {why}"),
            Fault::Job(why) => f.write_str(why),
        }
    }
}

/// A job awaiting its answer: where to send it, its timeout's timer, and
/// the pool slot of the worker computing it.
struct Waiting {
    tx: oneshot::Sender<Result<Done, Fault>>,
    timer: Option<Timer>,
    slot: usize,
}

/// A pending `setTimeout` and its callback, owned so that clearing it frees
/// the callback (a `Closure::once_into_js` that never fires leaks, one per
/// round trip: the memory soak saw the JS heap grow).
struct Timer {
    handle: i32,
    _fire: Closure<dyn FnMut()>,
}

struct Client {
    /// The pool's workers by slot: slot 0 hosts the sessions and one-shot
    /// jobs; the others start on the first [`split`] that needs them.
    links: Vec<Link>,
    pending: HashMap<u64, Waiting>,
    next_id: u64,
    /// The pool size a test set ([`gradlab_pool_size`]), else one per core.
    pool_size: Option<usize>,
}

thread_local! {
    static CLIENT: RefCell<Client> = RefCell::new(Client {
        links: vec![Link::Unstarted],
        pending: HashMap::new(),
        next_id: 1,
        pool_size: None,
    });
}

/// Most workers in the pool.
const MAX_POOL: usize = 8;

/// The worker of pool slot `slot`, started on first use; `None` where none runs.
fn worker_at(slot: usize) -> Option<web_sys::Worker> {
    CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        if c.links.len() <= slot {
            c.links.resize_with(slot + 1, || Link::Unstarted);
        }
        // Where the first worker is down (it could not start, or was
        // stopped), the pool starts no others.
        if slot > 0 && matches!(c.links[0], Link::Down(_)) {
            return None;
        }
        if matches!(c.links[slot], Link::Unstarted) {
            c.links[slot] = match start_worker(slot) {
                Ok(link) => link,
                Err(why) => Link::Down(why),
            };
        }
        match &c.links[slot] {
            Link::Up { worker, .. } => Some(worker.clone()),
            _ => None,
        }
    })
}

/// The worker that hosts sessions and one-shot jobs.
fn worker() -> Option<web_sys::Worker> {
    worker_at(0)
}

/// Workers a [`split`] spreads over: one per core but the page's own
/// (`navigator.hardwareConcurrency − 1`), at least 1, at most [`MAX_POOL`].
fn pool_size() -> usize {
    CLIENT.with(|c| c.borrow().pool_size).unwrap_or_else(|| {
        let cores = web_sys::window().map_or(1.0, |w| w.navigator().hardware_concurrency());
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let cores = if cores.is_finite() { cores as usize } else { 1 };
        cores.saturating_sub(1).clamp(1, MAX_POOL)
    })
}

/// Debug hook for tests and curious readers: splits later work over `size`
/// workers (clamped to 1–8; 0 returns to one per core). Returns the size in effect.
#[wasm_bindgen]
pub fn gradlab_pool_size(size: u32) -> u32 {
    CLIENT.with(|c| {
        c.borrow_mut().pool_size = (size > 0).then(|| (size as usize).min(MAX_POOL));
    });
    pool_size() as u32
}

/// This build's worker script, named per build (`worker-<hash>.js`) in the
/// page's own `<meta name="gradlab-worker">` (written by
/// `scripts/precache.mjs`): a tab of an older build never loads a newer
/// build's wasm after an update, it loads its own or none.
fn worker_script() -> Result<String, String> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector("meta[name=\"gradlab-worker\"]")
                .ok()
                .flatten()
        })
        .and_then(|m| m.get_attribute("content"))
        .filter(|n| n.starts_with("worker-") && n.ends_with(".js") && !n.contains('/'))
        .map(|name| super::app_href(&format!("/{name}")))
        .ok_or_else(|| "this page names no worker script of its build".to_string())
}

fn start_worker(slot: usize) -> Result<Link, String> {
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options(&worker_script()?, &opts)
        .map_err(|e| format!("the browser could not start it ({e:?})"))?;
    let onmessage = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let data = e
            .dyn_into::<web_sys::MessageEvent>()
            .map(|e| e.data())
            .unwrap_or_default();
        if let Some(fatal) = js_sys::Reflect::get(&data, &"fatal".into())
            .ok()
            .and_then(|f| f.as_string())
        {
            stop(slot, format!("its wasm did not load: {fatal}"));
            return;
        }
        if let Some(why) = js_sys::Reflect::get(&data, &"stopped".into())
            .ok()
            .and_then(|f| f.as_string())
        {
            stop(slot, why);
            return;
        }
        match serde_wasm_bindgen::from_value::<Answer>(data) {
            Ok(a) => {
                if let Some(w) = CLIENT.with(|c| c.borrow_mut().pending.remove(&a.id)) {
                    clear_timer(w.timer);
                    let _ = w.tx.send(a.done.map_err(Fault::Job));
                }
            }
            Err(e) => stop(slot, format!("it sent an unreadable answer: {e}")),
        }
    });
    let onerror = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let why = e
            .dyn_ref::<web_sys::ErrorEvent>()
            .map(|e| e.message())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "its script (worker-<hash>.js) failed to load or crashed".into());
        stop(slot, why);
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    Ok(Link::Up {
        worker,
        _handlers: [onmessage, onerror],
    })
}

/// Stops the worker of pool slot `slot` for good (this page load): every
/// job pending there fails with `why`, and later jobs of that slot run on
/// the main thread (slot 0: every session and one-shot job).
fn stop(slot: usize, why: String) {
    let (link, pending) = CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        if c.links.len() <= slot {
            c.links.resize_with(slot + 1, || Link::Unstarted);
        }
        let link = std::mem::replace(&mut c.links[slot], Link::Down(why.clone()));
        let ids: Vec<u64> = c
            .pending
            .iter()
            .filter(|(_, w)| w.slot == slot)
            .map(|(id, _)| *id)
            .collect();
        let pending: Vec<Waiting> = ids.iter().filter_map(|id| c.pending.remove(id)).collect();
        (link, pending)
    });
    if let Link::Up { worker, .. } = link {
        worker.terminate();
    }
    web_sys::console::warn_1(
        &format!("gradlab: the compute worker (pool slot {slot}) stopped: {why}").into(),
    );
    for w in pending {
        clear_timer(w.timer);
        let _ = w.tx.send(Err(Fault::WorkerStopped(why.clone())));
    }
}

/// Clears the timer and drops its callback.
fn clear_timer(timer: Option<Timer>) {
    if let (Some(t), Some(w)) = (timer, web_sys::window()) {
        w.clear_timeout_with_handle(t.handle);
    }
}

/// Gives the worker up when job `id` is still unanswered after `ms`.
fn start_timer(id: u64, ms: f64, what: &'static str) -> Option<Timer> {
    let fire = Closure::<dyn FnMut()>::new(move || {
        // Deferred: `stop` drops this callback with its job, which must not
        // happen while the callback runs.
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(slot) = CLIENT.with(|c| c.borrow().pending.get(&id).map(|w| w.slot)) {
                stop(
                    slot,
                    format!("it did not answer a job ({what}) within {} s", ms / 1000.0),
                );
            }
        });
    });
    #[allow(clippy::cast_possible_truncation)]
    let handle = web_sys::window()?
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            fire.as_ref().unchecked_ref(),
            ms as i32,
        )
        .ok()?;
    Some(Timer {
        handle,
        _fire: fire,
    })
}

/// Why jobs run on the main thread, once the worker has stopped or failed to start.
pub fn fault() -> Option<String> {
    CLIENT.with(|c| match &c.borrow().links[0] {
        Link::Down(why) => Some(why.clone()),
        _ => None,
    })
}

/// Debug hook for tests and curious readers: stops the compute workers
/// (the whole pool), so the main-thread fallback can be seen working
/// (`window.wasmBindings.gradlab_stop_worker()`). Whether slot 0 ran.
#[wasm_bindgen]
pub fn gradlab_stop_worker() -> bool {
    let (up, slots) = CLIENT.with(|c| {
        let c = c.borrow();
        (matches!(c.links[0], Link::Up { .. }), c.links.len())
    });
    for slot in 0..slots {
        stop(slot, "stopped by gradlab_stop_worker()".into());
    }
    up
}

/// Sends `job` to the worker of slot 0 and awaits its answer, at most for
/// the job's timeout ([`Job::timeout_ms`]): past it the worker is given up
/// ([`stop`]) and the job fails, so the caller goes on on the main thread.
async fn remote(worker: &web_sys::Worker, session: u64, job: Job) -> Result<Done, Fault> {
    answer(post_job(worker, 0, session, job)?).await
}

/// Posts `job` to the worker of pool slot `slot`; the answer comes on the receiver.
fn post_job(worker: &web_sys::Worker, slot: usize, session: u64, job: Job) -> Result<Reply, Fault> {
    let timeout = job.timeout_ms();
    let what = job_name(&job);
    post(worker, slot, timeout, what, |id| {
        serde_wasm_bindgen::to_value(&Call { id, session, job }).map_err(|e| e.to_string())
    })
}

/// The variant's name, for messages.
fn job_name(job: &Job) -> &'static str {
    match job {
        Job::Run { .. } => "run",
        Job::GumbelSweep { .. } => "sweep",
        Job::GumbelOptimise(_) => "optimisation",
        Job::ClippingPaths(_) => "trajectories",
        Job::ClippingRuns { .. } => "Monte Carlo",
        Job::CertifyModel(_) => "certify training",
        Job::CertifyParts { .. } => "certify part",
        Job::DiffusionMetrics { .. } => "metrics",
        Job::StartDiffusion { .. } | Job::StartLabelSmoothing { .. } | Job::StartRace(_) => "start",
        Job::Race { .. } => "race slice",
        Job::Sample { .. } => "sampling slice",
        Job::Train { .. } => "training slice",
        Job::Snapshot => "snapshot",
        Job::Predict { .. } => "prediction",
        Job::End => "end",
        Job::Calibrate { .. } => "calibration",
        Job::Stall { .. } => "stall",
    }
}

/// Where the answer to a posted job arrives.
type Reply = oneshot::Receiver<Result<Done, Fault>>;

/// Awaits a posted job's answer.
async fn answer(rx: Reply) -> Result<Done, Fault> {
    rx.await
        .unwrap_or_else(|_| Err(Fault::WorkerStopped("it dropped the job".into())))
}

/// Posts the message `make(id)` and awaits the answer to `id` (pool slot 0).
async fn round_trip(
    worker: &web_sys::Worker,
    timeout_ms: f64,
    what: &'static str,
    make: impl FnOnce(u64) -> Result<JsValue, String>,
) -> Result<Done, Fault> {
    answer(post(worker, 0, timeout_ms, what, make)?).await
}

/// Posts the message `make(id)` to the worker of pool slot `slot`, with
/// the timeout past which that worker is given up.
fn post(
    worker: &web_sys::Worker,
    slot: usize,
    timeout_ms: f64,
    what: &'static str,
    make: impl FnOnce(u64) -> Result<JsValue, String>,
) -> Result<Reply, Fault> {
    let (tx, rx) = oneshot::channel();
    let id = CLIENT.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(Link::Down(why)) = c.links.get(slot) {
            // A session's worker has stopped: nothing would ever answer.
            return Err(Fault::WorkerStopped(why.clone()));
        }
        let id = c.next_id;
        c.next_id += 1;
        c.pending.insert(
            id,
            Waiting {
                tx,
                timer: None,
                slot,
            },
        );
        Ok(id)
    })?;
    let posted = make(id).and_then(|v| worker.post_message(&v).map_err(|e| format!("{e:?}")));
    if let Err(e) = posted {
        CLIENT.with(|c| c.borrow_mut().pending.remove(&id));
        return Err(Fault::Job(format!(
            "the job could not be sent to the compute worker: {e}"
        )));
    }
    let timer = start_timer(id, timeout_ms, what);
    CLIENT.with(|c| {
        if let Some(w) = c.borrow_mut().pending.get_mut(&id) {
            w.timer = timer;
        }
    });
    Ok(rx)
}

/// Debug hook for tests: sends the compute worker a job it cannot read
/// (`"unreadable"`) or one it never answers (`"stall"`, given up after
/// `timeout_ms`), and resolves to what came of it: `answered: …`,
/// `stopped: …` or `done`. Where no worker runs it resolves to `no worker: …`.
#[wasm_bindgen]
pub fn gradlab_worker_fault(kind: String, timeout_ms: f64) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        let Some(w) = worker() else {
            return Ok(format!("no worker: {}", fault().unwrap_or_default()).into());
        };
        let result = if kind == "stall" {
            remote(&w, 0, Job::Stall { timeout_ms }).await
        } else {
            round_trip(&w, timeout_ms, "unreadable", |id| {
                let o = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&o, &"id".into(), &JsValue::from_f64(id as f64));
                let _ = js_sys::Reflect::set(&o, &"session".into(), &JsValue::from_f64(0.0));
                let _ = js_sys::Reflect::set(&o, &"job".into(), &"not a job".into());
                Ok(o.into())
            })
            .await
        };
        Ok(match result {
            Ok(_) => "done".to_string(),
            Err(Fault::Job(why)) => format!("answered: {why}"),
            Err(Fault::WorkerStopped(why)) => format!("stopped: {why}"),
        }
        .into())
    })
}

/// A one-shot job in the worker, or `None` where it could not run there.
async fn one_shot(job: Job) -> Option<Done> {
    let w = worker()?;
    match remote(&w, 0, job).await {
        Ok(done) => Some(done),
        Err(e) => {
            web_sys::console::warn_1(&format!("gradlab: {e}; computing on the main thread").into());
            None
        }
    }
}

/// Milliseconds per iteration of bench workload `name` on the CPU, timed in
/// the compute worker (the page's calibration, `ui::backend`); `None` where
/// no worker runs, since timing it on the main thread could block the page.
pub async fn calibrate_cpu(name: &str) -> Option<Result<f64, String>> {
    let w = worker()?;
    Some(
        match remote(
            &w,
            0,
            Job::Calibrate {
                workload: name.to_string(),
            },
        )
        .await
        {
            Ok(Done::Timed(ms)) => Ok(ms),
            Ok(_) => Err(unexpected("calibration").to_string()),
            Err(e) => Err(e.to_string()),
        },
    )
}

/// One whole run of experiment `E` on the CPU: in the worker, or where it
/// could not run there, on the main thread.
pub async fn run<E: Experiment>(cfg: &E::Config) -> Result<E::Report, RunError> {
    // Where no worker runs, the widget says so; a worker that fails the job is worth a warning.
    if worker().is_some() {
        match run_in_worker::<E>(cfg).await {
            Ok(report) => return Ok(report),
            Err(e) => web_sys::console::warn_1(
                &format!("gradlab: {e}; computing on the main thread").into(),
            ),
        }
    }
    E::run(cfg, &Compute::Cpu).await
}

/// A split's parts in order, and how many of them a worker computed.
struct Parts<T> {
    parts: Vec<T>,
    remote: usize,
}

/// `units` independent units over the pool ([`pool_size`] workers, never
/// more than units): worker `i` computes the `i`-th contiguous range with
/// `job(range)`, read back by `read(range, answer)`. A part no worker could
/// compute (none runs, it stopped, or it answered something unreadable) is
/// computed here by `local(range)`. Every unit is keyed by its own index, so
/// the parts join into the numbers of one worker.
async fn split<T, F: std::future::Future<Output = T>>(
    units: u32,
    job: impl Fn(std::ops::Range<u32>) -> Job,
    read: impl Fn(&std::ops::Range<u32>, Done) -> Option<T>,
    local: impl Fn(std::ops::Range<u32>) -> F,
) -> Parts<T> {
    join_split(post_split(units, job), read, local).await
}

/// The parts of a [`split`], posted and awaiting their answers.
struct Posted {
    ranges: Vec<std::ops::Range<u32>>,
    replies: Vec<Option<Reply>>,
}

/// `units` in `min(k, units)` contiguous ranges (at least one) of sizes
/// differing by at most one, in order: how a run's units are split over parts.
fn even_ranges(units: u32, k: usize) -> Vec<std::ops::Range<u32>> {
    let k = k.min(units as usize).max(1);
    #[allow(clippy::cast_possible_truncation)]
    let at = |i: usize| (u64::from(units) * i as u64 / k as u64) as u32;
    (0..k).map(|i| at(i)..at(i + 1)).collect()
}

/// The first half of a [`split`]: posts every part, awaiting nothing, so
/// several splits posted one after another keep every worker busy with its
/// share of each (a worker answers its jobs in order).
fn post_split(units: u32, job: impl Fn(std::ops::Range<u32>) -> Job) -> Posted {
    let ranges = even_ranges(units, pool_size());
    let replies = ranges
        .iter()
        .enumerate()
        .map(|(slot, r)| {
            let w = worker_at(slot)?;
            post_job(&w, slot, 0, job(r.clone())).ok()
        })
        .collect();
    Posted { ranges, replies }
}

/// The second half of a [`split`]: awaits the posted parts in order,
/// computing here those no worker answered.
async fn join_split<T, F: std::future::Future<Output = T>>(
    posted: Posted,
    read: impl Fn(&std::ops::Range<u32>, Done) -> Option<T>,
    local: impl Fn(std::ops::Range<u32>) -> F,
) -> Parts<T> {
    let mut parts = Vec::with_capacity(posted.ranges.len());
    let mut remote = 0;
    for (r, reply) in posted.ranges.into_iter().zip(posted.replies) {
        let done = match reply {
            Some(rx) => answer(rx).await.ok().and_then(|d| read(&r, d)),
            None => None,
        };
        match done {
            Some(part) => {
                remote += 1;
                parts.push(part);
            }
            None => parts.push(local(r).await),
        }
    }
    Parts { parts, remote }
}

/// One whole run of experiment `E` in the compute worker only, for
/// optional work (a comparison beside the live run) that must never block
/// the page: where no worker runs (or it stops) the fault says why, instead
/// of the run being computed unsliced on the main thread.
pub async fn run_in_worker<E: Experiment>(cfg: &E::Config) -> Result<E::Report, Fault> {
    let Some(w) = worker() else {
        return Err(Fault::WorkerStopped(
            fault().unwrap_or_else(|| "it did not start".into()),
        ));
    };
    let job = Job::Run {
        id: E::INFO.id.into(),
        cfg: pairs(cfg),
    };
    match remote(&w, 0, job).await? {
        Done::Report(json) => {
            let report = serde_json::from_str(&json)
                .map_err(|e| Fault::Job(format!("it sent an unreadable report ({e})")))?;
            // Parsed in this task, shown in the next: a big report's parse
            // and its first render do not add up to one long task.
            super::yield_to_browser().await;
            Ok(report)
        }
        _ => Err(unexpected("a report")),
    }
}

/// The bias–variance sweep on the CPU ([`gumbel::sweep_cpu`]), its
/// temperatures split over the pool.
pub async fn gumbel_sweep(cfg: &GumbelConfig, n: u32) -> Vec<SweepPoint> {
    gumbel_sweep_parts(cfg, n).await.parts.concat()
}

async fn gumbel_sweep_parts(cfg: &GumbelConfig, n: u32) -> Parts<Vec<SweepPoint>> {
    let p = pairs(cfg);
    #[allow(clippy::cast_possible_truncation)]
    let taus = gumbel::tau_sweep().len() as u32;
    split(
        taus,
        |r| Job::GumbelSweep {
            cfg: p.clone(),
            n,
            lo: r.start,
            hi: r.end,
        },
        |r, d| match d {
            Done::Sweep(s) if s.len() == r.len() => Some(s),
            _ => None,
        },
        |r| std::future::ready(gumbel::sweep_of(cfg, n, r.start as usize..r.end as usize)),
    )
    .await
}

/// The Gumbel-Softmax mini optimisation ([`gumbel::optimise`]).
pub async fn gumbel_optimise(cfg: &GumbelConfig) -> gumbel::Optimisation {
    match one_shot(Job::GumbelOptimise(pairs(cfg))).await {
        Some(Done::Optimisation(o)) => o,
        _ => gumbel::optimise(cfg),
    }
}

/// Run 0 of every clipping estimator, step by step ([`clipping::trajectories`]).
pub async fn clipping_paths(
    cfg: &clipping::ClippingConfig,
) -> Vec<(clipping::Method, Vec<[f32; 2]>)> {
    match one_shot(Job::ClippingPaths(pairs(cfg))).await {
        Some(Done::Paths(p)) => p.into_iter().map(|(m, path)| (m, path.0)).collect(),
        _ => clipping::trajectories(cfg),
    }
}

/// The clipping Monte Carlo on the CPU ([`clipping::monte_carlo_cpu`]),
/// its runs split over the pool.
pub async fn clipping_monte_carlo(
    cfg: &clipping::ClippingConfig,
    runs: u32,
) -> clipping::ClippingReport {
    let parts = clipping_parts(cfg, runs).await.parts;
    clipping::summarise(cfg, &clipping::join_curves(parts), runs)
}

async fn clipping_parts(cfg: &clipping::ClippingConfig, runs: u32) -> Parts<Vec<Vec<Vec<f32>>>> {
    let p = pairs(cfg);
    split(
        runs,
        |r| Job::ClippingRuns {
            cfg: p.clone(),
            lo: r.start,
            hi: r.end,
        },
        |r, d| match d {
            Done::Curves { runs, points, data }
                if runs == r.len()
                    && points > 0
                    && data.len() == clipping::METHODS.len() * runs * points =>
            {
                Some(
                    data.chunks(runs * points)
                        .map(|m| m.chunks(points).map(<[f32]>::to_vec).collect())
                        .collect(),
                )
            }
            _ => None,
        },
        |r| std::future::ready(clipping::curves_of_runs(cfg, r)),
    )
    .await
}

/// One certify run on the CPU ([`certify::run`]): the MLP (where the model
/// is one) trained once in the worker, then the heat-map pixels, the
/// requested points and the test points split over the pool.
pub async fn certify_run(cfg: &CertifyConfig) -> Result<CertifyReport, RunError> {
    let (setup, parts) = certify_parts(cfg).await?;
    Ok(certify::join(cfg, &setup, parts.parts))
}

/// The shared setup of a certify run: the MLP trained in the worker (its
/// parameters sent back), or here where it could not be.
async fn certify_setup(cfg: &CertifyConfig) -> certify::Setup {
    if cfg.model == Model::Mlp
        && let Some(Done::CertifyModel(params)) = one_shot(Job::CertifyModel(pairs(cfg))).await
        && let Ok(setup) = certify::Setup::with_params(cfg, params)
    {
        return setup;
    }
    certify::Setup::new(cfg)
}

/// A certify run's setup and parts: every kind of units split over the
/// pool, all posted before any is awaited, joined kind by kind.
async fn certify_parts(
    cfg: &CertifyConfig,
) -> Result<(certify::Setup, Parts<certify::Part>), RunError> {
    let setup = certify_setup(cfg).await;
    let (p, params) = (pairs(cfg), setup.params().to_vec());
    let posted: Vec<(certify::Units, Posted)> = certify::Units::ALL
        .into_iter()
        .map(|units| {
            let job = |r: std::ops::Range<u32>| Job::CertifyParts {
                cfg: p.clone(),
                params: params.clone(),
                units,
                lo: r.start,
                hi: r.end,
            };
            (units, post_split(units.count(cfg), job))
        })
        .collect();
    let cpu = Compute::Cpu;
    let mut all = Parts {
        parts: Vec::new(),
        remote: 0,
    };
    for (units, posted) in posted {
        let got = join_split(
            posted,
            |r, d| match d {
                Done::CertifyPart(part) if part.units() == units && part.count() == r.len() => {
                    Some(Ok(part))
                }
                _ => None,
            },
            |r| certify::part(cfg, &setup, units, r, &cpu),
        )
        .await;
        all.remote += got.remote;
        for part in got.parts {
            all.parts.push(part?);
        }
    }
    Ok((setup, all))
}

/// A config from a URL query, strictly (a test names what it means).
fn config_of_query<C: Config>(query: &str) -> Result<C, JsValue> {
    let params = web_sys::UrlSearchParams::new_with_str(query)?;
    let q: Vec<(String, String)> = C::fields()
        .into_iter()
        .filter_map(|f| params.get(f.name).map(|v| (f.name.to_string(), v)))
        .collect();
    parse(&q).map_err(|e| JsValue::from_str(&e))
}

/// Debug hook for the e2e test of the pool: the CPU numbers of `what`
/// (`clipping`: the Monte Carlo of the config in `query`, its URL query;
/// `gumbel`: the bias–variance sweep; `certify`: the run of the config in
/// `query`, bounded for the page's CPU, its parts those of every kind of
/// units) as JSON `{parts, remote, result}`, split over the pool as the
/// widget splits them.
#[wasm_bindgen]
pub fn gradlab_pool_run(what: String, query: String) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        let json = match what.as_str() {
            "clipping" => {
                let cfg: clipping::ClippingConfig = config_of_query(&query)?;
                let p = clipping_parts(&cfg, cfg.runs).await;
                let (parts, remote) = (p.parts.len(), p.remote);
                let report = clipping::summarise(&cfg, &clipping::join_curves(p.parts), cfg.runs);
                serde_json::json!({ "parts": parts, "remote": remote, "result": report })
            }
            "gumbel" => {
                let cfg: GumbelConfig = config_of_query(&query)?;
                let p = gumbel_sweep_parts(&cfg, crate::ui::gumbel::run::SWEEP_CPU).await;
                let (parts, remote) = (p.parts.len(), p.remote);
                serde_json::json!({ "parts": parts, "remote": remote, "result": p.parts.concat() })
            }
            "certify" => {
                let cfg = Certify::page_cpu_config(&config_of_query::<CertifyConfig>(&query)?);
                let (setup, p) = certify_parts(&cfg)
                    .await
                    .map_err(|e| JsValue::from_str(&e.to_string()))?;
                let (parts, remote) = (p.parts.len(), p.remote);
                let report = certify::join(&cfg, &setup, p.parts);
                serde_json::json!({ "parts": parts, "remote": remote, "result": report })
            }
            other => return Err(JsValue::from_str(&format!("no pooled work {other:?}"))),
        };
        Ok(JsValue::from_str(&json.to_string()))
    })
}

/// Diffusion metrics of (the first [`dexp::METRIC_POINTS`] of) `particles`
/// ([`dexp::metrics`]), for runs on either backend.
pub async fn diffusion_metrics(
    particles: &[[f32; 2]],
    fresh: &[[f32; 2]],
    train: &[[f32; 2]],
    delta: f64,
) -> dexp::Metrics {
    let p = &particles[..particles.len().min(dexp::METRIC_POINTS)];
    let job = Job::DiffusionMetrics {
        particles: Points(p.to_vec()),
        fresh: Points(fresh.to_vec()),
        train: Points(train.to_vec()),
        delta,
    };
    match one_shot(job).await {
        Some(Done::Metrics(m)) => m,
        _ => dexp::metrics(p, fresh, train, delta),
    }
}

/// A long run hosted by a pool worker, or on the main thread where there is
/// none. Dropping it ends the run there.
pub struct Session {
    id: u64,
    /// Its worker and that worker's pool slot.
    worker: Option<(web_sys::Worker, usize)>,
}

thread_local! {
    static NEXT_SESSION: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
    /// The pool slot of each live session on a worker.
    static SESSION_SLOTS: RefCell<HashMap<u64, usize>> = RefCell::new(HashMap::new());
}

/// The pool slot a new session goes to: the one with the fewest live
/// sessions, counting slot 0's one-shot jobs (runs, comparisons, metrics)
/// as one, so that with two or more workers a live run never waits behind
/// a whole comparison run. With one worker (two cores) every session is on slot 0.
fn session_slot() -> usize {
    let k = pool_size();
    SESSION_SLOTS.with(|s| {
        let s = s.borrow();
        (0..k)
            .min_by_key(|&slot| usize::from(slot == 0) + s.values().filter(|&&v| v == slot).count())
            .unwrap_or(0)
    })
}

/// A job sent to a session: posted to its worker, or to run here when awaited.
enum Sent {
    Remote(Reply),
    Local(Job),
}

impl Session {
    /// A new session on pool slot `slot` (slot 0's worker where that slot's
    /// is down; the main thread where none runs).
    fn open(slot: usize) -> Self {
        let id = NEXT_SESSION.with(|n| {
            let id = n.get();
            n.set(id + 1);
            id
        });
        let worker = worker_at(slot)
            .map(|w| (w, slot))
            .or_else(|| worker().map(|w| (w, 0)));
        if let Some((_, slot)) = worker {
            SESSION_SLOTS.with(|s| s.borrow_mut().insert(id, slot));
        }
        Self { id, worker }
    }

    async fn start(job: Job) -> Result<(Self, Done), Fault> {
        let s = Self::open(session_slot());
        let done = s.call(job).await?;
        Ok((s, done))
    }

    async fn call(&self, job: Job) -> Result<Done, Fault> {
        self.receive(self.send(job)?).await
    }

    /// Posts `job` to the session's worker, so that several sessions' jobs
    /// run at once before any answer is awaited ([`Session::receive`]).
    fn send(&self, job: Job) -> Result<Sent, Fault> {
        match &self.worker {
            Some((w, slot)) => Ok(Sent::Remote(post_job(w, *slot, self.id, job)?)),
            None => Ok(Sent::Local(job)),
        }
    }

    /// The answer to a job [`Session::send`] sent.
    async fn receive(&self, sent: Sent) -> Result<Done, Fault> {
        match sent {
            Sent::Remote(rx) => answer(rx).await,
            Sent::Local(job) => host(self.id, job).await.map_err(Fault::Job),
        }
    }

    /// Whether the run is off the main thread.
    pub fn on_worker(&self) -> bool {
        self.worker.is_some()
    }

    /// Where the run computes, for the widget: "worker thread" or "main thread (why)".
    pub fn place(&self) -> String {
        if self.on_worker() {
            "worker thread".into()
        } else {
            match fault() {
                Some(why) => format!("main thread; no compute worker: {why}"),
                None => "main thread".into(),
            }
        }
    }

    /// How long one slice of work may take: on the main thread `main_ms` (a
    /// share of each frame); a worker blocks no frame, so it takes slices long
    /// enough that the round trips between them cost little (~85 % busy).
    pub fn slice_ms(&self, main_ms: f64) -> f64 {
        if self.on_worker() {
            WORKER_SLICE_MS
        } else {
            main_ms
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        SESSION_SLOTS.with(|s| s.borrow_mut().remove(&self.id));
        match &self.worker {
            Some((w, _)) => {
                let call = Call {
                    id: 0,
                    session: self.id,
                    job: Job::End,
                };
                if let Ok(v) = serde_wasm_bindgen::to_value(&call) {
                    let _ = w.post_message(&v);
                }
            }
            None => SESSIONS.with(|s| {
                s.borrow_mut().remove(&self.id);
            }),
        }
    }
}

fn unexpected(what: &str) -> Fault {
    Fault::Job(format!(
        "the compute worker answered something other than {what}"
    ))
}

/// The pool slots a run split into parts goes to (CPU diffusion's
/// particles, label smoothing's models; a run with fewer units takes the
/// first of them): the least busy slots (as [`session_slot`] counts them),
/// one per worker but one where the pool has two or more, so that slot 0's
/// one-shot comparison runs never hold up the parts, which advance in lockstep.
fn part_slots() -> Vec<usize> {
    let k = pool_size();
    let parts = if worker().is_none() {
        1
    } else {
        k.saturating_sub(1).max(1)
    };
    let mut slots: Vec<usize> = (0..k).collect();
    SESSION_SLOTS.with(|s| {
        let s = s.borrow();
        slots.sort_by_key(|&slot| {
            (
                usize::from(slot == 0) + s.values().filter(|&&v| v == slot).count(),
                slot,
            )
        });
    });
    slots.truncate(parts);
    slots
}

/// Opens a [`Session`] on each slot and sends it its start job; every start
/// is sent before any answer is awaited, so the parts start at once.
fn open_parts(
    starts: impl IntoIterator<Item = (usize, Job)>,
) -> Result<Vec<(Session, Sent)>, Fault> {
    starts
        .into_iter()
        .map(|(slot, job)| {
            let session = Session::open(slot);
            let sent = session.send(job)?;
            Ok((session, sent))
        })
        .collect()
}

/// Where a run split into `parts` parts computes, for the widget: "worker
/// thread", "k worker threads" or "main thread (why)"; `first` is its first
/// part (the only one on the main thread).
fn place_of_parts(first: &Session, parts: usize) -> String {
    match parts {
        1 => first.place(),
        k => format!("{k} worker threads"),
    }
}

/// One part of a [`DiffusionSession`]: its session, and what it answered
/// for the transition the run is completing (none yet: `None`).
struct DiffusionPart {
    session: Session,
    reached: RefCell<Option<Sampled>>,
}

/// A diffusion sampler on the CPU: the run's particles split in contiguous
/// ranges of whole blocks over the pool, one [`Sampling`] of a range per
/// part, each a [`Session`] on its own slot (one part on the main thread
/// where no worker runs). The parts advance in lockstep, one transition at
/// a time, and their particles join into those of one worker, bit for bit.
pub struct DiffusionSession {
    parts: Vec<DiffusionPart>,
    /// Transitions all parts have completed.
    shown: std::cell::Cell<usize>,
}

impl DiffusionSession {
    /// Starts sampling `cfg` (the CPU's particle cap applied) on `drawn`,
    /// with the model file of a shipped denoiser where the score needs one.
    pub async fn start(
        cfg: &DiffusionConfig,
        drawn: &PointSet,
        denoiser: Option<Vec<u8>>,
    ) -> Result<Self, Fault> {
        let n = cfg.n as usize;
        let slots = part_slots();
        let ranges = dexp::particle_parts(n, slots.len());
        let denoiser = denoiser.map(Bytes);
        #[allow(clippy::cast_possible_truncation)]
        let sent = open_parts(slots.into_iter().zip(ranges).map(|(slot, r)| {
            let job = Job::StartDiffusion {
                cfg: pairs(cfg),
                drawn: drawn.clone(),
                denoiser: denoiser.clone(),
                range: r.start as u32..r.end as u32,
            };
            (slot, job)
        }))?;
        let mut parts = Vec::with_capacity(sent.len());
        for (session, s) in sent {
            match session.receive(s).await? {
                Done::Started => parts.push(DiffusionPart {
                    session,
                    reached: RefCell::new(None),
                }),
                _ => return Err(unexpected("a started sampler")),
            }
        }
        Ok(Self {
            parts,
            shown: std::cell::Cell::new(0),
        })
    }

    /// Samples one step, or for `budget_ms` if that is sooner: every part
    /// still short of the next transition advances (all at once); once all
    /// have completed it, the answer joins their particles and timeline
    /// frames in order (else it says the step did not move).
    pub async fn sample(&self, budget_ms: f64) -> Result<Sampled, Fault> {
        let until = self.shown.get() + 1;
        let mut sent = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            if p.reached.borrow().is_none() {
                sent.push((p, p.session.send(Job::Sample { budget_ms, until })?));
            }
        }
        for (p, s) in sent {
            match p.session.receive(s).await? {
                Done::Sampled(a) if a.finished || a.step >= until => {
                    *p.reached.borrow_mut() = Some(a);
                }
                Done::Sampled(_) => {}
                _ => return Err(unexpected("particles")),
            }
        }
        if self.parts.iter().any(|p| p.reached.borrow().is_none()) {
            return Ok(Sampled {
                step: self.shown.get(),
                finished: false,
                particles: None,
                history: Vec::new(),
            });
        }
        Ok(self.join())
    }

    /// The run's frame once every part has answered the transition.
    fn join(&self) -> Sampled {
        let answers: Vec<Sampled> = self
            .parts
            .iter()
            .filter_map(|p| p.reached.borrow_mut().take())
            .collect();
        let step = answers.iter().map(|a| a.step).min().unwrap_or(0);
        self.shown.set(step);
        let mut particles = Vec::new();
        let mut frames: Vec<Vec<[f32; 2]>> = Vec::new();
        for a in answers.iter() {
            particles.extend_from_slice(a.particles.as_ref().map_or(&[][..], |p| &p.0));
            for (f, frame) in a.history.iter().enumerate() {
                if frames.len() <= f {
                    frames.push(Vec::new());
                }
                frames[f].extend_from_slice(&frame.0);
            }
        }
        Sampled {
            step,
            finished: answers.iter().all(|a| a.finished),
            particles: Some(Points(particles)),
            history: frames.into_iter().map(Points).collect(),
        }
    }

    /// Where the run computes ([`place_of_parts`]).
    pub fn place(&self) -> String {
        place_of_parts(&self.parts[0].session, self.parts.len())
    }

    /// How long one slice of work may take ([`Session::slice_ms`]).
    pub fn slice_ms(&self, main_ms: f64) -> f64 {
        self.parts[0].session.slice_ms(main_ms)
    }
}

/// One part of a [`LabelSmoothingSession`]: its session, its models
/// (indices into the config's kinds) and the step they have reached.
struct LabelSmoothingPart {
    session: Session,
    models: std::ops::Range<usize>,
    step: u32,
}

/// Label-smoothing training on the CPU ([`LabelSmoothingRun`]): the models
/// split over the pool (as [`part_slots`] picks the slots; one part on the
/// main thread where no worker runs), each part a [`Session`] training its
/// models. The models are independent, so the parts' models are the whole
/// run's; the parts are kept at the same step, and a snapshot joins their
/// models in order.
pub struct LabelSmoothingSession {
    parts: Vec<LabelSmoothingPart>,
    pub cfg: LabelSmoothingConfig,
}

impl LabelSmoothingSession {
    pub async fn start(cfg: &LabelSmoothingConfig) -> Result<(Self, TestSet), Fault> {
        #[allow(clippy::cast_possible_truncation)]
        let n = cfg.kinds().len() as u32;
        let slots = part_slots();
        let models = even_ranges(n, slots.len());
        let sent = open_parts(slots.into_iter().zip(&models).map(|(slot, m)| {
            let job = Job::StartLabelSmoothing {
                cfg: pairs(cfg),
                models: m.clone(),
            };
            (slot, job)
        }))?;
        let mut parts = Vec::with_capacity(models.len());
        let mut test = None;
        for ((session, s), models) in sent.into_iter().zip(models) {
            match session.receive(s).await? {
                Done::TestSet(t) => {
                    test.get_or_insert(t);
                    parts.push(LabelSmoothingPart {
                        session,
                        models: models.start as usize..models.end as usize,
                        step: 0,
                    });
                }
                _ => return Err(unexpected("a test set")),
            }
        }
        let session = Self {
            parts,
            cfg: cfg.clone(),
        };
        Ok((session, test.ok_or_else(|| unexpected("a test set"))?))
    }

    /// The step every part has reached.
    pub fn step(&self) -> u32 {
        self.parts.iter().map(|p| p.step).min().unwrap_or(0)
    }

    /// Where the run trains ([`place_of_parts`]).
    pub fn place(&self) -> String {
        place_of_parts(&self.parts[0].session, self.parts.len())
    }

    /// How long one slice of work may take ([`Session::slice_ms`]).
    pub fn slice_ms(&self, main_ms: f64) -> f64 {
        self.parts[0].session.slice_ms(main_ms)
    }

    /// Trains every part for about `budget_ms` (all at once), a part ahead
    /// of the others not at all and the others no further than it; returns
    /// the step every part has reached.
    pub async fn train(&mut self, budget_ms: f64) -> Result<u32, Fault> {
        let ahead = self.parts.iter().map(|p| p.step).max().unwrap_or(0);
        let until = if self.parts.iter().all(|p| p.step == ahead) {
            self.cfg.steps
        } else {
            ahead
        };
        let mut sent = Vec::with_capacity(self.parts.len());
        for (i, p) in self.parts.iter().enumerate() {
            if p.step < until {
                sent.push((i, p.session.send(Job::Train { budget_ms, until })?));
            }
        }
        for (i, s) in sent {
            match self.parts[i].session.receive(s).await? {
                Done::Trained(step) => self.parts[i].step = step,
                _ => return Err(unexpected("a step")),
            }
        }
        Ok(self.step())
    }

    /// Every model measured at the same step: parts behind the one ahead
    /// train up to it first, then the parts' models are joined in order.
    pub async fn snapshot(&mut self) -> Result<Snapshot, Fault> {
        while self.parts.iter().any(|p| p.step != self.parts[0].step) {
            self.train(WORKER_SLICE_MS).await?;
        }
        let sent = self
            .parts
            .iter()
            .map(|p| p.session.send(Job::Snapshot))
            .collect::<Result<Vec<_>, _>>()?;
        let mut joined: Option<Snapshot> = None;
        for (p, s) in self.parts.iter().zip(sent) {
            match p.session.receive(s).await? {
                Done::Snapshot(s) => match &mut joined {
                    Some(j) => j.models.extend(s.models),
                    None => joined = Some(*s),
                },
                _ => return Err(unexpected("a snapshot")),
            }
        }
        joined.ok_or_else(|| unexpected("a snapshot"))
    }

    /// Logits of model `model` at `points` (`len × 2` row-major).
    pub async fn predict(&self, model: usize, points: &[f32]) -> Result<Vec<f32>, Fault> {
        let Some(p) = self.parts.iter().find(|p| p.models.contains(&model)) else {
            return Err(Fault::Job(format!("there is no model {model}")));
        };
        let job = Job::Predict {
            model: model - p.models.start,
            points: points.to_vec(),
        };
        match p.session.receive(p.session.send(job)?).await? {
            Done::Logits(l) => Ok(l),
            _ => Err(unexpected("logits")),
        }
    }
}

/// zo's training race on the CPU ([`RaceRun`]) in a [`Session`].
pub struct RaceSession(pub Session);

impl RaceSession {
    /// Starts the race of `cfg`; returns its first frame.
    pub async fn start(cfg: &ZoConfig) -> Result<(Self, RaceFrame), Fault> {
        match Session::start(Job::StartRace(pairs(cfg))).await? {
            (s, Done::Race(f)) => Ok((Self(s), *f)),
            _ => Err(unexpected("a race frame")),
        }
    }

    /// Races for about `budget_ms`.
    pub async fn advance(&self, budget_ms: f64) -> Result<RaceFrame, Fault> {
        match self.0.call(Job::Race { budget_ms }).await? {
            Done::Race(f) => Ok(*f),
            _ => Err(unexpected("a race frame")),
        }
    }
}
