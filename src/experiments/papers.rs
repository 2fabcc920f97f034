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

/// SmoothGrad: the gradient averaged over Gaussian input noise.
pub const SMILKOV_2017: Paper = Paper {
    title: "SmoothGrad: removing noise by adding noise",
    authors: "Smilkov, Thorat, Kim, Viégas, Wattenberg",
    venue: "ICML Workshop on Visualization for Deep Learning 2017",
    url: "https://arxiv.org/abs/1706.03825",
};

/// Uniformly smoothed attributions and their certified cosine bound.
pub const WANG_KONG_2024: Paper = Paper {
    title: "Certified ℓ2 Attribution Robustness via Uniformly Smoothed Attributions",
    authors: "Wang, Kong",
    venue: "2024",
    url: "https://arxiv.org/abs/2405.06361",
};

/// Expected gradients: integrated gradients averaged over baselines from the data.
pub const ERION_2021: Paper = Paper {
    title: "Improving performance of deep learning models with axiomatic attribution priors and expected gradients",
    authors: "Erion, Janizek, Sturmfels, Lundberg, Lee",
    venue: "Nature Machine Intelligence 2021",
    url: "https://arxiv.org/abs/1906.10670",
};

/// SmoothGrad-Squared, the mean of squared noisy gradients.
pub const HOOKER_2019: Paper = Paper {
    title: "A Benchmark for Interpretability Methods in Deep Neural Networks",
    authors: "Hooker, Erhan, Kindermans, Kim",
    venue: "NeurIPS 2019",
    url: "https://arxiv.org/abs/1806.10758",
};

/// Classifier-free guidance.
pub const HO_SALIMANS_2022: Paper = Paper {
    title: "Classifier-Free Diffusion Guidance",
    authors: "Ho, Salimans",
    venue: "NeurIPS 2021 Workshop on Deep Generative Models",
    url: "https://arxiv.org/abs/2207.12598",
};

/// CADS: condition-annealed sampling.
pub const SADAT_CADS_2024: Paper = Paper {
    title: "CADS: Unleashing the Diversity of Diffusion Models through Condition-Annealed Sampling",
    authors: "Sadat, Buhmann, Bradley, Hilliges, Weber",
    venue: "ICLR 2024",
    url: "https://arxiv.org/abs/2310.17347",
};

/// Guidance-weight schedules (linear, cosine).
pub const WANG_CFG_SCHEDULERS_2024: Paper = Paper {
    title: "Analysis of Classifier-Free Guidance Weight Schedulers",
    authors: "Wang, Dufour, Andreou, Cani, Fernández Abrevaya, Picard, Kalogeiton",
    venue: "TMLR 2024",
    url: "https://arxiv.org/abs/2404.13040",
};

/// A learned annealing schedule of the guidance scale.
pub const YEHEZKEL_2025: Paper = Paper {
    title: "Navigating with Annealing Guidance Scale in Diffusion Space",
    authors: "Yehezkel, Dahary, Voynov, Cohen-Or",
    venue: "arXiv 2025",
    url: "https://arxiv.org/abs/2506.24108",
};

/// The gradient-estimation (GE) sampler.
pub const PERMENTER_YUAN_2024: Paper = Paper {
    title: "Interpreting and Improving Diffusion Models Using the Euclidean Distance Function",
    authors: "Permenter, Yuan",
    venue: "ICML 2024",
    url: "https://arxiv.org/abs/2306.04848",
};

/// FSampler: skipped denoiser calls by ε extrapolation.
pub const VLADIMIR_2025: Paper = Paper {
    title: "FSampler: Training Free Acceleration of Diffusion Sampling via Epsilon Extrapolation",
    authors: "Vladimir",
    venue: "2025",
    url: "https://arxiv.org/abs/2511.09180",
};

/// Forward gradients with guessed directions (local-loss guesses).
pub const FOURNIER_2023: Paper = Paper {
    title: "Can Forward Gradient Match Backpropagation?",
    authors: "Fournier, Rivaud, Belilovsky, Eickenberg, Oyallon",
    venue: "ICML 2023",
    url: "https://arxiv.org/abs/2306.06968",
};

/// GFM and the variance-reduced GFM⁺ (uniform-ball smoothing, two-point estimator).
pub const CHEN_XU_LUO_2023: Paper = Paper {
    title: "Faster Gradient-Free Algorithms for Nonsmooth Nonconvex Stochastic Optimization",
    authors: "Chen, Xu, Luo",
    venue: "ICML 2023",
    url: "https://arxiv.org/abs/2301.06428",
};

/// Gaussian smoothing and the random gradient-free (two-point) estimator.
pub const NESTEROV_SPOKOINY_2017: Paper = Paper {
    title: "Random Gradient-Free Minimization of Convex Functions",
    authors: "Nesterov, Spokoiny",
    venue: "Foundations of Computational Mathematics 2017",
    url: "https://doi.org/10.1007/s10208-015-9296-2",
};

/// SPSA: simultaneous perturbation with Rademacher directions.
pub const SPALL_1992: Paper = Paper {
    title: "Multivariate Stochastic Approximation Using a Simultaneous Perturbation Gradient Approximation",
    authors: "Spall",
    venue: "IEEE Transactions on Automatic Control 1992",
    url: "https://doi.org/10.1109/9.119632",
};

/// The forward gradient (∇f·v)v, unbiased for v ~ N(0, I).
pub const BAYDIN_2022: Paper = Paper {
    title: "Gradients without Backpropagation",
    authors: "Baydin, Pearlmutter, Syme, Wood, Torr",
    venue: "arXiv 2022",
    url: "https://arxiv.org/abs/2202.08587",
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
