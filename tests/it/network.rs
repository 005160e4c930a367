//! Realistic networks: bursty (Gilbert–Elliott) loss, duplication,
//! empirical latency, latency spikes, and flapping, partial and one-way
//! partitions, each on the real code path (`Network::transmit` or a whole
//! simulation).
//!
//! Statistical checks allow five standard errors, computed from the
//! number of messages (or bursts) actually counted; the seeds are fixed,
//! so each check is deterministic, and five standard errors keep a correct
//! implementation far from the edge while a wrong parameterisation (off by
//! 10 % or more) fails.

use fdsim::net::{GilbertElliott, Latency, LinkModel, Loss, Network, Transmit};
use fdsim::run::{build_sim, run_seed};
use fdsim::scenario::Scenario;
use fdsim::sim::Nanos;
use std::path::{Path, PathBuf};

/// One link a -> b with this model.
fn link(model: LinkModel, seed: u64) -> Network {
    let mut net = Network::new(&["a".into(), "b".into()]);
    net.set_link(0, 1, model, seed);
    net
}

fn ge_link(ge: GilbertElliott, seed: u64) -> Network {
    link(
        LinkModel {
            loss: Loss::GilbertElliott(ge),
            ..LinkModel::new(Latency::Constant { value: Nanos(1) }, 0.0)
        },
        seed,
    )
}

/// Whether each of `n` messages sent on a -> b was lost.
fn lost_flags(net: &mut Network, n: usize) -> Vec<bool> {
    (0..n)
        .map(|i| match net.transmit(0, 1, Nanos(i as u64)) {
            Transmit::Lost => true,
            Transmit::Deliver(_) | Transmit::Duplicate(..) => false,
            other => panic!("{other:?}"),
        })
        .collect()
}

/// Standard error of the mean loss indicator of `n` consecutive messages
/// of a stationary Gilbert–Elliott link.
///
/// The indicators X_i are Bernoulli(m), m the stationary loss, and
/// conditionally independent given the states, so for k ≥ 1
/// Cov(X_0, X_k) = (loss_bad − loss_good)²·π_B·π_G·λ^k with
/// λ = 1 − p_gb − p_bg the chain's second eigenvalue. For λ ≥ 0 the
/// variance of their sum is at most n·σ², with
/// σ² = m(1 − m) + 2·(loss_bad − loss_good)²·π_B·π_G·λ/(1 − λ).
fn ge_loss_standard_error(ge: &GilbertElliott, n: usize) -> f64 {
    let m = ge.stationary_loss();
    let pb = ge.stationary_bad();
    let lambda = 1.0 - ge.p_good_to_bad - ge.p_bad_to_good;
    assert!(lambda >= 0.0, "the bound below needs λ >= 0");
    let d = ge.loss_bad - ge.loss_good;
    let sigma2 = m * (1.0 - m) + 2.0 * d * d * pb * (1.0 - pb) * lambda / (1.0 - lambda);
    (sigma2 / n as f64).sqrt()
}

#[test]
fn gilbert_loss_matches_the_stationary_rate_and_the_mean_burst_length() {
    // Gilbert's model (no loss when good, all lost when bad), so a run of
    // consecutive losses is exactly one stay in the bad state.
    let ge = GilbertElliott {
        p_good_to_bad: 0.01,
        p_bad_to_good: 0.19,
        loss_good: 0.0,
        loss_bad: 1.0,
    };
    let n = 2_000_000;
    let lost = lost_flags(&mut ge_link(ge, 11), n);

    let rate = lost.iter().filter(|&&l| l).count() as f64 / n as f64;
    let want = ge.stationary_loss(); // 0.05
    let tol = 5.0 * ge_loss_standard_error(&ge, n);
    assert!(
        (rate - want).abs() < tol,
        "loss rate {rate} vs {want} ± {tol}"
    );

    // Runs of losses; a run still open at the end is censored and
    // dropped. The first run, if the link started bad, is a full stay by
    // memorylessness.
    let mut bursts: Vec<u64> = Vec::new();
    let mut run = 0u64;
    for &l in &lost {
        if l {
            run += 1;
        } else if run > 0 {
            bursts.push(run);
            run = 0;
        }
    }
    let count = bursts.len() as f64;
    let mean = bursts.iter().sum::<u64>() as f64 / count;
    // 1/0.19 = 5.263. Stays are i.i.d. geometric on {1, 2, …} with
    // parameter p_bg: standard deviation sqrt(1 − p_bg)/p_bg; the mean of
    // `count` of them has that over sqrt(count).
    let want_burst = ge.mean_burst();
    let p = ge.p_bad_to_good;
    let burst_tol = 5.0 * (1.0 - p).sqrt() / p / count.sqrt();
    assert!(
        (mean - want_burst).abs() < burst_tol,
        "mean burst {mean} vs {want_burst} ± {burst_tol} over {count} bursts"
    );
    eprintln!(
        "gilbert: loss {rate:.5} (stationary {want:.5} ± {tol:.5}), mean burst {mean:.4} \
         (1/p_bg = {want_burst:.4} ± {burst_tol:.4}) over {count} bursts"
    );
}

#[test]
fn gilbert_elliott_loss_with_lossy_states_matches_the_stationary_rate() {
    let ge = GilbertElliott {
        p_good_to_bad: 0.02,
        p_bad_to_good: 0.1,
        loss_good: 0.01,
        loss_bad: 0.6,
    };
    let n = 2_000_000;
    let lost = lost_flags(&mut ge_link(ge, 12), n);
    let rate = lost.iter().filter(|&&l| l).count() as f64 / n as f64;
    let want = ge.stationary_loss(); // (1/6)·0.6 + (5/6)·0.01 = 0.108333…
    let tol = 5.0 * ge_loss_standard_error(&ge, n);
    assert!(
        (rate - want).abs() < tol,
        "loss rate {rate} vs {want} ± {tol}"
    );
    eprintln!("gilbert-elliott: loss {rate:.5} (stationary {want:.5} ± {tol:.5})");
}

#[test]
fn bursty_loss_clumps_losses_that_independent_loss_spreads() {
    // Same 5 % average; the probability that the message after a loss is
    // lost too is 1 − p_bg = 0.81 for the bursty link and 0.05 for the
    // independent one. Given a loss, whether the next message is lost is
    // a fresh Bernoulli trial in both models (for the Gilbert link, one
    // step of the chain from the bad state), so the fraction over `pairs`
    // losses has standard error sqrt(q(1 − q)/pairs).
    let check = |lost: &[bool], q: f64| {
        let pairs = lost.windows(2).filter(|w| w[0]).count() as f64;
        let got = lost.windows(2).filter(|w| w[0] && w[1]).count() as f64 / pairs;
        let tol = 5.0 * (q * (1.0 - q) / pairs).sqrt();
        assert!((got - q).abs() < tol, "{got} vs {q} ± {tol}");
    };
    let ge = GilbertElliott {
        p_good_to_bad: 0.01,
        p_bad_to_good: 0.19,
        loss_good: 0.0,
        loss_bad: 1.0,
    };
    check(&lost_flags(&mut ge_link(ge, 5), 200_000), 0.81);
    let independent = LinkModel::new(Latency::Constant { value: Nanos(1) }, 0.05);
    check(&lost_flags(&mut link(independent, 5), 200_000), 0.05);
}

#[test]
fn duplication_copies_delivered_messages_at_the_set_rate_with_their_own_delays() {
    let (p_dup, p_loss) = (0.2, 0.1);
    let (lo, hi) = (1_000_000u64, 3_000_000u64);
    let model = LinkModel {
        duplicate: p_dup,
        ..LinkModel::new(
            Latency::Uniform {
                min: Nanos(lo),
                max: Nanos(hi),
            },
            p_loss,
        )
    };
    let mut net = link(model, 21);
    let n = 500_000;
    let (mut delivered, mut dups, mut lost) = (0u64, 0u64, 0u64);
    let mut copy_delay_sum = 0.0;
    for _ in 0..n {
        match net.transmit(0, 1, Nanos::ZERO) {
            Transmit::Deliver(_) => delivered += 1,
            Transmit::Duplicate(_, copy) => {
                delivered += 1;
                dups += 1;
                copy_delay_sum += copy.0 as f64;
            }
            Transmit::Lost => lost += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(delivered + lost, n);
    // Lost messages are never duplicated: duplicates are a binomial draw
    // over the delivered ones.
    let d = delivered as f64;
    let tol = 5.0 * (d * p_dup * (1.0 - p_dup)).sqrt();
    assert!(
        (dups as f64 - d * p_dup).abs() < tol,
        "{dups} duplicates of {delivered} vs {} ± {tol}",
        d * p_dup
    );
    // A copy's delay is its own draw from the link's distribution:
    // uniform, mean (lo + hi)/2, standard deviation (hi − lo)/√12.
    let mean = copy_delay_sum / dups as f64;
    let want = (lo + hi) as f64 / 2.0;
    let mean_tol = 5.0 * (hi - lo) as f64 / 12f64.sqrt() / (dups as f64).sqrt();
    assert!(
        (mean - want).abs() < mean_tol,
        "copy delay {mean} vs {want} ± {mean_tol}"
    );
}

const NINE_DETECTORS: &str = r#"
[[detectors]]
kind = "fixed"
timeout = ["60ms", "150ms", "250ms"]
[[detectors]]
kind = "chen-nfds"
delta = ["20ms", "120ms"]
[[detectors]]
kind = "chen"
alpha = ["10ms", "100ms"]
[[detectors]]
kind = "bertier"
phi = [1, 4]
[[detectors]]
kind = "two-window"
alpha = ["10ms", "100ms"]
[[detectors]]
kind = "phi"
threshold = [1, 8]
[[detectors]]
kind = "phi-akka"
threshold = [1, 8]
acceptable_heartbeat_pause = "0s"
first_heartbeat_estimate = "100ms"
[[detectors]]
kind = "phi-exp"
threshold = [0.5, 2]
[[detectors]]
kind = "satzger"
threshold = [0.5, 0.99]
"#;

fn duplicating(latency: &str, loss: f64, duplicate: f64) -> Scenario {
    super::scenario(&format!(
        r#"
        duration = "1h"
        seeds = 1
        [heartbeat]
        interval = "100ms"
        [network]
        latency = {latency}
        loss = {loss}
        duplicate = {duplicate}
        [[faults]]
        kind = "crash-loop"
        node = "target"
        every = "5m"
        down = "20s"
        jitter = "2m"
        {NINE_DETECTORS}
        "#
    ))
}

#[test]
fn every_detector_takes_duplicate_heartbeats_in_its_stride() {
    // Duplicates with their own delays, on a jittery lossy link.
    let sc = duplicating(
        r#"{ dist = "lognormal", median = "5ms", sigma = 0.8 }"#,
        0.05,
        0.3,
    );
    let (mut sim, outages) = build_sim(&sc, 4);
    sim.run_until(sc.duration);
    let st = sim.stats();
    assert!(st.balanced(), "{st:?}");
    // About 0.95 × 0.3 × 33,600 ≈ 9,500 copies: only check that
    // duplication happened at scale.
    assert!(st.duplicated > 5_000, "{st:?}");
    let arrivals = sim.agent(0).arrivals_from(1);
    let repeated = arrivals
        .windows(2)
        .filter(|w| w[0].arrival.seq == w[1].arrival.seq)
        .count();
    assert!(repeated > 1_000, "{repeated} back-to-back repeats");
    let res = run_seed(&sc, 4);
    for (d, per_value) in res.qos.iter().enumerate() {
        for q in per_value {
            let name = &sc.detectors[d].label;
            assert_eq!(q.crashes() as usize, outages.len(), "{name}");
            assert!(q.suspect_time <= q.up_time, "{name}");
            let pa = q.query_accuracy().unwrap();
            assert!((0.0..=1.0).contains(&pa), "{name}: P_A {pa}");
        }
    }
}

#[test]
fn same_instant_duplicates_change_nothing_for_detectors_that_track_the_freshest_heartbeat() {
    // With a constant delay a copy arrives at the same instant as its
    // original. No loss, so duplication's extra draws cannot shift any
    // loss decision; the crash loop draws from its own stream.
    let lat = r#"{ dist = "constant", value = "5ms" }"#;
    let once = duplicating(lat, 0.0, 0.0);
    let twice = duplicating(lat, 0.0, 1.0);
    let a = run_seed(&once, 3);
    let b = run_seed(&twice, 3);
    assert_eq!(
        b.stats.duplicated,
        b.stats.sent - b.stats.cut - b.stats.no_route
    );
    // fixed: the last arrival time; chen-nfds: the highest sequence
    // number; chen and two-window: the highest sequence number and a mean
    // of delay samples, all equal here. A copy changes none of them.
    for kind in ["fixed", "chen-nfds", "chen", "two-window"] {
        let d = once.detectors.iter().position(|d| d.label == kind).unwrap();
        assert_eq!(a.qos[d], b.qos[d], "{kind}");
        assert!(a.qos[d].iter().any(|q| !q.detections.is_empty()));
    }
    assert!(a.qos[0][0].mistakes > 10_000, "60 ms < interval: mistakes");
}

/// Parses `text` as if it were the file `dir/name`.
fn parse_in(dir: &Path, name: &str, text: &str) -> Result<Scenario, String> {
    Scenario::parse(&dir.join(name), text).map_err(|e| e.to_string())
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fdsim-net-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn empirical_pair(file: &str) -> String {
    format!(
        r#"duration = "1h"
seeds = 1
[heartbeat]
interval = "100ms"
[network]
latency = {{ dist = "empirical", file = "{file}" }}
[[detectors]]
kind = "fixed"
timeout = "1s"
"#
    )
}

#[test]
fn empirical_latency_replays_the_samples_uniformly() {
    let dir = temp_dir("emp");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(
        dir.join("data/d.csv"),
        "# three delays\n\nlatency_ms\n1\n2.5\r\n4.000001\n",
    )
    .unwrap();
    let sc = parse_in(&dir, "s.toml", &empirical_pair("data/d.csv")).unwrap();
    let (mut sim, _) = build_sim(&sc, 8);
    sim.run_until(sc.duration);
    let values = [Nanos::from_millis(1), Nanos(2_500_000), Nanos(4_000_001)];
    let mut counts = [0f64; 3];
    let arrivals = sim.agent(0).arrivals_from(1);
    for a in arrivals {
        let delay = a.true_at - a.arrival.sent;
        let i = values.iter().position(|&v| v == delay);
        counts[i.unwrap_or_else(|| panic!("delay {delay} is not a sample"))] += 1.0;
    }
    // Each sample is drawn with probability 1/3: binomial counts.
    let n = arrivals.len() as f64;
    let tol = 5.0 * (n / 3.0 * (2.0 / 3.0)).sqrt();
    for c in counts {
        assert!((c - n / 3.0).abs() < tol, "{counts:?} of {n}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn empirical_latency_file_problems_name_the_file_field_and_the_csv_line() {
    let dir = temp_dir("emp-err");
    let text = empirical_pair("d.csv");
    // `file = "d.csv"` is on line 6; its value starts at column 40.
    let at = "s.toml:6:40: `network.latency.file`: ";
    let cases: [(Option<&str>, &str); 6] = [
        (None, "cannot read d.csv (looked for "),
        (Some(""), "d.csv is empty; write the header `latency_ms`"),
        (Some("latency_ms\n"), "d.csv has a header but no delays"),
        (
            Some("latency_ms\n1.5\n2,5\n"),
            "d.csv line 3: \"2,5\" is not a delay in milliseconds",
        ),
        (
            Some("# c\nlatency_ms\n1\n-0.5\n"),
            "d.csv line 4: delay -0.5 ms is negative",
        ),
        (
            Some("1.5\n"),
            "d.csv line 1: expected the header `latency_ms`",
        ),
    ];
    for (csv, want) in cases {
        let _ = std::fs::remove_file(dir.join("d.csv"));
        if let Some(body) = csv {
            std::fs::write(dir.join("d.csv"), body).unwrap();
        }
        let e = parse_in(&dir, "s.toml", &text).unwrap_err();
        assert!(e.contains(&format!("{at}{want}")), "{csv:?}: {e}");
        assert!(
            e.contains("file = \"d.csv\""),
            "the snippet shows the field: {e}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every heartbeat the monitor (node 0) got from the target (node 1):
/// (send time, true one-way delay), both in ms.
fn delays_ms(sc: &Scenario) -> Vec<(f64, f64)> {
    let (mut sim, _) = build_sim(sc, 1);
    sim.run_until(sc.duration);
    sim.agent(0)
        .arrivals_from(1)
        .iter()
        .map(|a| {
            (
                a.arrival.sent.as_millis_f64(),
                (a.true_at - a.arrival.sent).as_millis_f64(),
            )
        })
        .collect()
}

#[test]
fn a_spike_adds_its_delay_or_swaps_the_distribution_for_messages_sent_in_its_window() {
    let sc = super::scenario(
        r#"
        duration = "60s"
        seeds = 1
        [heartbeat]
        interval = "100ms"
        [network]
        latency = { dist = "constant", value = "5ms" }
        [[network.spikes]]
        start = "10s"
        end = "20s"
        add = "200ms"
        [[network.spikes]]
        start = "30s"
        end = "40s"
        links = [["target", "monitor"]]
        latency = { dist = "constant", value = "50ms" }
        [[network.spikes]]                 # the other direction: no effect
        start = "0s"
        end = "60s"
        links = [["monitor", "target"]]
        add = "1s"
        [[detectors]]
        kind = "fixed"
        timeout = "1s"
        "#,
    );
    let got = delays_ms(&sc);
    // Heartbeats are sent at 0, 100 ms, …, 59.9 s; the last ones arrive
    // after the end of the run only if delayed past it (none here).
    assert_eq!(got.len(), 600);
    for (i, &(sent, delay)) in got.iter().enumerate() {
        let want = if (10_000.0..20_000.0).contains(&sent) {
            205.0
        } else if (30_000.0..40_000.0).contains(&sent) {
            50.0
        } else {
            5.0
        };
        assert_eq!(delay, want, "heartbeat {i} sent at {sent} ms");
    }
    // The end of the spike reorders: the heartbeat sent at 20 s (arriving
    // at 20.005 s) overtakes the one sent at 19.9 s (arriving at 20.105 s).
    let sent_order: Vec<f64> = got.iter().map(|g| g.0).collect();
    let at = |t: f64| sent_order.iter().position(|&s| s == t).unwrap();
    assert!(at(20_000.0) < at(19_900.0));
    let overtaken = sent_order.windows(2).filter(|w| w[0] > w[1]).count();
    assert_eq!(overtaken, 1, "only the end of the add spike reorders");
}

#[test]
fn a_flapping_partition_cuts_exactly_its_down_periods() {
    let sc = super::scenario(
        r#"
        duration = "60s"
        seeds = 1
        [heartbeat]
        interval = "100ms"
        [network]
        latency = { dist = "constant", value = "150ms" }
        [[partitions]]
        start = "10s"
        end = "50s"
        a = ["target"]
        b = ["monitor"]
        flap = { up = "3s", down = "2s" }
        [[detectors]]
        kind = "fixed"
        timeout = "1s"
        "#,
    );
    // Cut on [10, 12), [15, 17), …, [45, 47) seconds, listed by hand.
    let cut: Vec<(u64, u64)> = (0..8)
        .map(|j| (10_000 + 5_000 * j, 12_000 + 5_000 * j))
        .collect();
    assert_eq!(cut.last(), Some(&(45_000, 47_000)));
    let in_cut = |t: u64| cut.iter().any(|&(s, e)| s <= t && t < e);
    // Heartbeat k is sent at 100k ms and arrives 150 ms later; it is
    // dropped if either instant is in a cut period, and in flight at the
    // end if it arrives at or after 60 s.
    let want: Vec<f64> = (0..600u64)
        .map(|k| 100 * k)
        .filter(|&t| !in_cut(t) && !in_cut(t + 150) && t + 150 < 60_000)
        .map(|t| t as f64)
        .collect();
    let got: Vec<f64> = delays_ms(&sc).iter().map(|g| g.0).collect();
    assert_eq!(got, want);
    // Each cut period drops the 20 heartbeats sent in it and the one sent
    // 100 ms before it (arriving 50 ms into it); the heartbeat sent at
    // 59.9 s is still in flight at the end.
    assert_eq!(600 - 1 - got.len(), 8 * 21);
}

fn three_nodes(direction: &str) -> Scenario {
    super::scenario(&format!(
        r#"
        duration = "30s"
        seeds = 1
        [heartbeat]
        interval = "100ms"
        [nodes]
        monitors = ["a", "b", "c"]
        targets = ["a", "b", "c"]
        [network]
        latency = {{ dist = "constant", value = "1ms" }}
        [[partitions]]
        start = "10s"
        end = "20s"
        a = ["a"]
        b = ["b"]
        direction = "{direction}"
        [[detectors]]
        kind = "fixed"
        timeout = "1s"
        "#
    ))
}

/// `heard[to][from]`: heartbeats node `to` got from node `from` whose
/// send time falls in [10 s, 20 s), and in all.
fn heard(sc: &Scenario) -> [[(usize, usize); 3]; 3] {
    let (mut sim, _) = build_sim(sc, 1);
    sim.run_until(sc.duration);
    let mut out = [[(0, 0); 3]; 3];
    for (to, row) in out.iter_mut().enumerate() {
        for (from, cell) in row.iter_mut().enumerate() {
            let log = sim.agent(to as u32).arrivals_from(from as u32);
            let during = log
                .iter()
                .filter(|a| (10_000.0..20_000.0).contains(&a.arrival.sent.as_millis_f64()))
                .count();
            *cell = (during, log.len());
        }
    }
    out
}

#[test]
fn a_partial_partition_cuts_a_from_b_while_c_still_reaches_both() {
    // Nodes a = 0, b = 1, c = 2; 300 heartbeats per sender, 100 of them
    // sent inside the window.
    let h = heard(&three_nodes("both"));
    assert_eq!(h[0][1], (0, 200), "a hears nothing from b while cut");
    assert_eq!(h[1][0], (0, 200), "b hears nothing from a while cut");
    for (to, from) in [(2, 0), (2, 1), (0, 2), (1, 2)] {
        assert_eq!(h[to][from], (100, 300), "{from} -> {to} passes");
    }
}

#[test]
fn a_one_way_partition_drops_one_direction_only() {
    let h = heard(&three_nodes("a-to-b"));
    assert_eq!(h[1][0], (0, 200), "a -> b is cut");
    assert_eq!(h[0][1], (100, 300), "b -> a passes");
    for (to, from) in [(2, 0), (2, 1), (0, 2), (1, 2)] {
        assert_eq!(h[to][from], (100, 300), "{from} -> {to} passes");
    }
    let h = heard(&three_nodes("b-to-a"));
    assert_eq!((h[0][1], h[1][0]), ((0, 200), (100, 300)));
}

#[test]
fn the_realistic_network_example_of_the_docs_validates_and_runs() {
    use fdsim::net::{Direction, Flap, SpikeChange};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/scenarios.md")).unwrap();
    let start = doc
        .find("```toml\nname = \"realistic-network\"")
        .expect("the example is in docs/scenarios.md");
    let body = &doc[start + "```toml\n".len()..];
    let body = &body[..body.find("```").unwrap()];
    let sc = Scenario::parse(&root.join("scenarios/realistic-network.toml"), body)
        .unwrap_or_else(|e| panic!("{e}"));
    let id = |n: &str| sc.nodes.iter().position(|x| x == n).unwrap() as u32;
    let model = |f: &str, t: &str| {
        let (f, t) = (id(f), id(t));
        &sc.links.iter().find(|l| l.0 == f && l.1 == t).unwrap().2
    };
    let wifi = model("m1", "t3");
    assert!(matches!(&wifi.latency, Latency::Empirical { samples, .. } if samples.len() == 400));
    assert_eq!(
        (wifi.loss.clone(), wifi.duplicate),
        (Loss::Independent(0.02), 0.01)
    );
    let plain = model("t2", "m2");
    assert!((plain.loss.mean() - 0.002 / 0.252).abs() < 1e-12);
    assert_eq!(plain.spikes.len(), 1);
    let detour = model("t1", "m2");
    assert!(matches!(detour.spikes[1].change, SpikeChange::Replace(_)));
    assert_eq!(sc.partitions[0].direction, Direction::AToB);
    assert_eq!(
        sc.partitions[0].flap,
        Some(Flap {
            up: Nanos::from_secs(30),
            down: Nanos::from_secs(5)
        })
    );
    let res = run_seed(&sc, sc.seeds[0]);
    assert!(res.stats.balanced() && res.stats.duplicated > 0);
}
