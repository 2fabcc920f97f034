//! Independent work across cores. Natively the units run on rayon's pool
//! (`--threads N` picks its size); in wasm they run in order on this thread,
//! since the page splits across its pool of workers instead
//! (`ui::worker::split`). Every split here is fixed by the work, never by
//! the thread count, and each unit draws its randomness from counters keyed
//! by its own index, so the numbers are the same for every N.

/// `f(0), f(1), …, f(n − 1)`, in that order.
#[cfg(not(target_arch = "wasm32"))]
pub fn map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    use rayon::prelude::*;
    (0..n).into_par_iter().map(f).collect()
}

/// `f(0), f(1), …, f(n − 1)`, in that order.
#[cfg(target_arch = "wasm32")]
pub fn map<T>(n: usize, f: impl Fn(usize) -> T) -> Vec<T> {
    (0..n).map(f).collect()
}

/// `f(0, items[0]), f(1, items[1]), …`, each item exactly once, the results in order.
#[cfg(not(target_arch = "wasm32"))]
pub fn map_mut<T: Send, R: Send>(
    items: &mut [T],
    f: impl Fn(usize, &mut T) -> R + Sync + Send,
) -> Vec<R> {
    use rayon::prelude::*;
    items
        .par_iter_mut()
        .enumerate()
        .map(|(i, t)| f(i, t))
        .collect()
}

/// `f(0, items[0]), f(1, items[1]), …`, each item exactly once, the results in order.
#[cfg(target_arch = "wasm32")]
pub fn map_mut<T, R>(items: &mut [T], f: impl Fn(usize, &mut T) -> R) -> Vec<R> {
    items.iter_mut().enumerate().map(|(i, t)| f(i, t)).collect()
}

/// Runs `f` with `threads` native threads for the splits above (`None`: all
/// cores); an error where the system cannot start them.
#[cfg(not(target_arch = "wasm32"))]
pub fn with_threads<R: Send>(
    threads: Option<usize>,
    f: impl FnOnce() -> R + Send,
) -> Result<R, String> {
    match threads {
        None => Ok(f()),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(|pool| pool.install(f))
            .map_err(|e| format!("cannot start {n} threads: {e}")),
    }
}
