//! `gradlab schedule | score | train-denoiser`: the diffusion tools.

use std::io::Write;

use super::{CliError, Pairs, help, parse_config, parse_flags, parse_rows, wants_help};
use crate::experiments::Backend;
use crate::experiments::config::{Param, Range, echo};
use crate::experiments::denoiser::{self, DenoiserConfig};
use crate::experiments::diffusion::shipped_denoiser;
use crate::kernels::diffusion::score::{Mixture, score_from_denoised};
use crate::kernels::diffusion::{self as dk, Level, ScheduleKind};
use crate::kernels::model_file;

/// The one value of a command-only flag, if given.
fn single<'a>(pairs: &Pairs<'a>, flag: &str) -> Result<Option<&'a str>, CliError> {
    let mut found = pairs.iter().filter(|(k, _)| *k == flag).map(|(_, v)| *v);
    let first = found.next();
    if found.next().is_some() {
        return Err(CliError::Usage(format!(
            "flag --{flag} given more than once"
        )));
    }
    Ok(first)
}

fn reject_unknown(pairs: &Pairs<'_>, known: &[&str]) -> Result<(), CliError> {
    match pairs.iter().find(|(k, _)| !known.contains(k)) {
        Some((k, _)) => Err(CliError::Usage(format!(
            "unknown flag --{} (expected one of: {})",
            echo(k).trim_matches('"'),
            known
                .iter()
                .map(|k| format!("--{k}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        None => Ok(()),
    }
}

fn parse_value<T: Param>(flag: &str, text: &str, bound: &T::Bound) -> Result<T, CliError> {
    let v = T::parse(text).map_err(|m| CliError::Usage(format!("invalid --{flag}: {m}")))?;
    v.check(bound)
        .map_err(|e| CliError::Usage(format!("invalid --{flag}: {}", e.message)))
}

/// `"x,y;x,y"` into points, each coordinate finite and within ±`limit`.
fn parse_points(flag: &str, text: &str, max: usize, limit: f64) -> Result<Vec<[f32; 2]>, CliError> {
    let coordinate = |s: &str| -> Result<f32, String> {
        let v = f64::parse(s.trim())?;
        Ok(v.check(&Range::new(-limit, limit)).map_err(|e| e.message)? as f32)
    };
    parse_rows(flag, text, max, "point", coordinate)?
        .into_iter()
        .enumerate()
        .map(|(i, xy)| match xy[..] {
            [x, y] => Ok([x, y]),
            _ => Err(CliError::Usage(format!(
                "invalid --{flag}: point {i} needs exactly two coordinates x,y"
            ))),
        })
        .collect()
}

/// `gradlab schedule --kind linear|scaled-linear|cosine --steps 1000`.
pub fn schedule(rest: &[String]) -> Result<String, CliError> {
    if wants_help(rest) {
        return Ok(
            "usage: gradlab schedule --kind linear|scaled-linear|cosine [--steps 1000]\n\
                   prints {\"betas\": [...], \"alphas_cumprod\": [...]}"
                .into(),
        );
    }
    let (_, pairs) = parse_flags(rest)?;
    reject_unknown(&pairs, &["kind", "steps"])?;
    let kind = match single(&pairs, "kind")? {
        Some(v) => parse_value::<ScheduleKind>("kind", v, &())?,
        None => return Err(CliError::Usage("flag --kind is required".into())),
    };
    let steps = match single(&pairs, "steps")? {
        Some(v) => parse_value::<u32>("steps", v, &Range::new(1, 100_000))?,
        None => dk::TRAIN_STEPS as u32,
    };
    Ok(serde_json::to_string(&dk::schedule(kind, steps as usize)).expect("schedule serialises"))
}

/// `gradlab score --gmm-means "x,y;..." --gmm-std s [--gmm-weights w,...] --sigma σ --at "x,y;..."`:
/// ∇log of the mixture convolved with N(0, σ²I) at each point.
pub fn score(rest: &[String]) -> Result<String, CliError> {
    if wants_help(rest) {
        return Ok("usage: gradlab score --gmm-means \"x1,y1;x2,y2\" --gmm-std 0.1 \
                   [--gmm-weights w1,w2] --sigma 0.5 --at \"x,y;...\"\n\
                   prints {\"score\": [[sx, sy], ...]}: the gradient of log((mixture * N(0, sigma^2 I))(x))"
            .into());
    }
    let (_, pairs) = parse_flags(rest)?;
    reject_unknown(
        &pairs,
        &["gmm-means", "gmm-std", "gmm-weights", "sigma", "at"],
    )?;
    let need = |flag: &str| -> Result<&str, CliError> {
        single(&pairs, flag)?.ok_or_else(|| CliError::Usage(format!("flag --{flag} is required")))
    };
    let means = parse_points("gmm-means", need("gmm-means")?, 1024, 1e3)?;
    let std: f64 = parse_value("gmm-std", need("gmm-std")?, &Range::new(0.0, 1e3))?;
    let sigma: f64 = parse_value("sigma", need("sigma")?, &Range::new(1e-6, 1e3))?;
    let at = parse_points("at", need("at")?, 100_000, 1e4)?;
    let log_weights = match single(&pairs, "gmm-weights")? {
        None => vec![0.0; means.len()],
        Some(text) => {
            let w: Vec<f64> = parse_value(
                "gmm-weights",
                text,
                &crate::experiments::config::ListBound {
                    min_len: 1,
                    max_len: 1024,
                    each: Range::new(0.0, 1e12),
                },
            )?;
            if w.len() != means.len() {
                return Err(CliError::Usage(format!(
                    "invalid --gmm-weights: {} weights for {} means",
                    w.len(),
                    means.len()
                )));
            }
            if w.iter().all(|&v| v == 0.0) {
                return Err(CliError::Usage(
                    "invalid --gmm-weights: all are zero".into(),
                ));
            }
            w.iter().map(|&v| (v as f32).ln()).collect()
        }
    };
    let mix = Mixture {
        classes: vec![0; means.len()],
        means,
        log_weights,
        var: (std * std) as f32,
    };
    let level = Level {
        a: 1.0,
        v: (sigma * sigma) as f32,
    };
    let scores: Vec<[f32; 2]> = at
        .iter()
        .map(|&x| score_from_denoised(x, mix.denoise(x, level, None), level))
        .collect();
    Ok(serde_json::json!({ "score": scores }).to_string())
}

/// `gradlab train-denoiser --dataset gmm8 [--steps N] ... --out file.bin`.
pub fn train_denoiser(rest: &[String]) -> Result<String, CliError> {
    if wants_help(rest) {
        return Ok(help::<DenoiserConfig>(
            "train-denoiser",
            "  --out        write the trained network to this file (gradlab model format)\n",
        ));
    }
    let (cfg, backend, extras) = parse_config::<DenoiserConfig>(rest, &["out"])?;
    if backend == Backend::Gpu {
        return Err(CliError::Usage(
            "invalid --backend: train-denoiser trains on the CPU (it is reproducible bit for bit there)".into(),
        ));
    }
    if shipped_denoiser(cfg.dataset).is_none() {
        return Err(CliError::Usage(format!(
            "invalid --dataset: {} has no generator to train on",
            cfg.dataset.as_str()
        )));
    }
    let out = single(&extras, "out")?.filter(|p| !p.is_empty());
    let mut file = out
        .map(|path| {
            std::fs::File::create(path)
                .map_err(|e| CliError::Usage(format!("invalid --out: cannot write {path:?}: {e}")))
        })
        .transpose()?;
    let (den, report) = denoiser::train(&cfg);
    if let Some(f) = file.as_mut() {
        f.write_all(&model_file::encode(&den.spec, &den.params))
            .map_err(|e| CliError::Usage(format!("invalid --out: write failed: {e}")))?;
    }
    Ok(serde_json::to_string(&report).expect("report serialises"))
}
