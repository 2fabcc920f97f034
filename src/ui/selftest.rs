//! `/selftest`: every GPU kernel against its CPU twin, in this browser.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::backend::{BackendCtx, GpuStatus, gpu_compute};
use crate::experiments::selftest::{self, Check};

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Waiting,
    NoGpu(String),
    Done(Vec<Check>),
    Failed(String),
}

#[component]
pub fn SelfTest() -> impl IntoView {
    let status = expect_context::<BackendCtx>().status;
    let outcome = RwSignal::new(Outcome::Waiting);
    let started = StoredValue::new(false);
    Effect::new(move |_| match status.get() {
        GpuStatus::Probing => {}
        GpuStatus::Unavailable(why) | GpuStatus::Lost(why) => outcome.set(Outcome::NoGpu(why)),
        GpuStatus::Ready(_) => {
            if started.get_value() {
                return;
            }
            started.set_value(true);
            spawn_local(async move {
                let on = gpu_compute();
                let result = match on.as_ref().and_then(|on| on.gpu()) {
                    Some(gpu) => selftest::run(gpu).await.map_err(|e| e.to_string()),
                    None => Err("the GPU device was lost before the test began".to_string()),
                };
                outcome.set(match result {
                    Ok(checks) => Outcome::Done(checks),
                    Err(e) => Outcome::Failed(e),
                });
            });
        }
    });
    view! {
        <article class="prose wide">
            <h1>"Kernel self-test"</h1>
            <p>
                "Each GPU kernel runs here on WebGPU and its CPU twin runs here as WebAssembly; the table compares them against the bounds the native tests hold on Mesa's lavapipe."
            </p>
            {move || match outcome.get() {
                Outcome::Waiting => view! { <p data-testid="selftest-status">"Running…"</p> }.into_any(),
                Outcome::NoGpu(why) => {
                    view! { <p data-testid="selftest-status">{format!("No GPU to test: {why}")}</p> }
                        .into_any()
                }
                Outcome::Failed(why) => {
                    view! { <p data-testid="selftest-status">{format!("GPU fault: {why}")}</p> }.into_any()
                }
                Outcome::Done(checks) => {
                    let all = checks.iter().all(|c| c.pass);
                    view! {
                        <p data-testid="selftest-status" data-pass=all.to_string()>
                            {if all { "All checks pass." } else { "Some checks FAIL." }}
                        </p>
                        <table class="moments selftest-table">
                            <thead>
                                <tr>
                                    <th scope="col">"kernel"</th>
                                    <th scope="col">"measured"</th>
                                    <th scope="col">"value"</th>
                                    <th scope="col">"bound"</th>
                                    <th scope="col">"result"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {checks
                                    .into_iter()
                                    .map(|c| {
                                        view! {
                                            <tr data-testid="selftest-row">
                                                <th scope="row">{c.kernel}</th>
                                                <td>{c.metric}</td>
                                                <td>{format!("{:.2e}", c.value)}</td>
                                                <td>{format!("{:.0e}", c.bound)}</td>
                                                <td>{if c.pass { "pass" } else { "FAIL" }}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                        .into_any()
                }
            }}
        </article>
    }
}
