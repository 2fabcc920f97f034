//! The training race on spirals3 (Fournier et al., ICML 2023): backprop, the
//! forward gradient, the local-loss guess and SPSA train one MLP from the same
//! weights on the same minibatches, and test accuracy is drawn against the
//! forward passes each has spent. CPU only (`kernels/zo/race.rs`).
//! `gradlab zo --objective mlp` runs one estimator; the widget's [`RaceRun`]
//! runs all four side by side, a slice at a time.

use serde::{Deserialize, Serialize};

use super::{DescentReport, ZoConfig, bands};
use crate::kernels::datasets::{self, Dataset, DatasetId, Split};
use crate::kernels::zo::Estimator;
use crate::kernels::zo::race::{self, RaceSpec, Runner};

/// The estimators of the race, in legend order.
pub const RACE_ESTIMATORS: [Estimator; 4] = [
    Estimator::Backprop,
    Estimator::Fwd,
    Estimator::Guess,
    Estimator::Spsa,
];
/// Test-accuracy evaluations over a run (plus one at the start).
pub const EVALS: u32 = 40;
/// Grid cells per side of a decision-region map.
pub const REGION_SIDE: usize = 40;
/// The square of the plane the maps show: spirals3 lies in the unit disc.
pub const REGION_HALF: f32 = 1.2;
/// The accuracy margin, in points of test accuracy, by which one estimator
/// must lead another for the widget to call it "well ahead".
pub const WELL_AHEAD: f64 = 0.05;

impl ZoConfig {
    /// The race this config runs (`objective = mlp`).
    pub fn race_spec(&self) -> RaceSpec {
        RaceSpec {
            spec: race::classifier(&self.hidden.iter().map(|&w| w as usize).collect::<Vec<_>>()),
            lr: self.lr as f32,
            rule: self.step_rule,
            minibatch: self.minibatch,
            directions: self.batch,
            spsa_c: self.spsa_c as f32,
            seed: self.seed,
        }
    }

    /// The race panel's config: the race's own step η and budget.
    pub fn race_panel(&self) -> ZoConfig {
        ZoConfig {
            lr: self.race_lr,
            ..self.clone()
        }
    }

    /// spirals3's training and test points for `seed`.
    pub fn race_data(&self) -> Split {
        datasets::generate(
            DatasetId::Spirals3,
            self.seed,
            self.train as usize,
            self.test as usize,
        )
    }
}

/// Test accuracy of `--objective mlp` at some steps, mean over runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccuracyCurve {
    /// The steps evaluated.
    pub steps: Vec<u32>,
    /// Forward passes spent by then.
    pub passes: Vec<f64>,
    /// Mean test accuracy over runs.
    pub test_accuracy: Vec<f64>,
    /// The SGD step the estimator used (η, or η/κ under the scaled rule).
    pub lr: f64,
}

/// The steps at which `--objective mlp` evaluates test accuracy: 0, then every ⌈T/EVALS⌉ and T.
pub fn eval_steps(steps: u32) -> Vec<u32> {
    let every = steps.div_ceil(EVALS).max(1);
    let mut s: Vec<u32> = (0..steps).step_by(every as usize).collect();
    s.push(steps);
    s
}

/// `gradlab zo --objective mlp`: `runs` runs of one estimator, the training
/// loss at every step (mean, 10 % and 90 % over runs) and the test accuracy.
pub fn run_mlp(cfg: &ZoConfig) -> DescentReport {
    let race = cfg.race_spec();
    let data = cfg.race_data();
    let evals = eval_steps(cfg.steps);
    let mut losses = Vec::with_capacity((cfg.runs * (cfg.steps + 1)) as usize);
    let mut acc = vec![0.0f64; evals.len()];
    let mut per_step = 0.0;
    let mut lr = 0.0;
    for r in 0..cfg.runs {
        let mut run = Runner::new(&race, cfg.estimator, r);
        per_step = run.passes_per_step();
        lr = f64::from(run.lr());
        let mut next = 0;
        for t in 0..=cfg.steps {
            if t > 0 {
                run.advance(&race, &data.train);
            }
            losses.push(train_loss(&race, &run.params, &data.train));
            if evals.get(next) == Some(&t) {
                acc[next] += f64::from(race::accuracy(&race.spec, &run.params, &data.test))
                    / f64::from(cfg.runs);
                next += 1;
            }
        }
    }
    DescentReport {
        estimator: cfg.estimator,
        dim: race.spec.param_count() as u32,
        evals_per_step: per_step,
        loss: bands(&losses, cfg.steps),
        grad_norm: None,
        accuracy: Some(AccuracyCurve {
            passes: evals.iter().map(|&t| f64::from(t) * per_step).collect(),
            steps: evals,
            test_accuracy: acc,
            lr,
        }),
    }
}

/// The mean cross-entropy over the whole training set.
pub fn train_loss(race: &RaceSpec, params: &[f32], train: &Dataset) -> f32 {
    race::loss(&race.spec, params, &train.x, &train.y)
}

/// One lane of the race as the widget draws it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lane {
    pub estimator: Estimator,
    pub step: u32,
    pub passes: f64,
    /// The SGD step used.
    pub lr: f32,
    /// (forward passes, test accuracy) at each evaluation so far.
    #[serde(with = "crate::experiments::wire::pairs")]
    pub curve: Vec<(f32, f32)>,
    /// The last minibatch loss.
    pub loss: f32,
    /// The decision regions when they changed since the last frame:
    /// the largest class probability per cell plus its class
    /// (class + p, [`REGION_SIDE`]² cells, row by row from the top left).
    pub region: Option<Region>,
}

/// A decision-region map: per cell, class + probability (see [`Lane::region`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region(#[serde(with = "crate::experiments::wire::f32s")] pub Vec<f32>);

/// What one slice of the race returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RaceFrame {
    pub lanes: Vec<Lane>,
    /// The forward passes each lane may spend.
    pub budget: f64,
    pub finished: bool,
    /// The test points (pairs) and labels, in the first frame only.
    #[serde(with = "crate::experiments::wire::f32s")]
    pub test_x: Vec<f32>,
    pub test_y: Vec<u32>,
}

/// The four lanes, advanced together: the one that has spent the fewest
/// forward passes steps next, so the curves stay level in passes.
#[derive(Debug, Clone)]
pub struct RaceRun {
    race: RaceSpec,
    data: Split,
    budget: f64,
    runners: Vec<Runner>,
    curves: Vec<Vec<(f32, f32)>>,
    /// Passes at which each lane is evaluated next.
    next_eval: Vec<f64>,
    /// Lanes whose regions moved since the last frame.
    dirty: Vec<bool>,
    grid: Vec<f32>,
    sent_test: bool,
}

impl RaceRun {
    pub fn new(cfg: &ZoConfig) -> Self {
        let cfg = cfg.race_panel();
        let race = cfg.race_spec();
        let data = cfg.race_data();
        let runners: Vec<Runner> = RACE_ESTIMATORS
            .iter()
            .map(|&e| Runner::new(&race, e, 0))
            .collect();
        let n = runners.len();
        let mut run = Self {
            race,
            data,
            budget: f64::from(cfg.budget),
            runners,
            curves: vec![Vec::new(); n],
            next_eval: vec![0.0; n],
            dirty: vec![false; n],
            grid: region_grid(),
            sent_test: false,
        };
        for i in 0..n {
            run.evaluate(i);
        }
        run
    }

    fn evaluate(&mut self, i: usize) {
        let r = &self.runners[i];
        let acc = race::accuracy(&self.race.spec, &r.params, &self.data.test);
        self.curves[i].push((r.passes as f32, acc));
        self.next_eval[i] = r.passes + self.budget / f64::from(EVALS);
        self.dirty[i] = true;
    }

    pub fn finished(&self) -> bool {
        self.runners.iter().all(|r| r.passes >= self.budget)
    }

    /// Steps the lane that has spent the least, while `more()` says so; true when finished.
    pub fn advance(&mut self, mut more: impl FnMut() -> bool) -> bool {
        while !self.finished() && more() {
            let i = (0..self.runners.len())
                .filter(|&i| self.runners[i].passes < self.budget)
                .min_by(|&a, &b| self.runners[a].passes.total_cmp(&self.runners[b].passes))
                .expect("an unfinished lane");
            self.runners[i].advance(&self.race, &self.data.train);
            let p = self.runners[i].passes;
            if p >= self.next_eval[i] || p >= self.budget {
                self.evaluate(i);
            }
        }
        self.finished()
    }

    /// The lanes, with the regions that moved since the last frame.
    pub fn frame(&mut self) -> RaceFrame {
        let lanes = (0..self.runners.len())
            .map(|i| {
                let r = &self.runners[i];
                let region = std::mem::take(&mut self.dirty[i])
                    .then(|| Region(regions(&self.race, &r.params, &self.grid)));
                Lane {
                    estimator: r.est,
                    step: r.step,
                    passes: r.passes,
                    lr: r.lr(),
                    curve: self.curves[i].clone(),
                    loss: r.last_loss,
                    region,
                }
            })
            .collect();
        let first = !std::mem::replace(&mut self.sent_test, true);
        RaceFrame {
            lanes,
            budget: self.budget,
            finished: self.finished(),
            test_x: if first {
                self.data.test.x.clone()
            } else {
                Vec::new()
            },
            test_y: if first {
                self.data.test.y.clone()
            } else {
                Vec::new()
            },
        }
    }
}

/// The centres of the [`REGION_SIDE`]² cells, row by row from the top left.
pub fn region_grid() -> Vec<f32> {
    let mut g = Vec::with_capacity(REGION_SIDE * REGION_SIDE * 2);
    for r in 0..REGION_SIDE {
        for c in 0..REGION_SIDE {
            let f = |i: usize| (i as f32 + 0.5) / REGION_SIDE as f32 * 2.0 - 1.0;
            g.push(f(c) * REGION_HALF);
            g.push(-f(r) * REGION_HALF);
        }
    }
    g
}

/// Per cell: its predicted class plus that class's probability.
fn regions(race: &RaceSpec, params: &[f32], grid: &[f32]) -> Vec<f32> {
    race::probabilities(&race.spec, params, grid)
        .chunks_exact(race::CLASSES)
        .map(|p| {
            let k = (0..p.len()).fold(0, |b, c| if p[c] > p[b] { c } else { b });
            k as f32 + p[k].min(0.999_9)
        })
        .collect()
}

/// The race's outcome as the widget states it, from the run's own numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Mean test accuracy over the last quarter of each lane's evaluations.
    pub late: Vec<(Estimator, f64)>,
    pub backprop_ahead: bool,
    pub guess_well_ahead_of_fwd: bool,
}

impl Verdict {
    pub fn reproduced(&self) -> bool {
        self.backprop_ahead && self.guess_well_ahead_of_fwd
    }

    pub fn of(frame: &RaceFrame) -> Self {
        let late: Vec<(Estimator, f64)> = frame
            .lanes
            .iter()
            .map(|l| {
                let n = l.curve.len();
                let tail = &l.curve[n - (n / 4).max(1)..];
                let mean = tail.iter().map(|p| f64::from(p.1)).sum::<f64>() / tail.len() as f64;
                (l.estimator, mean)
            })
            .collect();
        let acc = |e: Estimator| late.iter().find(|l| l.0 == e).map_or(f64::NAN, |l| l.1);
        let bp = acc(Estimator::Backprop);
        let backprop_ahead = late
            .iter()
            .all(|&(e, a)| e == Estimator::Backprop || bp > a);
        Self {
            guess_well_ahead_of_fwd: acc(Estimator::Guess) > acc(Estimator::Fwd) + WELL_AHEAD,
            late,
            backprop_ahead,
        }
    }

    /// The sentence the widget shows.
    pub fn text(&self) -> String {
        let nums = self
            .late
            .iter()
            .map(|(e, a)| format!("{} {:.1} %", e.as_str(), 100.0 * a))
            .collect::<Vec<_>>()
            .join(", ");
        let outcome = if self.reproduced() {
            "the published ordering reproduces here: backprop ahead, guess well ahead of fwd"
                .to_string()
        } else {
            let mut why = Vec::new();
            if !self.backprop_ahead {
                why.push("backprop is not ahead of every estimator");
            }
            if !self.guess_well_ahead_of_fwd {
                why.push("guess is not well ahead of fwd");
            }
            format!(
                "the published ordering does not reproduce at this scale: {}",
                why.join(", and ")
            )
        };
        format!(
            "Test accuracy over the last quarter of the budget: {nums}. With \"well ahead\" meaning by more than {:.0} points, {outcome}.",
            100.0 * WELL_AHEAD
        )
    }
}
