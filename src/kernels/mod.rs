//! Pure math on slices: no web, no GPU, no I/O. Each formula lives here once,
//! with its paper cited; GPU kernels in `gpu/` are held to these twins.

pub mod agree;
pub mod calibration;
pub mod certify;
pub mod datasets;
pub mod diffusion;
pub mod guidance;
pub mod gumbel;
pub mod mlp;
pub mod model_file;
pub mod par;
pub mod rng;
pub mod robust;
pub mod saliency;
pub mod stats;
pub mod zo;
