//! Which backend the page computes on: WebGPU when an adapter is granted,
//! the reader has not chosen the CPU and (on Auto) a quick calibration finds
//! it faster than the CPU for the experiment at hand; otherwise the CPU,
//! always saying why.

use std::cell::RefCell;
use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

use super::query::use_set_query;
use crate::experiments::Backend;
use crate::experiments::config::Param;
use crate::experiments::registry::{Compute, Experiment, RunError};
use crate::gpu::{AdapterSummary, Gpu};

/// What the page knows about WebGPU.
#[derive(Debug, Clone, PartialEq)]
pub enum GpuStatus {
    Probing,
    Ready(AdapterSummary),
    Unavailable(String),
    Lost(String),
}

/// The app-wide GPU status, provided as context by [`provide_backend`].
#[derive(Clone, Copy)]
pub struct BackendCtx {
    pub status: RwSignal<GpuStatus>,
    /// Where the widget last computed a result it shows, and how many it
    /// has shown: `<main data-computed-on data-computed>`, read by
    /// e2e/faults.spec.mjs for every experiment (see [`record_computed`]).
    pub computed: Computed,
    /// Auto's calibration of WebGPU against the CPU, per experiment id.
    pub calibrations: RwSignal<HashMap<&'static str, Calibration>>,
    /// The experiment whose widget is shown (the header's badge speaks of it).
    pub at_hand: RwSignal<Option<&'static str>>,
    /// Calibrate a software adapter too ([`gradlab_calibrate_software_adapter`]).
    pub calibrate_software: RwSignal<bool>,
}

/// Auto's quick calibration for one experiment: its first bench workload at
/// its default size, timed on WebGPU (here) and on the CPU (in the compute
/// worker), one warm-up and two iterations each.
#[derive(Debug, Clone, PartialEq)]
pub enum Calibration {
    Running,
    Timed {
        workload: &'static str,
        gpu_ms: f64,
        cpu_ms: f64,
    },
    /// The workload failed on WebGPU: Auto computes on the CPU.
    GpuFailed(String),
    /// The CPU side could not be timed (no compute worker): Auto keeps
    /// WebGPU, the hardware adapter it would have picked without calibrating.
    CpuUntimed(String),
}

impl Calibration {
    /// Whether Auto computes on WebGPU after this calibration.
    fn picks_gpu(&self) -> bool {
        match self {
            Calibration::Running | Calibration::GpuFailed(_) => false,
            Calibration::Timed { gpu_ms, cpu_ms, .. } => gpu_ms < cpu_ms,
            Calibration::CpuUntimed(_) => true,
        }
    }
}

/// Where results were last computed, and how many have been shown.
pub type Computed = RwSignal<(Option<Backend>, u64)>;

/// Fault hooks called before the device exists, applied when it is created.
#[derive(Default, Clone, Copy)]
struct Pending {
    lose: bool,
    break_shaders: bool,
}

thread_local! {
    // wgpu's web types are not Send, so the device lives outside the reactive graph.
    static GPU: RefCell<Option<Gpu>> = const { RefCell::new(None) };
    /// Whether the adapter probe is still running (a device may yet come).
    static PROBING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static PENDING: std::cell::Cell<Pending> = std::cell::Cell::new(Pending::default());
    static COMPUTED: std::cell::Cell<Option<Computed>> = const { std::cell::Cell::new(None) };
    static CALIBRATE_SOFTWARE: std::cell::Cell<Option<RwSignal<bool>>> = const { std::cell::Cell::new(None) };
}

/// Records that the widget now shows a result computed on `on`; every widget
/// calls it when a result arrives, so fault tests need no widget-specific code.
pub fn record_computed(on: Backend) {
    let Some(computed) = COMPUTED.with(std::cell::Cell::get) else {
        return;
    };
    computed.try_update(|(b, n)| {
        *b = Some(on);
        *n += 1;
    });
}

/// The shared device, while it is usable.
pub fn shared_gpu() -> Option<Gpu> {
    GPU.with(|g| g.borrow().clone()).filter(|g| !g.is_lost())
}

/// The GPU as a place to compute, while the device is usable: the one
/// place the page turns its backend state into a [`Compute`].
pub fn gpu_compute() -> Option<Compute> {
    shared_gpu().map(Compute::Gpu)
}

/// Runs experiment `E` where the page computes, chosen here once for every
/// widget: on the GPU when `backend` asks for it and the device is usable;
/// otherwise on the CPU with the config bounded for the page
/// ([`Experiment::page_cpu_config`]), in the compute worker (or, without
/// one, on the main thread). Returns the report, the config it ran and where.
pub async fn run_here<E: Experiment>(
    cfg: &E::Config,
    backend: Backend,
) -> Result<(E::Report, E::Config, Backend), RunError> {
    if backend == Backend::Gpu
        && let Some(on) = gpu_compute()
    {
        return Ok((E::run(cfg, &on).await?, cfg.clone(), Backend::Gpu));
    }
    let cfg = E::page_cpu_config(cfg);
    Ok((super::worker::run::<E>(&cfg).await?, cfg, Backend::Cpu))
}

/// Probes WebGPU once and provides [`BackendCtx`]. Fault hooks called
/// while it probes are applied to the device it makes, before any widget
/// can use it.
pub fn provide_backend() {
    let status = RwSignal::new(GpuStatus::Probing);
    let ctx = BackendCtx {
        status,
        computed: RwSignal::new((None, 0)),
        calibrations: RwSignal::new(HashMap::new()),
        at_hand: RwSignal::new(None),
        calibrate_software: RwSignal::new(false),
    };
    provide_context(ctx);
    COMPUTED.with(|c| c.set(Some(ctx.computed)));
    CALIBRATE_SOFTWARE.with(|c| c.set(Some(ctx.calibrate_software)));
    PROBING.with(|p| p.set(true));
    spawn_local(async move {
        let probed = Gpu::request().await;
        PROBING.with(|p| p.set(false));
        match probed {
            Ok(gpu) => {
                let summary = gpu.adapter.clone();
                gpu.on_device_lost(move |why| status.set(GpuStatus::Lost(why)));
                let pending = PENDING.with(|p| p.take());
                if pending.break_shaders {
                    gpu.force_shader_errors();
                }
                if pending.lose {
                    gpu.force_device_loss();
                    status.set(GpuStatus::Lost("lost by gradlab_lose_gpu()".into()));
                    return;
                }
                GPU.with(|g| *g.borrow_mut() = Some(gpu));
                status.set(GpuStatus::Ready(summary));
            }
            Err(e) => status.set(GpuStatus::Unavailable(e.0)),
        }
    });
}

/// Applies a fault hook to the device: now if it exists (`true`), when the
/// probe makes it if it is still probing (`true`), else `false` (no device
/// is or will be in use: WebGPU is unavailable or already lost).
fn fault_hook(now: impl FnOnce(&Gpu), later: impl FnOnce(&mut Pending)) -> bool {
    let applied = GPU.with(|g| g.borrow().as_ref().map(now)).is_some();
    if applied {
        return true;
    }
    if PROBING.with(std::cell::Cell::get) {
        PENDING.with(|p| {
            let mut v = p.get();
            later(&mut v);
            p.set(v);
        });
        return true;
    }
    false
}

/// Reports a GPU fault met mid-run: the page falls back to the CPU and says so.
pub fn report_gpu_fault(ctx: BackendCtx, err: &dyn std::fmt::Display) {
    GPU.with(|g| *g.borrow_mut() = None);
    ctx.status.set(GpuStatus::Lost(err.to_string()));
}

/// Debug hook for tests and curious readers: destroys the GPU device the
/// page uses (or, called during start-up, the one it is about to use), so
/// the CPU fallback can be seen working (`window.wasmBindings.gradlab_lose_gpu()`).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn gradlab_lose_gpu() -> bool {
    fault_hook(|g| g.force_device_loss(), |p| p.lose = true)
}

/// Debug hook for tests: every later GPU kernel fails to compile on the
/// device the page uses (or, during start-up, the one it is about to use),
/// so the CPU fallback for a broken pipeline can be seen working
/// (`window.wasmBindings.gradlab_break_shaders()`).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn gradlab_break_shaders() -> bool {
    fault_hook(|g| g.force_shader_errors(), |p| p.break_shaders = true)
}

/// Where the reader's own choice of backend is remembered on this site
/// (choosing "Auto" forgets it), so a reader who forces WebGPU on a software
/// adapter keeps it; a `backend=` in the URL always wins.
const PREFERENCE: &str = "gradlab.backend";

fn preference_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The remembered choice, if any (an unreadable value is no choice).
fn stored_preference() -> Option<Backend> {
    let item = preference_storage()?
        .get_item(&super::storage_key(PREFERENCE))
        .ok()??;
    Backend::parse(&item).ok()
}

/// Remembers the reader's choice (`None`: Auto, forget it). Storage may be
/// unavailable (private mode, an opaque origin): the URL still carries it.
fn store_preference(choice: Option<Backend>) {
    let Some(storage) = preference_storage() else {
        return;
    };
    let key = super::storage_key(PREFERENCE);
    let _ = match choice {
        Some(b) => storage.set_item(&key, b.as_str()),
        None => storage.remove_item(&key),
    };
}

/// The reader's choice: the URL's `backend=cpu|gpu`, else the one they last
/// made on this site; `None` is automatic.
pub fn use_requested_backend() -> Memo<Option<Backend>> {
    let query = use_query_map();
    Memo::new(move |_| {
        query
            .with(|q| q.get_str("backend").and_then(|b| Backend::parse(b).ok()))
            .or_else(stored_preference)
    })
}

/// Debug hook for tests: Auto calibrates a software adapter as it would a
/// hardware one, instead of passing over it (e2e/shell.spec.mjs sees the
/// calibration run on SwiftShader; `window.wasmBindings.gradlab_calibrate_software_adapter()`).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn gradlab_calibrate_software_adapter() -> bool {
    CALIBRATE_SOFTWARE
        .with(std::cell::Cell::get)
        .is_some_and(|s| s.try_set(true).is_none())
}

/// Whether Auto calibrates this adapter: not a software (fallback) adapter,
/// which is slower than the wasm CPU for every kernel here, unless a test asks.
fn auto_calibrates(ctx: BackendCtx, adapter: &AdapterSummary) -> bool {
    !adapter.is_software() || ctx.calibrate_software.get()
}

/// Auto's choice on a granted adapter for experiment `id` (`None`: no
/// experiment is shown, and a hardware adapter is taken).
fn auto_picks_gpu(ctx: BackendCtx, adapter: &AdapterSummary, id: Option<&'static str>) -> bool {
    if !auto_calibrates(ctx, adapter) {
        return false;
    }
    let Some(id) = id else { return true };
    ctx.calibrations
        .with(|c| c.get(id).is_some_and(Calibration::picks_gpu))
}

/// Times experiment `id`'s first bench workload on WebGPU and on the CPU.
async fn calibrate(id: &'static str) -> Calibration {
    let Some(w) = crate::experiments::registry::find(id).and_then(|e| e.workloads().first()) else {
        return Calibration::CpuUntimed(format!("{id} has no bench workload"));
    };
    let Some(gpu) = gpu_compute() else {
        return Calibration::GpuFailed("the device is gone".into());
    };
    let gpu_ms = async {
        let mut bench = (w.prepare)(&[], gpu)?.await?;
        Ok::<_, RunError>(
            crate::experiments::bench::time_quick(
                bench.as_mut(),
                &super::now_ms,
                super::yield_to_browser,
            )
            .await?,
        )
    };
    let gpu_ms = match gpu_ms.await {
        Ok(ms) => ms,
        Err(e) => return Calibration::GpuFailed(e.to_string()),
    };
    match super::worker::calibrate_cpu(w.name).await {
        Some(Ok(cpu_ms)) => Calibration::Timed {
            workload: w.name,
            gpu_ms,
            cpu_ms,
        },
        Some(Err(why)) => Calibration::CpuUntimed(why),
        None => Calibration::CpuUntimed("no compute worker to time the CPU in".into()),
    }
}

/// The backend experiment `id`'s widget runs on now. On Auto with a
/// hardware adapter it is the CPU until the experiment's calibration (run
/// once per page) finds WebGPU faster.
pub fn use_active_backend(id: &'static str) -> Memo<Backend> {
    let ctx = expect_context::<BackendCtx>();
    let requested = use_requested_backend();
    ctx.at_hand.set(Some(id));
    on_cleanup(move || {
        ctx.at_hand.try_update(|a| {
            if *a == Some(id) {
                *a = None;
            }
        });
    });
    Effect::new(move |_| {
        let GpuStatus::Ready(a) = ctx.status.get() else {
            return;
        };
        if requested.get().is_some()
            || !auto_calibrates(ctx, &a)
            || ctx.calibrations.with_untracked(|c| c.contains_key(id))
        {
            return;
        }
        ctx.calibrations.update(|c| {
            c.insert(id, Calibration::Running);
        });
        spawn_local(async move {
            let done = calibrate(id).await;
            ctx.calibrations.try_update(|c| c.insert(id, done));
        });
    });
    Memo::new(move |_| active_backend(ctx, requested.get(), Some(id)))
}

/// Where experiment `id` (`None`: none shown) computes, given the reader's choice.
fn active_backend(
    ctx: BackendCtx,
    requested: Option<Backend>,
    id: Option<&'static str>,
) -> Backend {
    match (requested, ctx.status.get()) {
        (Some(Backend::Gpu), GpuStatus::Ready(_)) => Backend::Gpu,
        (None, GpuStatus::Ready(a)) if auto_picks_gpu(ctx, &a, id) => Backend::Gpu,
        _ => Backend::Cpu,
    }
}

/// What the badge says of Auto's calibration on `adapter` (`None`: nothing to say).
fn calibration_note(adapter: &AdapterSummary, c: &Calibration) -> Option<String> {
    let name = &adapter.name;
    match c {
        Calibration::Running => Some(format!("CPU (timing WebGPU on {name} against the CPU…)")),
        Calibration::Timed {
            workload,
            gpu_ms,
            cpu_ms,
        } if !c.picks_gpu() => Some(format!(
            "CPU (WebGPU slower here: {gpu_ms:.1} ms against {cpu_ms:.1} ms per {workload} iteration on {name})"
        )),
        Calibration::GpuFailed(why) => Some(format!(
            "CPU (this experiment's kernel failed on WebGPU, {name}: {why})"
        )),
        _ => None,
    }
}

/// The header's badge and switch.
#[component]
pub fn BackendSwitch() -> impl IntoView {
    let ctx = expect_context::<BackendCtx>();
    let status = ctx.status;
    let requested = use_requested_backend();
    let set_query = use_set_query();
    // The experiment at hand's calibration, if Auto ran one.
    let calibration = move || {
        let id = ctx.at_hand.get()?;
        ctx.calibrations.with(|c| c.get(id).cloned())
    };
    let active = Memo::new(move |_| active_backend(ctx, requested.get(), ctx.at_hand.get()));
    // On Auto, what its calibration of the experiment at hand says, if anything.
    let auto_note = move |a: &AdapterSummary| {
        requested
            .get()
            .is_none()
            .then(calibration)
            .flatten()
            .and_then(|c| calibration_note(a, &c))
    };
    let badge = move || match (active.get(), status.get()) {
        (Backend::Gpu, GpuStatus::Ready(a)) => format!("WebGPU · {}", a.name),
        (_, GpuStatus::Probing) => crate::site::BADGE_PROBING.to_string(),
        // Auto passed over a software adapter without calibrating it.
        (_, GpuStatus::Ready(a)) if requested.get().is_none() && !auto_calibrates(ctx, &a) => {
            "CPU (WebGPU available: software adapter, slower than the CPU here)".to_string()
        }
        (_, GpuStatus::Ready(a)) if auto_note(&a).is_some() => auto_note(&a).unwrap_or_default(),
        (_, GpuStatus::Ready(a)) => format!("CPU (chosen; WebGPU available: {})", a.name),
        (_, GpuStatus::Unavailable(why)) => format!("CPU (WebGPU unavailable: {why})"),
        (_, GpuStatus::Lost(why)) => format!("CPU (WebGPU lost, continuing on the CPU: {why})"),
    };
    let gpu_ready = move || matches!(status.get(), GpuStatus::Ready(_));
    let value = move || match requested.get() {
        None => "auto",
        Some(b) => b.as_str(),
    };
    view! {
        <div class="backend">
            <span
                class="badge"
                class:gpu=move || active.get() == Backend::Gpu
                data-testid="backend-badge"
                data-calibration=move || match calibration() {
                    Some(Calibration::Timed { workload, gpu_ms, cpu_ms }) => {
                        format!("{workload} {gpu_ms} {cpu_ms}")
                    }
                    Some(c) => format!("{c:?}"),
                    None => String::new(),
                }
                title=badge
            >
                {badge}
            </span>
            <label class="sr-only" for="backend-select">"Compute backend"</label>
            <select
                id="backend-select"
                prop:value=value
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    store_preference(Backend::parse(&v).ok());
                    set_query(&[("backend", if v == "auto" { None } else { Some(v) })]);
                }
            >
                <option value="auto">"Auto"</option>
                <option value="gpu" disabled=move || !gpu_ready()>"GPU"</option>
                <option value="cpu">"CPU"</option>
            </select>
        </div>
    }
}
