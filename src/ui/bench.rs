//! `/bench`: the kernels of `gradlab bench`, timed in this browser — as
//! WebAssembly on the CPU and on WebGPU — with the same JSON fields.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::backend::{BackendCtx, GpuStatus, gpu_compute};
use super::{now_ms, yield_to_browser};
use crate::experiments::bench::{BenchReport, time};
use crate::experiments::registry::{Compute, REGISTRY, RunError};

/// Every workload of every experiment at its default size, on the CPU and
/// (when WebGPU is up) on the GPU, one row each as it finishes.
async fn run_all(gpu: Option<Compute>, rows: RwSignal<Vec<BenchReport>>) -> Result<(), RunError> {
    let places: Vec<Compute> = std::iter::once(Compute::Cpu).chain(gpu).collect();
    for e in REGISTRY {
        for w in e.workloads() {
            for on in &places {
                let backend = on.backend();
                let mut bench = (w.prepare)(&[], on.clone())?.await?;
                let ms = time(bench.as_mut(), &now_ms, yield_to_browser).await?;
                let name = bench.label().unwrap_or(w.name);
                rows.update(|r| r.push(BenchReport::new(name, backend, bench.items(), ms)));
                yield_to_browser().await;
            }
        }
    }
    Ok(())
}

#[component]
pub fn BenchPage() -> impl IntoView {
    let status = expect_context::<BackendCtx>().status;
    let rows = RwSignal::new(Vec::<BenchReport>::new());
    let state = RwSignal::new("waiting for the backend probe…".to_string());
    let started = StoredValue::new(false);
    Effect::new(move |_| {
        let s = status.get();
        if matches!(s, GpuStatus::Probing) || started.get_value() {
            return;
        }
        started.set_value(true);
        state.set("running…".into());
        spawn_local(async move {
            let gpu = gpu_compute();
            let on_gpu = gpu.is_some();
            let result = run_all(gpu, rows).await;
            state.set(match (result, on_gpu) {
                (Ok(()), true) => "done (wasm CPU and WebGPU)".into(),
                (Ok(()), false) => "done (wasm CPU only: WebGPU unavailable)".into(),
                (Err(e), _) => format!("stopped: {e}"),
            });
        });
    });
    view! {
        <article class="prose wide">
            <h1>"Benchmarks in this browser"</h1>
            <p>
                "The kernels of " <code>"gradlab bench"</code>
                ", timed here: the CPU rows are this page's WebAssembly (with SIMD128), the GPU rows are WebGPU including the read-back that a widget waits for. Each figure is the mean over at least three calls and about half a second, after one warm-up: the workloads and the timing loop of the CLI, run here."
            </p>
            <p data-testid="bench-status">{move || state.get()}</p>
            <table
                class="moments selftest-table"
                data-testid="bench-table"
                data-json=move || serde_json::to_string(&rows.get()).unwrap_or_default()
            >
                <thead>
                    <tr>
                        <th scope="col">"kernel"</th>
                        <th scope="col">"backend"</th>
                        <th scope="col">"size"</th>
                        <th scope="col">"items / s"</th>
                        <th scope="col">"ms / iter"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        rows.get()
                            .into_iter()
                            .map(|r| {
                                view! {
                                    <tr>
                                        <th scope="row">{r.kernel}</th>
                                        <td>{r.backend.as_str()}</td>
                                        <td>{r.size}</td>
                                        <td>{format!("{:.3e}", r.items_per_s)}</td>
                                        <td>{format!("{:.2}", r.ms_per_iter)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
        </article>
    }
}
