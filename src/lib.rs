//! gradlab: gradient estimators, smoothing and diffusion, live in the browser.
//!
//! `kernels` (pure math) and `gpu` (wgpu + WGSL twins) do the computing;
//! `experiments` turn configs into results; `ui` (wasm only) draws them and
//! `cli` (native only) prints them; `site` holds the site's own words and
//! its static first paint.

pub mod experiments;
pub mod gpu;
pub mod kernels;
pub mod site;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;

#[cfg(target_arch = "wasm32")]
pub mod ui;
