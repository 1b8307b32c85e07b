//! The search for the highest rate a fan-out sustains, shared by Switchboard's run and the
//! raw NATS yardstick so that both are measured the same way: the rate is raised by half
//! until a step fails (or, if the start fails, halved until one passes: a start above the
//! machine, or a hiccup in the first step, costs a few steps instead of the run), then the
//! gap between the last step that passed and the one that failed is halved a few times.
//! Without the halving a result could sit up to a third below the edge, and two runs
//! either side of a ×1.5 step read 50 % apart.

use std::future::Future;

/// Steps up before giving up (1.5¹⁹ times a start of 20 messages/s is beyond any machine).
const MAX_STEPS: usize = 20;
/// Halvings of the rate below a start that failed before giving up (down to a 64th).
const STEPS_DOWN: usize = 6;
/// Halvings of the gap after the first failure: the result is within a sixteenth (about
/// 6 %) of the edge.
const NARROWING: usize = 3;

/// The highest rate whose step passed, with what that step returned (`step` returns
/// `Some` when it passed); `None` if even a 64th of `start` failed.
pub(crate) async fn highest_passing<T, F, Fut>(
    start: f64,
    mut step: F,
) -> anyhow::Result<Option<(f64, T)>>
where
    F: FnMut(f64) -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let mut best = None;
    let mut failed = None;
    let mut rate = start;
    for _ in 0..MAX_STEPS {
        match step(rate).await? {
            Some(outcome) => best = Some((rate, outcome)),
            None => {
                failed = Some(rate);
                break;
            }
        }
        rate *= 1.5;
    }
    if best.is_none() {
        for _ in 0..STEPS_DOWN {
            rate /= 2.0;
            if let Some(outcome) = step(rate).await? {
                best = Some((rate, outcome));
                break;
            }
            failed = Some(rate);
        }
    }
    let (Some(mut passed), Some(mut failed)) = (best.as_ref().map(|(rate, _)| *rate), failed)
    else {
        return Ok(best);
    };
    for _ in 0..NARROWING {
        let rate = (passed + failed) / 2.0;
        match step(rate).await? {
            Some(outcome) => {
                passed = rate;
                best = Some((rate, outcome));
            }
            None => failed = rate,
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fan-out that keeps up below `edge` messages/s; returns the rates tried.
    async fn search(start: f64, edge: f64) -> (Option<f64>, Vec<f64>) {
        let mut tried = Vec::new();
        let best = highest_passing(start, |rate| {
            tried.push(rate);
            async move { Ok((rate < edge).then_some(rate)) }
        })
        .await
        .unwrap();
        (
            best.map(|(rate, outcome)| {
                assert_eq!(rate, outcome);
                rate
            }),
            tried,
        )
    }

    #[tokio::test]
    async fn the_result_is_within_a_sixteenth_below_the_edge() {
        for edge in [25.0, 100.0, 342.0, 1_000.0, 7_777.0] {
            let (best, tried) = search(20.0, edge).await;
            let best = best.unwrap();
            assert!(best < edge, "edge {edge}: found {best}, tried {tried:?}");
            assert!(best >= edge * 15.0 / 16.0, "edge {edge}: found {best}, tried {tried:?}");
        }
    }

    #[tokio::test]
    async fn a_start_that_fails_is_halved_until_a_step_passes_then_narrowed() {
        let (best, tried) = search(100.0, 30.0).await;
        assert_eq!(&tried[..3], [100.0, 50.0, 25.0], "down until 25 passes");
        let best = best.unwrap();
        assert!((25.0..30.0).contains(&best), "between the pass and the failure: {tried:?}");
    }

    #[tokio::test]
    async fn nothing_is_found_when_a_64th_of_the_start_fails() {
        let (best, tried) = search(64.0, 0.5).await;
        assert_eq!(best, None);
        assert_eq!(tried, [64.0, 32.0, 16.0, 8.0, 4.0, 2.0, 1.0], "no narrowing without a pass");
    }
}
