//! The label-smoothing widget's run state: where a run trains (the GPU
//! here, or the CPU in the compute worker), its bookkeeping, the (re)start
//! on every change, and the animation clock's one bounded job per tick.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::canvases::{Region, TestData, View};
use crate::experiments::Backend;
use crate::experiments::label_smoothing::{LabelSmoothingConfig, LabelSmoothingRun, Snapshot};
use crate::experiments::registry::{Compute, GpuError};
use crate::ui::backend::{BackendCtx, gpu_compute, record_computed, report_gpu_fault};
use crate::ui::worker::{Fault, LabelSmoothingSession};

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

/// What one tick does, besides nothing.
enum Job {
    Snapshot,
    Region(usize),
    Train,
}

impl Runner {
    /// The job due at step `at` and time `now`; `None` once finished and
    /// every panel shows the last step.
    fn next_job(&self, at: u32, now: f64) -> Option<Job> {
        let done = at >= self.run.cfg().steps;
        let models = self.region_steps.len();
        let snap_due = self.snapped_step != Some(at)
            && (done || self.snapped_step.is_none() || now - self.snapped_at >= SNAPSHOT_MS);
        let region_due = (0..models)
            .map(|i| (self.region_next + i) % models)
            .find(|&i| self.region_steps[i] != Some(at))
            .filter(|_| done || now - self.region_at >= REGION_MS);
        if snap_due {
            Some(Job::Snapshot)
        } else if let Some(i) = region_due {
            Some(Job::Region(i))
        } else if !done {
            Some(Job::Train)
        } else {
            None
        }
    }
}

/// The signals and stored values of a run, shared by its start, its clock and the page.
#[derive(Clone, Copy)]
pub(super) struct RunState {
    ctx: BackendCtx,
    runner: StoredValue<Option<Runner>, LocalStorage>,
    generation: StoredValue<u64>,
    pub(super) playing: RwSignal<bool>,
    pub(super) restarts: RwSignal<u32>,
    pub(super) step: RwSignal<u32>,
    pub(super) computed_on: RwSignal<Option<Backend>>,
    pub(super) snap: RwSignal<Option<Arc<Snapshot>>>,
    pub(super) diverged: RwSignal<Option<String>>,
    pub(super) regions: RwSignal<Vec<Option<Arc<Region>>>>,
    pub(super) test_data: RwSignal<Option<Arc<TestData>>>,
    pub(super) example: RwSignal<usize>,
    /// Where the CPU trains: the compute worker or the main thread, and why.
    pub(super) thread: RwSignal<Option<String>>,
}

impl RunState {
    /// No run yet, playing.
    pub(super) fn new(ctx: BackendCtx) -> Self {
        Self {
            ctx,
            runner: StoredValue::new_local(None::<Runner>),
            generation: StoredValue::new(0u64),
            playing: RwSignal::new(true),
            restarts: RwSignal::new(0u32),
            step: RwSignal::new(0u32),
            computed_on: RwSignal::new(None::<Backend>),
            snap: RwSignal::new(None::<Arc<Snapshot>>),
            diverged: RwSignal::new(None::<String>),
            regions: RwSignal::new(Vec::<Option<Arc<Region>>>::new()),
            test_data: RwSignal::new(None::<Arc<TestData>>),
            example: RwSignal::new(0usize),
            thread: RwSignal::new(None::<String>),
        }
    }

    /// A job failed: on the GPU the page falls back to the CPU; where the
    /// compute worker stopped, the run starts again (on the main thread);
    /// otherwise the run pauses and says why.
    fn fail(self, f: Failure) {
        match f {
            Failure::Gpu(e) => report_gpu_fault(self.ctx, &e),
            Failure::Cpu(Fault::WorkerStopped(_)) => self.restarts.update(|r| *r += 1),
            Failure::Cpu(Fault::Job(why)) => {
                self.playing.set(false);
                self.diverged.set(Some(format!("Training stopped: {why}")));
            }
        }
    }

    /// Puts a runner back after async work, unless a newer run replaced it.
    fn put_back(self, this: u64, r: Runner) {
        if self.current(this) {
            self.step.set(r.run.step());
            record_computed(r.run.backend());
            self.runner.set_value(Some(r));
        }
    }

    /// Whether run `this` is still the latest (the widget may be gone, too).
    fn current(self, this: u64) -> bool {
        self.generation.try_get_value() == Some(this)
    }

    /// (Re)start whenever the config, the backend or Restart changes: latest config wins.
    pub(super) fn restart_on_change(self, cfg: Memo<LabelSmoothingConfig>, backend: Memo<Backend>) {
        Effect::new(move |_| {
            let c = cfg.get();
            let b = backend.get();
            self.restarts.track();
            let this = self.generation.get_value() + 1;
            self.generation.set_value(this);
            self.runner.set_value(None);
            self.snap.set(None);
            self.diverged.set(None);
            self.step.set(0);
            self.regions.set(vec![None; c.kinds().len()]);
            self.computed_on.set(None);
            let gpu = (b == Backend::Gpu).then(gpu_compute).flatten();
            spawn_local(self.start(this, c, gpu));
        });
    }

    /// Starts run `this` on the GPU (`gpu`) or the CPU, then shows its test set.
    async fn start(self, this: u64, c: LabelSmoothingConfig, gpu: Option<Compute>) {
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
                    self.thread.set(Some(session.place()));
                    (Engine::Cpu(session), (t.x, t.y))
                })
                .map_err(Failure::Cpu),
        };
        if !self.current(this) {
            return;
        }
        let (run, (x, y)) = match started {
            Ok(s) => s,
            Err(f) => return self.fail(f),
        };
        let view = View::of(&x);
        let n = y.len();
        self.test_data.set(Some(Arc::new(TestData { x, y, view })));
        self.example.update(|e| {
            if *e >= n {
                *e = 0;
            }
        });
        let side = if run.backend() == Backend::Gpu {
            GRID_GPU
        } else {
            GRID_CPU
        };
        self.computed_on.set(Some(run.backend()));
        let models = run.cfg().kinds().len();
        self.runner.set_value(Some(Runner {
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
    }

    /// The animation clock: one bounded job per tick, nothing while paused or hidden.
    pub(super) fn drive(self) {
        crate::ui::animation_clock(self.playing, TICK_MS, move || self.tick());
    }

    /// One tick: takes the runner and starts the job due, which puts it back.
    fn tick(self) {
        let this = self.generation.get_value();
        let mut taken = None;
        self.runner.update_value(|r| taken = r.take());
        let Some(r) = taken else { return };
        let now = crate::ui::now_ms();
        let at = r.run.step();
        let Some(job) = r.next_job(at, now) else {
            // Finished: every panel shows the last step.
            self.runner.set_value(Some(r));
            return;
        };
        let gpu = matches!(r.run, Engine::Gpu(_));
        match job {
            Job::Snapshot => spawn_local(self.snapshot(this, r)),
            Job::Region(i) => spawn_local(self.region(this, r, i, at)),
            Job::Train if gpu => self.train_gpu(this, r),
            Job::Train => spawn_local(self.train_cpu(this, r)),
        }
    }

    /// Reads back a snapshot, and pauses the run if a model diverged.
    async fn snapshot(self, this: u64, mut r: Runner) {
        let s = r.run.snapshot().await;
        if !self.current(this) {
            return;
        }
        match s {
            Ok(s) => {
                r.snapped_at = crate::ui::now_ms();
                r.snapped_step = Some(s.step);
                if let Some(m) = s.models.iter().find(|m| !m.nll.is_finite()) {
                    self.playing.set(false);
                    self.diverged.set(Some(format!(
                            "The {} model diverged at step {} (its loss is no longer a finite number). Lower the learning rate, or press Reset.",
                            m.kind.as_str(),
                            s.step
                        )));
                }
                self.snap.set(Some(Arc::new(s)));
                self.put_back(this, r);
            }
            Err(f) => self.fail(f),
        }
    }

    /// Computes model `i`'s decision regions at step `at`.
    async fn region(self, this: u64, mut r: Runner, i: usize, at: u32) {
        let models = r.region_steps.len();
        let grid = std::mem::take(&mut r.grid);
        let logits = r.run.predict(i, &grid).await;
        r.grid = grid;
        if !self.current(this) {
            return;
        }
        match logits {
            Ok(l) => {
                let classes = r.run.cfg().dataset.classes();
                let region = Region::of(&l, classes, r.side, at);
                r.region_steps[i] = Some(at);
                r.region_next = (i + 1) % models;
                r.region_at = crate::ui::now_ms();
                self.regions.update(|v| {
                    if i < v.len() {
                        v[i] = Some(Arc::new(region));
                    }
                });
                self.put_back(this, r);
            }
            Err(f) => self.fail(f),
        }
    }

    /// Submits a batch of GPU steps, waits for the device and adapts the batch.
    fn train_gpu(self, this: u64, mut r: Runner) {
        let n = r.gpu_batch;
        let start = crate::ui::now_ms();
        if let Engine::Gpu(run) = &mut r.run
            && let Err(e) = run.train_steps(n)
        {
            report_gpu_fault(self.ctx, &e);
            return;
        }
        // Wait for the device (a one-point read-back) before the next
        // submission, so queued work stays bounded; adapt the batch.
        spawn_local(async move {
            let fence = r.run.predict(0, &[0.0, 0.0]).await;
            if !self.current(this) {
                return;
            }
            match fence {
                Ok(_) => {
                    let took = crate::ui::now_ms() - start;
                    // Aim at ~40 ms per submission, changing by at most 2× at a time.
                    let per_step = (took / f64::from(n)).max(0.01);
                    let want = (40.0 / per_step) as u32;
                    r.gpu_batch = want.clamp(
                        (r.gpu_batch / 2).max(GPU_BATCH.1),
                        (r.gpu_batch * 2).min(GPU_BATCH.2),
                    );
                    self.put_back(this, r);
                }
                Err(f) => self.fail(f),
            }
        });
    }

    /// Trains on the CPU for one slice.
    async fn train_cpu(self, this: u64, mut r: Runner) {
        let Engine::Cpu(session) = &mut r.run else {
            return;
        };
        let trained = session.train(session.slice_ms(CPU_TICK_MS)).await;
        if !self.current(this) {
            return;
        }
        match trained {
            Ok(_) => self.put_back(this, r),
            Err(f) => self.fail(Failure::Cpu(f)),
        }
    }
}
