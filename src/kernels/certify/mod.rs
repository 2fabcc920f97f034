//! Certified robustness by randomized smoothing (Cohen, Rosenfeld & Kolter,
//! ICML 2019): base classifiers, the Monte Carlo of the smoothed classifier,
//! CERTIFY and its soft variant, and the true radius in 2-D.

pub mod base;
pub mod radius;
pub mod smooth;
pub mod stats;
pub mod train;
