//! One module per experiment: a typed `Config` (the URL query and the CLI
//! flags), functions that run it on a chosen backend and return plain data,
//! and its [`registry::Experiment`] impl; [`registry::REGISTRY`] lists them.

pub mod bench;
pub mod certify;
pub mod clipping;
pub mod config;
pub mod denoiser;
pub mod diffusion;
pub mod guidance;
pub mod gumbel;
pub mod label_smoothing;
pub mod papers;
pub mod registry;
pub mod rng;
pub mod saliency;
pub mod selftest;
pub mod train_mlp;
pub mod wire;
pub mod zo;

crate::param_enum! {
    /// Where an experiment computes: every experiment takes this choice.
    pub enum Backend {
        /// ndarray / plain Rust, natively or as wasm in the page.
        Cpu = "cpu",
        /// wgpu: WebGPU in the page, Vulkan (lavapipe in CI) natively.
        Gpu = "gpu",
    }
}
