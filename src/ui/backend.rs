//! Which backend the page computes on: WebGPU when an adapter is granted and
//! the reader has not chosen the CPU, otherwise the CPU, always saying why.

use std::cell::RefCell;

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
}

thread_local! {
    // wgpu's web types are not Send, so the device lives outside the reactive graph.
    static GPU: RefCell<Option<Gpu>> = const { RefCell::new(None) };
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

/// Probes WebGPU once and provides [`BackendCtx`].
pub fn provide_backend() {
    let status = RwSignal::new(GpuStatus::Probing);
    provide_context(BackendCtx { status });
    spawn_local(async move {
        match Gpu::request().await {
            Ok(gpu) => {
                let summary = gpu.adapter.clone();
                gpu.on_device_lost(move |why| status.set(GpuStatus::Lost(why)));
                GPU.with(|g| *g.borrow_mut() = Some(gpu));
                status.set(GpuStatus::Ready(summary));
            }
            Err(e) => status.set(GpuStatus::Unavailable(e.0)),
        }
    });
}

/// Reports a GPU fault met mid-run: the page falls back to the CPU and says so.
pub fn report_gpu_fault(ctx: BackendCtx, err: &dyn std::fmt::Display) {
    GPU.with(|g| *g.borrow_mut() = None);
    ctx.status.set(GpuStatus::Lost(err.to_string()));
}

/// Debug hook for tests and curious readers: destroys the GPU device, so the
/// CPU fallback can be seen working (`window.wasmBindings.gradlab_lose_gpu()`).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn gradlab_lose_gpu() -> bool {
    GPU.with(|g| match g.borrow().as_ref() {
        Some(gpu) => {
            gpu.force_device_loss();
            true
        }
        None => false,
    })
}

/// Debug hook for tests: every later GPU kernel fails to compile, so the CPU
/// fallback for a broken pipeline can be seen working
/// (`window.wasmBindings.gradlab_break_shaders()`).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn gradlab_break_shaders() -> bool {
    GPU.with(|g| match g.borrow().as_ref() {
        Some(gpu) => {
            gpu.force_shader_errors();
            true
        }
        None => false,
    })
}

/// The reader's choice from the URL (`backend=cpu|gpu`); `None` is automatic.
pub fn use_requested_backend() -> Memo<Option<Backend>> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get_str("backend").and_then(|b| Backend::parse(b).ok())))
}

/// The backend experiments run on now.
pub fn use_active_backend() -> Memo<Backend> {
    let status = expect_context::<BackendCtx>().status;
    let requested = use_requested_backend();
    Memo::new(move |_| match (requested.get(), status.get()) {
        (Some(Backend::Cpu), _) => Backend::Cpu,
        (_, GpuStatus::Ready(_)) => Backend::Gpu,
        _ => Backend::Cpu,
    })
}

/// The header's badge and switch.
#[component]
pub fn BackendSwitch() -> impl IntoView {
    let status = expect_context::<BackendCtx>().status;
    let requested = use_requested_backend();
    let active = use_active_backend();
    let set_query = use_set_query();
    let badge = move || match (active.get(), status.get()) {
        (Backend::Gpu, GpuStatus::Ready(a)) => format!("WebGPU · {}", a.name),
        (_, GpuStatus::Probing) => "CPU (detecting WebGPU…)".to_string(),
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
