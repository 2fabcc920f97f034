//! `gradlab zo-estimate`: single estimates of ∇f at one point, strict flags.

use super::{CliError, gpu_fault, help, parse_config, request_gpu, wants_help};
use crate::experiments::Backend;
use crate::experiments::registry::Compute;
use crate::experiments::zo::{ZoEstimateConfig, estimate};

/// `gradlab zo-estimate --objective O --dim D --at x1,… --estimator E …`:
/// `{"exact", "smoothed", "mean", "var", "cos": {"mean", "se"}, …}`.
pub fn zo_estimate(rest: &[String]) -> Result<String, CliError> {
    if wants_help(rest) {
        return Ok(help::<ZoEstimateConfig>("zo-estimate", ""));
    }
    let (cfg, backend, _) = parse_config::<ZoEstimateConfig>(rest, &[])?;
    let on = match backend {
        Backend::Cpu => Compute::Cpu,
        Backend::Gpu => Compute::Gpu(request_gpu()?),
    };
    let report = pollster::block_on(estimate(&cfg, &on)).map_err(gpu_fault)?;
    Ok(serde_json::to_string(&report).expect("reports serialise"))
}
