//! `/bench`: the kernels of `gradlab bench`, timed in this browser — as
//! WebAssembly on the CPU and on WebGPU — with the same JSON fields.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::backend::{BackendCtx, GpuStatus, shared_gpu};
use super::now_ms as now;
use crate::experiments::Backend;
use crate::experiments::clipping::{ClippingConfig, METHODS};
use crate::gpu::gumbel::GumbelMoments;
use crate::gpu::mlp::MlpGpu;
use crate::gpu::rng::RngFill;
use crate::gpu::robust::RobustRuns;
use crate::gpu::{Gpu, GpuError};
use crate::kernels::gumbel::{self as gk, GUMBEL_STREAM, Problem};
use crate::kernels::mlp::{self, Activation, AdamConfig, AdamState, Loss, MlpSpec, Targets};
use crate::kernels::rng::{self, RngKey};
use crate::kernels::robust;

/// One row: the fields `gradlab bench` prints.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct Row {
    kernel: &'static str,
    backend: Backend,
    size: u32,
    items_per_s: f64,
    ms_per_iter: f64,
}

/// Lets the page paint between measurements.
async fn yield_to_browser() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Mean ms per call over at least 3 calls and about 300 ms, after one warm-up.
async fn time_async<F, Fut>(mut f: F) -> Result<f64, GpuError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), GpuError>>,
{
    f().await?;
    let start = now();
    let mut n = 0u32;
    while n < 3 || (now() - start < 300.0 && n < 200) {
        f().await?;
        n += 1;
    }
    Ok((now() - start) / f64::from(n))
}

fn row(kernel: &'static str, backend: Backend, size: u32, ms: f64) -> Row {
    Row {
        kernel,
        backend,
        size,
        items_per_s: f64::from(size) / (ms / 1e3),
        ms_per_iter: ms,
    }
}

fn mlp_spec(output: usize) -> MlpSpec {
    MlpSpec::for_2d_points(&[128, 128], output, Activation::Relu)
}

// The RefCells let the timing closures reuse one model; the page is single-threaded
// and nothing else borrows them while a measurement awaits the GPU.
#[allow(clippy::await_holding_refcell_ref)]
async fn run_all(gpu: Option<&Gpu>, rows: RwSignal<Vec<Row>>) -> Result<(), GpuError> {
    let key = RngKey::new(1, 0);
    let push = |r: Row| rows.update(|v| v.push(r));
    let backends: Vec<Backend> = if gpu.is_some() {
        vec![Backend::Cpu, Backend::Gpu]
    } else {
        vec![Backend::Cpu]
    };
    for &b in &backends {
        // rng: 2^20 draws of all four variates.
        let n = 1u32 << 20;
        let ms = match (b, gpu) {
            (Backend::Gpu, Some(g)) => {
                let fill = RngFill::new(g).await?;
                time_async(|| async { fill.draw(g, key, 0, n).await.map(|_| ()) }).await?
            }
            _ => {
                time_async(|| async {
                    std::hint::black_box(rng::draw(key, 0, n));
                    Ok(())
                })
                .await?
            }
        };
        push(row("rng", b, n, ms));
        yield_to_browser().await;

        // gumbel: moments of all five estimators, K = 4.
        let n = 1u32 << 20;
        let p = Problem::new(&[0.5, 1.0, -1.0, 2.0], &[1.0, 2.0, 3.0, 4.0], 0.5);
        let gkey = RngKey::new(1, GUMBEL_STREAM);
        let ms = match (b, gpu) {
            (Backend::Gpu, Some(g)) => {
                let k = GumbelMoments::new(g).await?;
                let problems = [p.clone()];
                time_async(|| async { k.sums(g, &problems, gkey, 0, n).await.map(|_| ()) }).await?
            }
            _ => {
                time_async(|| async {
                    std::hint::black_box(gk::moment_sums(&p, gkey, 0, n));
                    Ok(())
                })
                .await?
            }
        };
        push(row("gumbel", b, n, ms));
        yield_to_browser().await;

        // mlp-forward: 2→128→128→2 on 65,536 points (upload, forward, read-back on the GPU).
        let n = 65_536u32;
        let spec = mlp_spec(2);
        let params = mlp::init_params(&spec, 1);
        let x: Vec<f32> = (0..2 * n).map(|i| key.normal_at(i)).collect();
        let f = mlp::featurize(&spec, &x, None, None);
        let ms = match (b, gpu) {
            (Backend::Gpu, Some(g)) => {
                let model = std::cell::RefCell::new(MlpGpu::new(g, &spec, &params).await?);
                let flat = f.as_slice().expect("contiguous");
                time_async(|| async { model.borrow_mut().predict(g, flat).await.map(|_| ()) })
                    .await?
            }
            _ => {
                time_async(|| async {
                    std::hint::black_box(mlp::predict(&spec, &params, f.clone()));
                    Ok(())
                })
                .await?
            }
        };
        push(row("mlp-forward", b, n, ms));
        yield_to_browser().await;

        // mlp-train-step: batch 256, 2→128→128→3, cross-entropy, Adam (waits for the GPU via a loss read-back).
        let n = 256u32;
        let spec = mlp_spec(3);
        let mut params = mlp::init_params(&spec, 1);
        let x: Vec<f32> = (0..2 * n).map(|i| key.normal_at(i)).collect();
        let y: Vec<u32> = (0..n).map(|i| i % 3).collect();
        let f = mlp::featurize(&spec, &x, None, None);
        let loss = Loss::CrossEntropy {
            smoothing: 0.0,
            maxsup: 0.0,
        };
        let adam = AdamConfig::default();
        let ms = match (b, gpu) {
            (Backend::Gpu, Some(g)) => {
                let model = std::cell::RefCell::new(MlpGpu::new(g, &spec, &params).await?);
                let flat = f.as_slice().expect("contiguous");
                time_async(|| async {
                    model
                        .borrow_mut()
                        .train_step(g, flat, Targets::Labels(&y), loss, &adam)?;
                    model.borrow().last_loss(g).await.map(|_| ())
                })
                .await?
            }
            _ => {
                let state = std::cell::RefCell::new(AdamState::new(params.len()));
                let params_cell = std::cell::RefCell::new(std::mem::take(&mut params));
                time_async(|| async {
                    let mut p = params_cell.borrow_mut();
                    let fwd = mlp::forward(&spec, &p, f.clone());
                    let (_, d) = mlp::loss_and_grad(loss, fwd.output(), Targets::Labels(&y));
                    let gr = mlp::backward(&spec, &p, &fwd, d);
                    mlp::adam_step(&adam, &mut state.borrow_mut(), &mut p, &gr);
                    Ok(())
                })
                .await?
            }
        };
        push(row("mlp-train-step", b, n, ms));
        yield_to_browser().await;

        // robust: 64 runs × 8 estimators × 100 SGD steps, Student-t noise (size = runs × estimators × steps).
        let cfg = ClippingConfig {
            steps: 100,
            runs: 64,
            ..ClippingConfig::default()
        };
        let size = cfg.runs * METHODS.len() as u32 * cfg.steps;
        let ms = match (b, gpu) {
            (Backend::Gpu, Some(g)) => {
                let k = RobustRuns::new(g).await?;
                let spec = cfg.run_spec(METHODS[0]);
                time_async(|| async { k.curves(g, &spec, &METHODS, cfg.runs).await.map(|_| ()) })
                    .await?
            }
            _ => {
                time_async(|| async {
                    for &m in &METHODS {
                        let spec = cfg.run_spec(m);
                        for r in 0..cfg.runs {
                            std::hint::black_box(robust::run(&spec, r, false));
                        }
                    }
                    Ok(())
                })
                .await?
            }
        };
        push(row("robust", b, size, ms));
        yield_to_browser().await;
    }
    Ok(())
}

#[component]
pub fn BenchPage() -> impl IntoView {
    let status = expect_context::<BackendCtx>().status;
    let rows = RwSignal::new(Vec::<Row>::new());
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
            let gpu = shared_gpu();
            let result = run_all(gpu.as_deref(), rows).await;
            state.set(match (result, gpu.is_some()) {
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
                ", timed here: the CPU rows are this page's WebAssembly (with SIMD128), the GPU rows are WebGPU including the read-back that a widget waits for. Each figure is the mean over at least three calls and about 300 ms, after one warm-up."
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
