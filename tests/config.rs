//! The Config <-> query mechanism: strict for the CLI, lenient for the page,
//! and never a panic or an out-of-range value, whatever the input.

use gradlab::experiments::config::Config;
use gradlab::experiments::rng::{MAX_COUNT, RngConfig};
use proptest::prelude::*;

#[test]
fn defaults_round_trip_through_the_query() {
    let cfg = RngConfig {
        seed: 123,
        stream: 4,
        count: 777,
    };
    let q = cfg.to_query();
    assert_eq!(q, "seed=123&stream=4&count=777");
    let pairs: Vec<(&str, &str)> = q.split('&').filter_map(|kv| kv.split_once('=')).collect();
    assert_eq!(RngConfig::from_pairs_strict(pairs).unwrap(), cfg);
}

#[test]
fn lenient_parsing_clamps_and_names_the_field() {
    let (cfg, notes) = RngConfig::from_pairs_lenient([
        ("count", "1e12"),
        ("seed", "NaN"),
        ("stream", "<script>alert(1)</script>"),
        ("bogus", "1"),
    ]);
    assert_eq!(cfg.count, MAX_COUNT);
    assert_eq!(cfg.seed, RngConfig::default().seed);
    assert_eq!(cfg.stream, RngConfig::default().stream);
    let fields: Vec<&str> = notes.iter().map(|n| n.field.as_str()).collect();
    assert_eq!(fields, ["count", "seed", "stream", "bogus"]);
    assert!(notes[0].message.contains("maximum"), "{}", notes[0]);
    // Hostile text is echoed shortened and quoted, never whole.
    assert!(notes[2].message.len() < 80, "{}", notes[2]);
}

#[test]
fn repeated_keys_are_named() {
    let (cfg, notes) = RngConfig::from_pairs_lenient([("count", "5"), ("count", "6")]);
    assert_eq!(cfg.count, 6);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].field, "count");
    assert!(RngConfig::from_pairs_strict([("count", "5"), ("count", "6")]).is_err());
}

/// A link with 100,000 distinct unknown keys (plus a known one at the end)
/// parses in linear time: each key is checked against the keys seen so far
/// in a hash set. With a list (the old code) that is 100,000²/2 = 5·10^9
/// string comparisons, over a minute in a debug build; linear, it takes well
/// under a second. The 10 s bound leaves a 2-core machine under load ample
/// room and is still far below the quadratic cost.
#[test]
fn many_distinct_keys_parse_in_linear_time() {
    let keys: Vec<(String, String)> = (0..100_000)
        .map(|i| (format!("k{i}"), i.to_string()))
        .chain([("seed".to_string(), "5".to_string())])
        .collect();
    let pairs = || keys.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let start = std::time::Instant::now();
    let (cfg, notes) = RngConfig::from_pairs_lenient(pairs());
    assert_eq!(cfg.seed, 5);
    assert_eq!(notes.len(), 100_000, "one note per unknown key");
    assert!(RngConfig::from_pairs_strict(pairs()).is_err());
    let took = start.elapsed();
    assert!(took.as_secs_f64() < 10.0, "100,000 keys took {took:?}");
}

fn in_range(cfg: &RngConfig) -> bool {
    (1..=MAX_COUNT).contains(&cfg.count)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100_000, ..ProptestConfig::default() })]

    /// Arbitrary keys and values: lenient parsing yields an in-range config,
    /// strict parsing agrees with it whenever it accepts.
    #[test]
    fn arbitrary_pairs_never_escape_the_ranges(
        pairs in proptest::collection::vec(
            (prop_oneof!["seed", "stream", "count", ".{0,8}"],
             prop_oneof![".{0,40}", "-?[0-9]{0,25}(\\.[0-9]{0,3})?(e-?[0-9]{1,3})?", "NaN|inf|-inf|Infinity"]),
            0..6)
    ) {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (lenient, _) = RngConfig::from_pairs_lenient(pairs.iter().copied());
        prop_assert!(in_range(&lenient));
        if let Ok(strict) = RngConfig::from_pairs_strict(pairs.iter().copied()) {
            prop_assert!(in_range(&strict));
            prop_assert_eq!(strict, lenient);
        }
    }
}

/// Every value the lenient parser produces is one the strict parser accepts,
/// unchanged: so no link can smuggle an out-of-range value into an experiment.
fn lenient_output_is_strictly_valid<C: Config + std::fmt::Debug>(pairs: &[(String, String)]) {
    let (cfg, _) = C::from_pairs_lenient(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let canonical = cfg.to_pairs();
    let reparsed = C::from_pairs_strict(canonical.iter().map(|(k, v)| (*k, v.as_str())));
    assert_eq!(reparsed.as_ref(), Ok(&cfg), "{pairs:?}");
}

fn any_pairs(keys: &'static [&'static str]) -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(
        (
            prop_oneof![
                proptest::sample::select(keys).prop_map(str::to_string),
                ".{0,6}"
            ],
            prop_oneof![
                ".{0,30}",
                "-?[0-9]{0,22}(\\.[0-9]{0,4})?(e-?[0-9]{1,3})?",
                "(-?[0-9]{1,4}(\\.[0-9])?,){0,20}-?[0-9]{1,4}",
                "((-?[0-9]{1,3},-?[0-9]{1,3});){0,5}-?[0-9],-?[0-9]",
                "NaN|inf|-inf|true|false|cpu|gpu|student-t|stable|quadratic|spirals3|gauss8|relu|2|inf|gmm8|swissroll|custom|drawn|exact-gmm|empirical|smoothed|mlp|ddim|heun|langevin|iadb|cosine|linear",
            ],
        ),
        0..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100_000, ..ProptestConfig::default() })]

    #[test]
    fn gumbel_links_stay_valid(pairs in any_pairs(&["logits", "weights", "objective", "tau", "samples", "seed", "anneal", "tau_min", "lr", "steps", "batch"])) {
        lenient_output_is_strictly_valid::<gradlab::experiments::gumbel::GumbelConfig>(&pairs);
    }

    #[test]
    fn clipping_links_stay_valid(pairs in any_pairs(&["objective", "noise", "df", "alpha", "fraction", "scale", "state_dependent", "steps", "runs", "batch", "lr", "threshold", "groups", "norm", "seed"])) {
        lenient_output_is_strictly_valid::<gradlab::experiments::clipping::ClippingConfig>(&pairs);
    }

    #[test]
    fn robust_flags_stay_valid(pairs in any_pairs(&["method", "threshold", "groups", "grads", "norm"])) {
        lenient_output_is_strictly_valid::<gradlab::experiments::clipping::RobustConfig>(&pairs);
    }

    #[test]
    fn train_mlp_flags_stay_valid(pairs in any_pairs(&["dataset", "hidden", "activation", "steps", "lr", "batch", "seed", "train", "test", "every", "smoothing", "maxsup", "weight_decay"])) {
        lenient_output_is_strictly_valid::<gradlab::experiments::train_mlp::TrainMlpConfig>(&pairs);
    }

    #[test]
    fn label_smoothing_links_stay_valid(pairs in any_pairs(&["dataset", "smoothing", "maxsup", "tsla", "noise", "hidden", "steps", "lr", "batch", "seed", "train", "test"])) {
        lenient_output_is_strictly_valid::<gradlab::experiments::label_smoothing::LabelSmoothingConfig>(&pairs);
    }

    #[test]
    fn diffusion_links_stay_valid(pairs in any_pairs(&["dataset", "score", "sampler", "schedule", "steps", "eta", "n", "guidance", "project", "apg_eta", "apg_r", "apg_beta", "smoothing", "train", "delta", "langevin_steps", "langevin_delta", "seed", "gmm", "gmm_std", "trails", "field"])) {
        lenient_output_is_strictly_valid::<gradlab::experiments::diffusion::DiffusionConfig>(&pairs);
    }

    #[test]
    fn denoiser_flags_stay_valid(pairs in any_pairs(&["dataset", "hidden", "steps", "batch", "lr", "p_uncond", "seed"])) {
        lenient_output_is_strictly_valid::<gradlab::experiments::denoiser::DenoiserConfig>(&pairs);
    }

    #[test]
    fn rng_links_stay_valid(pairs in any_pairs(&["seed", "stream", "count"])) {
        lenient_output_is_strictly_valid::<RngConfig>(&pairs);
    }
}
