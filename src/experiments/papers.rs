//! Every paper the lab cites, as a named constant: experiments and widgets
//! refer to a paper by its name (never by a position in a list).

/// A paper the lab implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Paper {
    pub title: &'static str,
    pub authors: &'static str,
    pub venue: &'static str,
    pub url: &'static str,
}

/// Philox4x32-10, the counter-based generator.
pub const SALMON_2011: Paper = Paper {
    title: "Parallel random numbers: as easy as 1, 2, 3",
    authors: "Salmon, Moraes, Dror, Shaw",
    venue: "SC 2011",
    url: "https://doi.org/10.1145/2063384.2063405",
};

/// AS 241, the normal quantile behind every Gaussian draw.
pub const WICHURA_1988: Paper = Paper {
    title: "Algorithm AS 241: The Percentage Points of the Normal Distribution",
    authors: "Wichura",
    venue: "Applied Statistics 1988",
    url: "https://doi.org/10.2307/2347330",
};

/// Gumbel-Softmax and straight-through.
pub const JANG_2017: Paper = Paper {
    title: "Categorical Reparameterization with Gumbel-Softmax",
    authors: "Jang, Gu, Poole",
    venue: "ICLR 2017",
    url: "https://arxiv.org/abs/1611.01144",
};

/// The Concrete distribution.
pub const MADDISON_2017: Paper = Paper {
    title: "The Concrete Distribution: A Continuous Relaxation of Discrete Random Variables",
    authors: "Maddison, Mnih, Teh",
    venue: "ICLR 2017",
    url: "https://arxiv.org/abs/1611.00712",
};

/// REINFORCE with the leave-one-out baseline (RLOO).
pub const KOOL_2019: Paper = Paper {
    title: "Buy 4 REINFORCE Samples, Get a Baseline for Free!",
    authors: "Kool, van Hoof, Welling",
    venue: "ICLR 2019 workshop DeepRLStructPred",
    url: "https://openreview.net/forum?id=r1lgTGL5DE",
};

/// Label smoothing: calibration and tighter clusters.
pub const MULLER_2019: Paper = Paper {
    title: "When Does Label Smoothing Help?",
    authors: "Müller, Kornblith, Hinton",
    venue: "NeurIPS 2019",
    url: "https://arxiv.org/abs/1906.02629",
};

/// Label smoothing and selective classification.
pub const XIA_2025: Paper = Paper {
    title: "Towards Understanding Why Label Smoothing Degrades Selective Classification and How to Fix It",
    authors: "Xia et al.",
    venue: "ICLR 2025",
    url: "https://arxiv.org/abs/2403.14715",
};

/// MaxSup.
pub const ZHOU_2025: Paper = Paper {
    title: "MaxSup: Overcoming Representation Collapse in Label Smoothing",
    authors: "Zhou et al.",
    venue: "NeurIPS 2025",
    url: "https://arxiv.org/abs/2502.15798",
};

/// Label smoothing as variance reduction.
pub const XU_2020: Paper = Paper {
    title: "Towards Understanding Label Smoothing",
    authors: "Xu et al.",
    venue: "arXiv 2020",
    url: "https://arxiv.org/abs/2006.11653",
};

/// Clipping as a median-gradient estimator.
pub const SCHAIPP_2024: Paper = Paper {
    title: "SGD with Clipping is Secretly Estimating the Median Gradient",
    authors: "Schaipp, Garrigos, Simsekli, Gower",
    venue: "arXiv 2024 (TMLR 2025, retitled)",
    url: "https://arxiv.org/abs/2402.12828",
};

/// Bias of clipped SGD.
pub const KOLOSKOVA_2023: Paper = Paper {
    title: "Revisiting Gradient Clipping: Stochastic bias and tight convergence guarantees",
    authors: "Koloskova, Hendrikx, Stich",
    venue: "ICML 2023",
    url: "https://arxiv.org/abs/2305.01588",
};

/// The modified Weiszfeld step of the geometric median, which descends at data points.
pub const VARDI_ZHANG_2000: Paper = Paper {
    title: "The multivariate L1-median and associated data depth",
    authors: "Vardi, Zhang",
    venue: "PNAS 2000",
    url: "https://doi.org/10.1073/pnas.97.4.1423",
};

/// Gradient-norm clipping.
pub const PASCANU_2013: Paper = Paper {
    title: "On the difficulty of training Recurrent Neural Networks",
    authors: "Pascanu, Mikolov, Bengio",
    venue: "ICML 2013",
    url: "https://arxiv.org/abs/1211.5063",
};

/// DDPM.
pub const HO_2020: Paper = Paper {
    title: "Denoising Diffusion Probabilistic Models",
    authors: "Ho, Jain, Abbeel",
    venue: "NeurIPS 2020",
    url: "https://arxiv.org/abs/2006.11239",
};

/// Cosine schedule.
pub const NICHOL_2021: Paper = Paper {
    title: "Improved Denoising Diffusion Probabilistic Models",
    authors: "Nichol, Dhariwal",
    venue: "ICML 2021",
    url: "https://arxiv.org/abs/2102.09672",
};

/// DDIM.
pub const SONG_DDIM_2021: Paper = Paper {
    title: "Denoising Diffusion Implicit Models",
    authors: "Song, Meng, Ermon",
    venue: "ICLR 2021",
    url: "https://arxiv.org/abs/2010.02502",
};

/// Annealed Langevin dynamics.
pub const SONG_ERMON_2019: Paper = Paper {
    title: "Generative Modeling by Estimating Gradients of the Data Distribution",
    authors: "Song, Ermon",
    venue: "NeurIPS 2019",
    url: "https://arxiv.org/abs/1907.05600",
};

/// α-blending.
pub const HEITZ_2023: Paper = Paper {
    title: "Iterative α-(de)Blending: a Minimalist Deterministic Diffusion Model",
    authors: "Heitz, Belcour, Chambon",
    venue: "SIGGRAPH 2023",
    url: "https://arxiv.org/abs/2305.03486",
};

/// Closed-form (smoothed empirical) score.
pub const SCARVELIS_2025: Paper = Paper {
    title: "Closed-Form Diffusion Models",
    authors: "Scarvelis, Sáez de Ocáriz Borde, Solomon",
    venue: "TMLR 2025",
    url: "https://arxiv.org/abs/2310.12395",
};

/// Gaussian score approximation and teleportation.
pub const WANG_VASTOLA_2024: Paper = Paper {
    title: "The Unreasonable Effectiveness of Gaussian Score Approximation for Diffusion Models and its Applications",
    authors: "Wang, Vastola",
    venue: "2024",
    url: "https://arxiv.org/abs/2412.09726",
};

/// CFG as a predictor-corrector.
pub const BRADLEY_NAKKIRAN_2025: Paper = Paper {
    title: "Classifier-Free Guidance is a Predictor-Corrector",
    authors: "Bradley, Nakkiran",
    venue: "TMLR 2025",
    url: "https://arxiv.org/abs/2408.09000",
};

/// APG: adaptive projected guidance.
pub const SADAT_2025: Paper = Paper {
    title: "Eliminating Oversaturation and Artifacts of High Guidance Scales in Diffusion Models",
    authors: "Sadat, Hilliges, Weber",
    venue: "ICLR 2025",
    url: "https://arxiv.org/abs/2410.02416",
};

/// The scale-free memorisation criterion (nearest / second-nearest training point < 1/3).
pub const GU_2025: Paper = Paper {
    title: "On Memorization in Diffusion Models",
    authors: "Gu, Du, Pang, Li, Lin, Wang",
    venue: "TMLR 2025",
    url: "https://arxiv.org/abs/2310.02664",
};

/// Randomized smoothing: CERTIFY, the Clopper–Pearson bound, R = σΦ⁻¹(p̲_A).
pub const COHEN_2019: Paper = Paper {
    title: "Certified Adversarial Robustness via Randomized Smoothing",
    authors: "Cohen, Rosenfeld, Kolter",
    venue: "ICML 2019",
    url: "https://arxiv.org/abs/1902.02918",
};

/// Soft smoothing: simplex maps of noisy logits at a temperature, empirical-Bernstein bounds.
pub const DELATTRE_2024: Paper = Paper {
    title: "The Lipschitz-Variance-Margin Tradeoff for Enhanced Randomized Smoothing",
    authors: "Delattre, Araujo, Barthélemy, Allauzen",
    venue: "ICLR 2024",
    url: "https://openreview.net/forum?id=C36v8541Ns",
};

/// Smoothing over a transformation's parameter (rotation) certifies a parameter radius.
/// (Authors as recalled, not checked against the paper here.)
pub const KORZH_2023: Paper = Paper {
    title: "General Lipschitz: Certified Robustness Against Resolvable Semantic Transformations via Transformation-Dependent Randomized Smoothing",
    authors: "Korzh, Pautov, Tsymboi, Oseledets",
    venue: "arXiv 2023",
    url: "https://arxiv.org/abs/2309.16710",
};

/// Dual randomized smoothing: certifying over two lower-dimensional halves.
/// (Authors as recalled, not checked against the paper here.)
pub const XIA_2024: Paper = Paper {
    title: "Mitigating the Curse of Dimensionality for Certified Robustness via Dual Randomized Smoothing",
    authors: "Xia, Yu, Jiang, Ding",
    venue: "ICLR 2024",
    url: "https://arxiv.org/abs/2404.09586",
};

/// The one-sided binomial confidence bound behind CERTIFY.
pub const CLOPPER_PEARSON_1934: Paper = Paper {
    title: "The Use of Confidence or Fiducial Limits Illustrated in the Case of the Binomial",
    authors: "Clopper, Pearson",
    venue: "Biometrika 1934",
    url: "https://doi.org/10.1093/biomet/26.4.404",
};

/// The empirical-Bernstein bound of soft smoothing.
pub const MAURER_PONTIL_2009: Paper = Paper {
    title: "Empirical Bernstein Bounds and Sample Variance Penalization",
    authors: "Maurer, Pontil",
    venue: "COLT 2009",
    url: "https://arxiv.org/abs/0907.3740",
};
