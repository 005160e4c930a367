//! A detector defined outside the crate, registered as a `DetectorKind`
//! and scored on a short synthetic arrival stream. This is the example
//! walked through in `docs/adding-a-detector.md`.
//!
//! ```text
//! cargo run --release --example custom_detector
//! cargo test --release --example custom_detector
//! ```
//!
//! The detector, `mean-multiple`, suspects once the silence since the last
//! heartbeat reaches `multiple` times the mean inter-arrival time seen so
//! far (the configured heartbeat interval until two heartbeats have
//! arrived). Its suspicion is therefore silence / mean, in the units of its
//! swept parameter `multiple`.

use fdsim::detector::phi::first_reaching;
use fdsim::detector::{Arrival, Detector, DetectorKind, Env, ParamSpec, ParamUnit, Params};
use fdsim::fault::Outage;
use fdsim::metrics::{score_detector, ScoreInput};
use fdsim::protocol::heartbeat::Logged;
use fdsim::sim::{Clock, Nanos};

/// Registration: the name scenarios use, the swept parameter (whose units
/// the suspicion is in), other parameters (none) and the builder.
pub static KIND: DetectorKind = DetectorKind {
    name: "mean-multiple",
    summary: "suspect once the silence reaches `multiple` times the mean interval",
    source: "fdsim example (docs/adding-a-detector.md)",
    swept: ParamSpec {
        name: "multiple",
        unit: ParamUnit::Number,
        default: Some(2.0),
        min: 0.0,
        min_inclusive: false,
        max: f64::MAX,
        doc: "silence, in mean intervals, at which the target is suspected",
    },
    params: &[],
    threshold_dependent: false,
    build: |_params, _threshold, env| Box::new(MeanMultiple::new(env.interval)),
};

/// State: the last arrival and the running sum and count of intervals.
#[derive(Clone, Debug)]
pub struct MeanMultiple {
    prior: Nanos,
    last: Option<Nanos>,
    sum: u64,
    count: u64,
}

impl MeanMultiple {
    pub fn new(prior: Nanos) -> MeanMultiple {
        MeanMultiple {
            prior,
            last: None,
            sum: 0,
            count: 0,
        }
    }

    fn mean(&self) -> f64 {
        if self.count == 0 {
            self.prior.0 as f64
        } else {
            self.sum as f64 / self.count as f64
        }
    }
}

impl Detector for MeanMultiple {
    fn heartbeat(&mut self, arrival: &Arrival) {
        if let Some(last) = self.last {
            self.sum += arrival.at.saturating_sub(last).0;
            self.count += 1;
        }
        self.last = Some(arrival.at);
    }

    fn suspicion(&self, now: Nanos) -> f64 {
        match self.last {
            None => f64::INFINITY, // never heard from: suspected
            Some(last) => now.saturating_sub(last).0 as f64 / self.mean(),
        }
    }

    fn crossing(&self, level: f64) -> Option<Nanos> {
        let Some(last) = self.last else {
            return Some(Nanos::ZERO); // already suspected
        };
        // Closed form (silence = level × mean), then the exact nanosecond
        // by checking `suspicion` itself on either side of the guess.
        first_reaching(last, level * self.mean(), |c| self.suspicion(c) >= level)
    }
}

/// Heartbeats sent every 100 ms, arriving 5 ms later with 0–6 ms of
/// jitter; heartbeats 20, 21 and 22 are lost; the target crashes at
/// 5.03 s, just after sending heartbeat 50.
fn arrivals() -> Vec<Logged> {
    (0..=50u64)
        .filter(|seq| !(20..=22).contains(seq))
        .map(|seq| {
            let sent = Nanos::from_millis(100 * seq);
            let at = sent + Nanos::from_millis(5 + seq * 37 % 7);
            Logged {
                arrival: Arrival {
                    at,
                    seq,
                    sent,
                    incarnation: 0,
                },
                true_at: at,
            }
        })
        .collect()
}

/// The table of mistakes and detection times that `main` prints (and
/// docs/adding-a-detector.md shows) for a few multiples.
fn table() -> String {
    let logged = arrivals();
    let outages = [Outage {
        node: 1,
        crash: Nanos::from_millis(5030),
        restart: None,
    }];
    let input = ScoreInput {
        arrivals: &logged,
        outages: &outages,
        clock: Clock::default(),
        warmup: Nanos::ZERO,
        end: Nanos::from_secs(10),
    };
    let env = Env {
        interval: Nanos::from_millis(100),
    };
    let multiples = [1.5, 2.0, 3.0, 5.0];
    let qos = score_detector(&KIND, &Params::new(vec![]), &env, &multiples, input);
    let mut out = String::from("multiple  mistakes  mistake time  detection time\n");
    for (m, q) in multiples.iter().zip(&qos) {
        let detection = q.detections.first().map_or("-".into(), |d| d.to_string());
        out.push_str(&format!(
            "{m:8}  {:8}  {:>12}  {detection:>14}\n",
            q.mistakes,
            q.mistake_time.to_string()
        ));
    }
    out
}

fn main() {
    println!("{}: {}", KIND.name, KIND.summary);
    print!("{}", table());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lost_heartbeats_fool_only_small_multiples() {
        let logged = arrivals();
        let outages = [Outage {
            node: 1,
            crash: Nanos::from_millis(5030),
            restart: None,
        }];
        let input = ScoreInput {
            arrivals: &logged,
            outages: &outages,
            clock: Clock::default(),
            warmup: Nanos::ZERO,
            end: Nanos::from_secs(10),
        };
        let env = Env {
            interval: Nanos::from_millis(100),
        };
        let qos = score_detector(&KIND, &Params::new(vec![]), &env, &[2.0, 5.0], input);
        assert_eq!(qos[0].mistakes, 1);
        assert_eq!(qos[1].mistakes, 0);
        assert_eq!(qos[0].detections.len(), 1);
        assert_eq!(qos[1].detections.len(), 1);
        assert!(qos[0].detections[0] < qos[1].detections[0]);
    }

    #[test]
    fn crossing_is_exact() {
        let mut d = MeanMultiple::new(Nanos::from_millis(100));
        for l in arrivals() {
            d.heartbeat(&l.arrival);
        }
        let c = d.crossing(2.0).unwrap();
        assert!(d.suspicion(c) >= 2.0 && d.suspicion(Nanos(c.0 - 1)) < 2.0);
    }

    /// The walkthrough's table is what `main` prints; with FDSIM_BLESS=1
    /// the page is rewritten instead.
    #[test]
    fn the_walkthrough_shows_the_table_main_prints() {
        let page = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/adding-a-detector.md");
        let text = std::fs::read_to_string(page).unwrap();
        let intro = "which prints, for three lost heartbeats and a crash:\n\n```text\n";
        let start = text.find(intro).expect("the walkthrough shows the table") + intro.len();
        let end = start + text[start..].find("```").unwrap();
        let printed = table();
        if text[start..end] == printed {
            return;
        }
        if std::env::var_os("FDSIM_BLESS").is_some_and(|v| !v.is_empty() && v != "0") {
            std::fs::write(page, format!("{}{printed}{}", &text[..start], &text[end..])).unwrap();
            return;
        }
        panic!(
            "docs/adding-a-detector.md shows\n{}but the example prints\n{printed}\
             to accept: FDSIM_BLESS=1 cargo test --release --example custom_detector",
            &text[start..end]
        );
    }
}
