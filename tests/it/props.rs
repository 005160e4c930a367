//! Properties over random scenarios, stated as named invariants.

use fdsim::fault;
use fdsim::run::{build_sim, run_seed};
use fdsim::sim::TraceEvent;
use proptest::prelude::*;

/// A random but valid scenario: 2-4 nodes, any latency distribution,
/// independent or bursty loss, duplication, latency spikes, partitions
/// (some flapping) and crashes, a few minutes long.
fn scenario_text() -> impl Strategy<Value = String> {
    let latency = prop_oneof![
        (1u64..20).prop_map(|v| format!(r#"{{ dist = "constant", value = "{v}ms" }}"#)),
        (1u64..10, 0u64..30).prop_map(|(a, b)| format!(
            r#"{{ dist = "uniform", min = "{a}ms", max = "{}ms" }}"#,
            a + b
        )),
        (1u64..50, 0u64..50)
            .prop_map(|(m, s)| format!(r#"{{ dist = "normal", mean = "{m}ms", std = "{s}ms" }}"#)),
        (1u64..50, 0.0f64..1.5).prop_map(|(m, s)| format!(
            r#"{{ dist = "lognormal", median = "{m}ms", sigma = {s} }}"#
        )),
        (0u64..5, 1u64..40).prop_map(|(s, m)| format!(
            r#"{{ dist = "exponential", shift = "{s}ms", mean = "{}ms" }}"#,
            s + m
        )),
        (1u64..20, 1.1f64..4.0)
            .prop_map(|(x, a)| format!(r#"{{ dist = "pareto", scale = "{x}ms", shape = {a} }}"#)),
    ];
    let loss = prop_oneof![
        (0.0f64..0.5).prop_map(|p| format!("loss = {p}")),
        (0.0f64..0.3, 0.01f64..1.0, 0.0f64..0.2, 0.0f64..1.0).prop_map(|(gb, bg, lg, lb)| format!(
            "loss_model = {{ kind = \"gilbert-elliott\", p_good_to_bad = {gb}, p_bad_to_good = {bg}, \
             loss_good = {lg}, loss_bad = {lb} }}"
        )),
    ];
    let network_extras = (
        loss,
        prop_oneof![Just(0.0f64), 0.0f64..1.0],
        // latency spikes on every link: additions, and at most one replacement
        proptest::collection::vec((0u64..170, 1u64..60, 0u64..500), 0..3),
        prop::option::of((0u64..170, 1u64..60, 0u64..100)),
    );
    (
        latency,
        network_extras,
        1u64..4,
        10u64..300,
        proptest::collection::vec(
            (0u64..170, 1u64..60, 0u8..3, 0usize..3, prop::option::of((1u64..20, 1u64..10))),
            0..3,
        ),
        proptest::collection::vec((0u64..170, prop::option::of(1u64..40)), 0..2),
        proptest::collection::btree_set(10u64..2000, 1..4),
    )
        .prop_map(|(lat, (loss, dup, adds, replace), targets, interval, parts, crashes, timeouts)| {
            let target_names: Vec<String> = (0..targets).map(|i| format!("t{i}")).collect();
            let mut s = format!(
                "duration = \"3m\"\nwarmup = \"5s\"\nseeds = 1\n[heartbeat]\ninterval = \"{interval}ms\"\n\
                 [nodes]\nmonitors = [\"m\"]\ntargets = [{}]\n[network]\nlatency = {lat}\n{loss}\nduplicate = {dup}\n",
                target_names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
            );
            for (start, len, add) in adds {
                s += &format!(
                    "[[network.spikes]]\nstart = \"{start}s\"\nend = \"{}s\"\nadd = \"{add}ms\"\n",
                    start + len
                );
            }
            if let Some((start, len, max)) = replace {
                s += &format!(
                    "[[network.spikes]]\nstart = \"{start}s\"\nend = \"{}s\"\n\
                     latency = {{ dist = \"uniform\", min = \"0ms\", max = \"{max}ms\" }}\n",
                    start + len
                );
            }
            for (start, len, dir, t, flap) in parts {
                let dir = ["both", "a-to-b", "b-to-a"][dir as usize];
                let t = &target_names[t % target_names.len()];
                s += &format!(
                    "[[partitions]]\nstart = \"{start}s\"\nend = \"{}s\"\na = [\"{t}\"]\nb = [\"m\"]\ndirection = \"{dir}\"\n",
                    start + len
                );
                if let Some((up, down)) = flap {
                    s += &format!("flap = {{ up = \"{up}s\", down = \"{down}s\" }}\n");
                }
            }
            // At most one crash per target so faults never overlap.
            for (i, (at, restart)) in crashes.into_iter().enumerate() {
                let t = &target_names[i % target_names.len()];
                if i >= target_names.len() {
                    break;
                }
                s += &format!("[[faults]]\nkind = \"crash\"\nnode = \"{t}\"\nat = \"{at}s\"\n");
                if let Some(r) = restart {
                    s += &format!("restart_after = \"{r}s\"\n");
                }
            }
            let list: Vec<String> = timeouts.iter().map(|t| format!("\"{t}ms\"")).collect();
            s += &format!("[[detectors]]\nkind = \"fixed\"\ntimeout = [{}]\n", list.join(", "));
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn engine_invariants_hold(text in scenario_text(), seed in 0u64..1000) {
        let sc = super::scenario(&text);
        let (mut sim, _) = build_sim(&sc, seed);
        sim.enable_trace();
        sim.run_until(sc.duration);

        // virtual time never goes backwards
        let times: Vec<_> = sim.trace().iter().map(|e| match e {
            TraceEvent::Delivered { at, .. } | TraceEvent::TimerFired { at, .. }
            | TraceEvent::Crashed { at, .. } | TraceEvent::Restarted { at, .. }
            | TraceEvent::Paused { at, .. } => *at,
        }).collect();
        prop_assert!(times.windows(2).all(|w| w[0] <= w[1]));

        // no message is delivered before it is sent, nor across an active partition
        for e in sim.trace() {
            if let TraceEvent::Delivered { from, to, sent, at } = *e {
                prop_assert!(at >= sent);
                prop_assert!(!sim.network().is_cut(from, to, at));
                prop_assert!(!sim.network().is_cut(from, to, sent));
            }
        }

        // delivered + lost (all causes) + in flight = sent + duplicated
        let st = sim.stats();
        prop_assert!(st.balanced(), "{st:?}");
        prop_assert!(st.sent > 0);
    }

    #[test]
    fn scores_are_well_formed(text in scenario_text(), seed in 0u64..1000) {
        let sc = super::scenario(&text);
        let res = run_seed(&sc, seed);
        let outages = fault::outages(&sc.faults, seed, sc.duration, &sc.nodes);
        for per_value in &res.qos {
            for q in per_value {
                // 0 <= P_A <= 1
                if let Some(pa) = q.query_accuracy() {
                    prop_assert!((0.0..=1.0).contains(&pa), "P_A {pa}");
                }
                // every crash is either detected or counted undetected
                prop_assert_eq!(q.crashes() as usize, outages.len());
                prop_assert!(q.suspect_time <= q.up_time);
                prop_assert!(q.mistake_time <= q.up_time);
            }
        }
    }
}
