use gradlab::experiments::diffusion::*;
use gradlab::gpu::Gpu;
use gradlab::kernels::diffusion::{SamplerKind, Level};
use gradlab::kernels::diffusion::data::{DiffusionData, PointSet};
use gradlab::gpu::diffusion::DiffusionGpu;

#[test]
fn dbg() {
    let gpu = pollster::block_on(Gpu::request()).unwrap();
    let bytes = std::fs::read("static/models/denoiser-gmm8.bin").unwrap();
    let mlp = load_denoiser(&bytes, DiffusionData::Gmm8).unwrap();
    for (sampler, guidance, steps) in [(SamplerKind::Ddim, 1.0, 1), (SamplerKind::Ddim, 0.0, 1), (SamplerKind::Ddim, 3.0, 1), (SamplerKind::Heun, 0.0, 2)] {
        let cfg = DiffusionConfig { dataset: DiffusionData::Gmm8, score: ScoreKind::Mlp, sampler, steps, n: 4, guidance, seed: 3, ..DiffusionConfig::default() };
        let train = cfg.training_set(&PointSet::default());
        let source = build_source(&cfg, &train, Some(mlp.clone())).unwrap();
        let levels = cfg.levels();
        let mut s = Sampling::new(cfg.clone(), source.clone(), 8);
        let setup = cfg.gpu_setup(&levels, &source, 8);
        let mut run = pollster::block_on(DiffusionGpu::new(&gpu, &setup, &initial_particles(3, 4))).unwrap();
        for _ in 0..steps {
            s.advance(4);
            run.advance(&gpu, 1).unwrap();
            let g = pollster::block_on(run.particles(&gpu)).unwrap();
            println!("{sampler:?} w={guidance} cpu {:?}\n   gpu {:?}", s.particles(), g);
        }
        if let gradlab::kernels::diffusion::score::Source::Mlp(m) = &source {
            let x = initial_particles(3, 4)[0];
            let l: Level = levels[0];
            for (j, x) in initial_particles(3, 4).into_iter().enumerate() {
                let all: Vec<[f32;2]> = (0..9).map(|c| m.denoise(x, l, Some(c))).collect();
                println!("  p{j} x={x:?} by class {all:?}");
            }
        }
    }
}
