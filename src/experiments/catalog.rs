//! The lab's experiments and the papers they implement: the gallery, the
//! About page and `gradlab list` all read this one table.

/// A paper the lab implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Paper {
    pub title: &'static str,
    pub authors: &'static str,
    pub venue: &'static str,
    pub url: &'static str,
}

/// Whether an experiment's widget exists yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Live,
    Coming,
}

/// One experiment: its route and CLI id, its claim, and its papers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ExperimentInfo {
    pub id: &'static str,
    pub title: &'static str,
    pub claim: &'static str,
    pub status: Status,
    pub papers: &'static [Paper],
}

const fn paper(
    title: &'static str,
    authors: &'static str,
    venue: &'static str,
    url: &'static str,
) -> Paper {
    Paper {
        title,
        authors,
        venue,
        url,
    }
}

pub const RNG_PAPERS: &[Paper] = &[
    paper(
        "Parallel random numbers: as easy as 1, 2, 3",
        "Salmon, Moraes, Dror, Shaw",
        "SC 2011",
        "https://doi.org/10.1145/2063384.2063405",
    ),
    paper(
        "Algorithm AS 241: The Percentage Points of the Normal Distribution",
        "Wichura",
        "Applied Statistics 1988",
        "https://doi.org/10.2307/2347330",
    ),
];

pub const GUMBEL_PAPERS: &[Paper] = &[
    paper(
        "Categorical Reparameterization with Gumbel-Softmax",
        "Jang, Gu, Poole",
        "ICLR 2017",
        "https://arxiv.org/abs/1611.01144",
    ),
    paper(
        "The Concrete Distribution: A Continuous Relaxation of Discrete Random Variables",
        "Maddison, Mnih, Teh",
        "ICLR 2017",
        "https://arxiv.org/abs/1611.00712",
    ),
];

pub const LABEL_SMOOTHING_PAPERS: &[Paper] = &[
    paper(
        "When Does Label Smoothing Help?",
        "Müller, Kornblith, Hinton",
        "NeurIPS 2019",
        "https://arxiv.org/abs/1906.02629",
    ),
    paper(
        "Towards Understanding Why Label Smoothing Degrades Selective Classification and How to Fix It",
        "Xia et al.",
        "ICLR 2025",
        "https://arxiv.org/abs/2403.14715",
    ),
    paper(
        "MaxSup: Overcoming Representation Collapse in Label Smoothing",
        "Zhou et al.",
        "NeurIPS 2025",
        "https://arxiv.org/abs/2502.15798",
    ),
    paper(
        "Towards Understanding Label Smoothing",
        "Xu et al.",
        "arXiv 2020",
        "https://arxiv.org/abs/2006.11653",
    ),
];

pub const CLIPPING_PAPERS: &[Paper] = &[
    paper(
        "SGD with Clipping is Secretly Estimating the Median Gradient",
        "Schaipp, Garrigos, Simsekli, Gower",
        "arXiv 2024 (TMLR 2025, retitled)",
        "https://arxiv.org/abs/2402.12828",
    ),
    paper(
        "Revisiting Gradient Clipping: Stochastic bias and tight convergence guarantees",
        "Koloskova, Hendrikx, Stich",
        "ICML 2023",
        "https://arxiv.org/abs/2305.01588",
    ),
    paper(
        "On the difficulty of training Recurrent Neural Networks",
        "Pascanu, Mikolov, Bengio",
        "ICML 2013",
        "https://arxiv.org/abs/1211.5063",
    ),
];

pub const DIFFUSION_PAPERS: &[Paper] = &[
    paper(
        "Denoising Diffusion Probabilistic Models",
        "Ho, Jain, Abbeel",
        "NeurIPS 2020",
        "https://arxiv.org/abs/2006.11239",
    ),
    paper(
        "Improved Denoising Diffusion Probabilistic Models",
        "Nichol, Dhariwal",
        "ICML 2021",
        "https://arxiv.org/abs/2102.09672",
    ),
    paper(
        "Denoising Diffusion Implicit Models",
        "Song, Meng, Ermon",
        "ICLR 2021",
        "https://arxiv.org/abs/2010.02502",
    ),
    paper(
        "Generative Modeling by Estimating Gradients of the Data Distribution",
        "Song, Ermon",
        "NeurIPS 2019",
        "https://arxiv.org/abs/1907.05600",
    ),
    paper(
        "Iterative α-(de)Blending: a Minimalist Deterministic Diffusion Model",
        "Heitz, Belcour, Chambon",
        "SIGGRAPH 2023",
        "https://arxiv.org/abs/2305.03486",
    ),
    paper(
        "Closed-Form Diffusion Models",
        "Scarvelis, Sáez de Ocáriz Borde, Solomon",
        "TMLR 2025",
        "https://arxiv.org/abs/2310.12395",
    ),
    paper(
        "The Unreasonable Effectiveness of Gaussian Score Approximation for Diffusion Models and its Applications",
        "Wang, Vastola",
        "2024",
        "https://arxiv.org/abs/2412.09726",
    ),
    paper(
        "Classifier-Free Guidance is a Predictor-Corrector",
        "Bradley, Nakkiran",
        "TMLR 2025",
        "https://arxiv.org/abs/2408.09000",
    ),
    paper(
        "Eliminating Oversaturation and Artifacts of High Guidance Scales in Diffusion Models",
        "Sadat, Hilliges, Weber",
        "ICLR 2025",
        "https://arxiv.org/abs/2410.02416",
    ),
];

/// Every experiment, in gallery order.
pub const CATALOG: &[ExperimentInfo] = &[
    ExperimentInfo {
        id: "rng",
        title: "Same seed, same numbers",
        claim: "One counter-based generator gives bit-identical draws on the CPU and the GPU.",
        status: Status::Live,
        papers: RNG_PAPERS,
    },
    ExperimentInfo {
        id: "gumbel",
        title: "Gumbel-Softmax",
        claim: "A temperature makes categorical sampling differentiable, trading bias for variance.",
        status: Status::Live,
        papers: GUMBEL_PAPERS,
    },
    ExperimentInfo {
        id: "label-smoothing",
        title: "Label smoothing",
        claim: "Soft targets calibrate a classifier and tighten its clusters, yet hurt selective classification.",
        status: Status::Live,
        papers: LABEL_SMOOTHING_PAPERS,
    },
    ExperimentInfo {
        id: "clipping",
        title: "Clipping is a median",
        claim: "Under heavy-tailed noise, clipped SGD estimates the median gradient, not the mean.",
        status: Status::Live,
        papers: CLIPPING_PAPERS,
    },
    ExperimentInfo {
        id: "diffusion",
        title: "Tiny diffusion",
        claim: "Particles flow from noise to data under DDPM, DDIM, Langevin and α-blending, live.",
        status: Status::Live,
        papers: DIFFUSION_PAPERS,
    },
];

/// The experiment with this id, if any.
pub fn find(id: &str) -> Option<&'static ExperimentInfo> {
    CATALOG.iter().find(|e| e.id == id)
}

/// Ids the CLI can run headless today.
pub fn runnable_ids() -> Vec<&'static str> {
    CATALOG
        .iter()
        .filter(|e| e.status == Status::Live)
        .map(|e| e.id)
        .collect()
}
