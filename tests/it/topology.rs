//! Topologies, shortest-path routing, regions and region isolation, on
//! the real code paths: validation, `Network::transmit` and whole
//! simulations.

use fdsim::net::{Latency, LinkModel, Network, Topology, Transmit};
use fdsim::protocol::heartbeat::HeartbeatAgent;
use fdsim::run::{build_network, build_sim, run_seed};
use fdsim::scenario::Scenario;
use fdsim::sim::{Clock, Nanos, Sim, Stream, TraceEvent};
use std::path::Path;

const MS: u64 = 1_000_000;

/// A scenario with these `[nodes]`, `[network]` lines and extra tables.
fn scenario(nodes: &str, network: &str, tail: &str) -> Scenario {
    super::scenario(&format!(
        "duration = \"30s\"\nseeds = 1\n[heartbeat]\ninterval = \"100ms\"\n\
         [nodes]\n{nodes}\n[network]\n{network}\n{tail}\n\
         [[detectors]]\nkind = \"fixed\"\ntimeout = \"1s\"\n"
    ))
}

const CONST_5MS: &str = "latency = { dist = \"constant\", value = \"5ms\" }";

/// `m` and six targets on a ring, in node order m, t1, …, t6.
fn ring7(extra: &str) -> Scenario {
    scenario(
        "monitors = [\"m\"]\ntargets = [\"t1\", \"t2\", \"t3\", \"t4\", \"t5\", \"t6\"]",
        &format!("topology = \"ring\"\n{CONST_5MS}\n{extra}"),
        "",
    )
}

/// Send-to-arrival delays of every heartbeat delivered `from` -> `to`.
fn delays(sc: &Scenario, from: u32, to: u32) -> Vec<Nanos> {
    let (mut sim, _) = build_sim(sc, 1);
    sim.enable_trace();
    sim.run_until(sc.duration);
    assert!(sim.stats().balanced(), "{:?}", sim.stats());
    sim.trace()
        .iter()
        .filter_map(|e| match *e {
            TraceEvent::Delivered {
                from: f,
                to: t,
                sent,
                at,
            } if (f, t) == (from, to) => Some(at - sent),
            _ => None,
        })
        .collect()
}

#[test]
fn ring_routing_adds_one_constant_delay_per_hop() {
    let sc = ring7("");
    assert_eq!(sc.topology, Topology::Ring);
    assert_eq!(sc.links.len(), 14, "7 ring links, both directions");
    let net = build_network(&sc, 1);
    // t3 is three hops from m either way round? No: t3 -> t2 -> t1 -> m is
    // 3 hops, t3 -> t4 -> t5 -> t6 -> m is 4.
    assert_eq!(net.path(3, 0), Some(vec![3, 2, 1, 0]));
    assert_eq!(net.path(4, 0), Some(vec![4, 5, 6, 0]));
    assert_eq!(net.path(1, 0), Some(vec![1, 0]), "neighbours: direct");
    for (target, hops) in [(1, 1), (2, 2), (3, 3), (4, 3), (5, 2), (6, 1)] {
        let d = delays(&sc, target, 0);
        assert_eq!(d.len(), 300, "t{target}: every heartbeat arrives");
        assert!(
            d.iter().all(|&x| x == Nanos(hops * 5 * MS)),
            "t{target}: {hops} hops of 5 ms, got {:?}",
            &d[..3]
        );
    }
}

#[test]
fn a_tie_between_two_equal_routes_goes_to_the_lower_node_first() {
    // Six nodes on a ring: 0 -> 3 is three hops either way round.
    let sc = scenario(
        "monitors = [\"a\"]\ntargets = [\"b\", \"c\", \"d\", \"e\", \"f\"]",
        &format!("topology = \"ring\"\n{CONST_5MS}"),
        "",
    );
    let net = build_network(&sc, 1);
    assert_eq!(net.path(0, 3), Some(vec![0, 1, 2, 3]));
    assert_eq!(net.path(3, 0), Some(vec![3, 2, 1, 0]));
    assert_eq!(net.path(5, 2), Some(vec![5, 0, 1, 2]));
    // The same routes whatever the seed: they depend on the means only.
    assert_eq!(build_network(&sc, 99).path(3, 0), net.path(3, 0));
}

#[test]
fn the_shortest_route_is_by_mean_delay_then_by_hop_count() {
    // Five nodes on a ring; a = 0 and c = 2 are two hops apart through b,
    // three through e and d. A slow a <-> b link sends a -> c the long
    // way; a link exactly as slow as the long way ties, and the route
    // with fewer hops wins.
    let nodes = "monitors = [\"a\"]\ntargets = [\"b\", \"c\", \"d\", \"e\"]";
    let slow = |mean: &str| {
        scenario(
            nodes,
            &format!("topology = \"ring\"\n{CONST_5MS}"),
            &format!(
                "[[network.links]]\nfrom = \"a\"\nto = \"b\"\nsymmetric = true\n\
                 latency = {{ dist = \"exponential\", mean = \"{mean}\" }}\n"
            ),
        )
    };
    let net = build_network(&slow("11ms"), 1);
    assert_eq!(net.path(0, 2), Some(vec![0, 4, 3, 2]), "16 ms vs 15 ms");
    assert_eq!(net.path(2, 0), Some(vec![2, 3, 4, 0]));
    let mut net = build_network(&slow("10ms"), 1);
    assert_eq!(
        net.path(0, 2),
        Some(vec![0, 1, 2]),
        "15 ms both: fewer hops"
    );
    let mut net9 = build_network(&slow("9ms"), 1);
    assert_eq!(net9.path(0, 2), Some(vec![0, 1, 2]));
    // The long way round on constant links takes exactly 3 × 5 ms.
    let mut long = build_network(&slow("11ms"), 1);
    assert_eq!(
        long.transmit(0, 2, Nanos(1_000)),
        Transmit::Deliver(Nanos(1_000 + 15 * MS))
    );
    // Through b the delay is one exponential draw plus 5 ms.
    let Transmit::Deliver(at) = net.transmit(0, 2, Nanos(0)) else {
        panic!("no loss configured");
    };
    assert!(at > Nanos(5 * MS));
    assert!(matches!(
        net9.transmit(0, 2, Nanos(0)),
        Transmit::Deliver(_)
    ));
}

#[test]
fn each_hop_draws_from_its_own_link_stream() {
    // A lognormal ring: the relayed delay t3 -> m must be the sum of the
    // first draw of each link's own stream, labelled by its endpoints.
    let lat = Latency::LogNormal {
        median: 2e6,
        sigma: 0.5,
    };
    let mut sc = ring7("");
    for l in &mut sc.links {
        l.2 = LinkModel::new(lat.clone(), 0.0);
    }
    let seed = 17;
    let mut net = build_network(&sc, seed);
    let want: Nanos = ["t3->t2", "t2->t1", "t1->m"]
        .iter()
        .map(|hop| lat.sample(&mut Stream::new(seed, &format!("link:{hop}"))))
        .fold(Nanos::ZERO, |a, b| a + b);
    assert_eq!(net.transmit(3, 0, Nanos(0)), Transmit::Deliver(want));
    // A direct message on t1 -> m now takes that link's second draw: the
    // relayed message used the first.
    let mut s = Stream::new(seed, "link:t1->m");
    let _ = lat.sample(&mut s);
    assert_eq!(
        net.transmit(1, 0, Nanos(0)),
        Transmit::Deliver(lat.sample(&mut s))
    );
}

#[test]
fn loss_compounds_over_the_hops_of_a_route() {
    // 10 % loss per link: a three-hop route delivers 0.9³ = 72.9 %.
    let sc = ring7("loss = 0.1");
    let mut net = build_network(&sc, 5);
    let n = 40_000u32;
    let delivered = (0..n)
        .filter(|&i| {
            matches!(
                net.transmit(3, 0, Nanos(u64::from(i))),
                Transmit::Deliver(_)
            )
        })
        .count() as f64;
    let p = 0.9 * 0.9 * 0.9;
    let se = (p * (1.0 - p) / f64::from(n)).sqrt();
    let got = delivered / f64::from(n);
    assert!((got - p).abs() < 5.0 * se, "{got} vs {p} ± {se}");
}

#[test]
fn a_spike_on_every_link_is_added_once_per_hop() {
    let sc = ring7("[[network.spikes]]\nstart = \"10s\"\nend = \"20s\"\nadd = \"1ms\"");
    let d = delays(&sc, 3, 0);
    let spiked = d.iter().filter(|&&x| x == Nanos(18 * MS)).count();
    assert_eq!(spiked, 100, "3 × (5 + 1) ms for the 100 sent in the window");
    assert_eq!(d.iter().filter(|&&x| x == Nanos(15 * MS)).count(), 200);
}

#[test]
fn a_star_links_leaves_only_to_the_hub() {
    let sc = scenario(
        "monitors = [\"m\"]\ntargets = [\"t1\", \"t2\", \"t3\"]",
        &format!("topology = \"star\"\n{CONST_5MS}"),
        "",
    );
    assert_eq!(sc.topology, Topology::Star { hub: 0 });
    assert_eq!(sc.links.len(), 6);
    assert!(sc.links.iter().all(|(f, t, _)| *f == 0 || *t == 0));
    let net = build_network(&sc, 1);
    for (a, b) in [(1, 2), (2, 3), (3, 1)] {
        assert!(net.link(a, b).is_none(), "no leaf-to-leaf link");
        assert_eq!(net.path(a, b), Some(vec![a, 0, b]), "via the hub");
    }
}

#[test]
fn a_star_around_a_relay_carries_heartbeats_in_two_hops() {
    // The hub is a target too; the other target's heartbeats reach the
    // monitor through it.
    let sc = scenario(
        "monitors = [\"m\"]\ntargets = [\"hub\", \"t\"]",
        &format!("topology = \"star\"\nhub = \"hub\"\n{CONST_5MS}"),
        "",
    );
    let d = delays(&sc, 2, 0);
    assert_eq!(d.len(), 300);
    assert!(d.iter().all(|&x| x == Nanos(10 * MS)));
    assert!(delays(&sc, 1, 0).iter().all(|&x| x == Nanos(5 * MS)));
}

#[test]
fn an_unreachable_destination_drops_the_message_and_counts_it() {
    // One-way links a -> b -> c: c cannot reach a by any route.
    let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let mut net = Network::new(&names);
    let model = LinkModel::new(Latency::Constant { value: Nanos(MS) }, 0.0);
    net.set_link(0, 1, model.clone(), 1);
    net.set_link(1, 2, model, 1);
    net.compute_routes();
    assert_eq!(net.path(0, 2), Some(vec![0, 1, 2]));
    assert_eq!(net.path(2, 0), None);
    assert_eq!(net.transmit(2, 0, Nanos(0)), Transmit::NoRoute);
    assert_eq!(
        net.transmit(0, 2, Nanos(0)),
        Transmit::Deliver(Nanos(2 * MS))
    );
    // In a run: c heartbeats a (unreachable) and a heartbeats c (relayed).
    let clock = Clock::default();
    let interval = Nanos(100 * MS);
    let agents = vec![
        HeartbeatAgent::new(vec![2], interval, true, 3, clock),
        HeartbeatAgent::new(vec![], interval, false, 3, clock),
        HeartbeatAgent::new(vec![0], interval, true, 3, clock),
    ];
    let mut sim = Sim::new(net, agents, vec![clock; 3], 1);
    sim.run_until(Nanos(10_000 * MS));
    let st = sim.stats();
    assert_eq!(st.sent, 200);
    assert_eq!(st.no_route, 100, "every c -> a heartbeat");
    assert_eq!(st.delivered, 100, "every a -> c heartbeat");
    assert!(st.balanced(), "{st:?}");
    assert!(sim.agent(0).arrivals_from(2).is_empty());
    assert_eq!(sim.agent(2).arrivals_from(0).len(), 100);
}

/// a and b are both monitors and targets, c the hub of a star they hang
/// off; `partition` is a `[[partitions]]` body.
fn star_abc(partition: &str) -> Scenario {
    scenario(
        "monitors = [\"a\", \"b\"]\ntargets = [\"a\", \"b\", \"c\"]",
        &format!("topology = \"star\"\nhub = \"c\"\n{CONST_5MS}"),
        &format!("[[partitions]]\nstart = \"10s\"\nend = \"20s\"\n{partition}\n"),
    )
}

/// Heartbeats delivered `from` -> `to` that were sent in [10 s, 20 s).
fn heard_in_window(sc: &Scenario, from: u32, to: u32) -> usize {
    let (mut sim, _) = build_sim(sc, 1);
    sim.enable_trace();
    sim.run_until(sc.duration);
    sim.trace()
        .iter()
        .filter(|e| {
            matches!(**e, TraceEvent::Delivered { from: f, to: t, sent, .. }
                if (f, t) == (from, to) && (10_000 * MS..20_000 * MS).contains(&sent.0))
        })
        .count()
}

#[test]
fn a_partition_cuts_its_groups_whatever_the_route_and_never_the_relays() {
    // a -> b is relayed by c. Cutting a from b stops it although both
    // links it crosses (a-c, c-b) are untouched...
    let sc = star_abc("a = [\"a\"]\nb = [\"b\"]");
    assert_eq!(sc.links.len(), 4);
    assert_eq!(heard_in_window(&sc, 0, 1), 0);
    assert_eq!(heard_in_window(&sc, 1, 0), 0);
    assert_eq!(heard_in_window(&sc, 2, 0), 100, "c still reaches a");
    assert_eq!(heard_in_window(&sc, 2, 1), 100, "and b");
    // ...and cutting a from the relay c leaves a -> b flowing: partitions
    // apply to the two ends of a message, not to the nodes it passes.
    let sc = star_abc("a = [\"a\"]\nb = [\"c\"]");
    assert_eq!(heard_in_window(&sc, 0, 1), 100);
    assert_eq!(heard_in_window(&sc, 1, 0), 100);
    assert_eq!(heard_in_window(&sc, 2, 0), 0, "c -> a is cut");
}

/// Three regions with constant delays: a (ma, ta), b (mb, tb), c (tc).
fn three_regions(extra: &str) -> Scenario {
    scenario(
        "monitors = [\"ma\", \"mb\"]\ntargets = [\"ta\", \"tb\", \"tc\"]",
        "latency = { dist = \"constant\", value = \"1ms\" }\n\
         [[network.region_links]]\nfrom = \"a\"\nto = \"b\"\n\
         latency = { dist = \"constant\", value = \"40ms\" }\n\
         [[network.region_links]]\nfrom = \"a\"\nto = \"c\"\n\
         latency = { dist = \"constant\", value = \"70ms\" }\n\
         [[network.region_links]]\nfrom = \"b\"\nto = \"c\"\n\
         latency = { dist = \"constant\", value = \"90ms\" }\nsymmetric = false\n\
         [[network.region_links]]\nfrom = \"c\"\nto = \"b\"\n\
         latency = { dist = \"constant\", value = \"150ms\" }\nsymmetric = false\n",
        &format!(
            "[[regions]]\nname = \"a\"\nnodes = [\"ma\", \"ta\"]\n\
             [[regions]]\nname = \"b\"\nnodes = [\"mb\", \"tb\"]\n\
             latency = {{ dist = \"constant\", value = \"2ms\" }}\n\
             [[regions]]\nname = \"c\"\nnodes = [\"tc\"]\n{extra}"
        ),
    )
}

#[test]
fn region_links_come_from_the_intra_and_inter_region_tables() {
    let sc = three_regions("");
    assert_eq!(sc.regions.len(), 3);
    assert_eq!(sc.regions[1].nodes, vec![1, 3]);
    // Node order: ma, mb, ta, tb, tc.
    let want = [
        ((2, 0), 1),   // ta -> ma: inside a, the [network] default
        ((3, 1), 2),   // tb -> mb: inside b, its own latency
        ((2, 1), 40),  // a -> b
        ((3, 0), 40),  // b -> a, symmetric by default
        ((4, 0), 70),  // c -> a
        ((4, 1), 150), // c -> b, set one way
        ((1, 4), 90),  // b -> c
    ];
    for ((from, to), ms) in want {
        let d = delays(&sc, from, to);
        if d.is_empty() {
            // Not a heartbeat direction: check the link model instead.
            let model = &sc
                .links
                .iter()
                .find(|l| (l.0, l.1) == (from, to))
                .unwrap()
                .2;
            assert_eq!(
                model.latency,
                Latency::Constant {
                    value: Nanos(ms * MS)
                }
            );
            continue;
        }
        assert!(d.iter().all(|&x| x == Nanos(ms * MS)), "{from}->{to}");
    }
}

#[test]
fn isolating_a_region_cuts_exactly_the_traffic_that_leaves_or_enters_it_in_its_window() {
    let sc = three_regions("[[partitions]]\nstart = \"10s\"\nend = \"20s\"\nregion = \"b\"\n");
    let p = &sc.partitions[0];
    assert_eq!((p.a.clone(), p.b.clone()), (vec![1, 3], vec![0, 2, 4]));
    let in_b = |n: u32| n == 1 || n == 3;
    let (mut sim, _) = build_sim(&sc, 1);
    sim.enable_trace();
    sim.run_until(sc.duration);
    let st = sim.stats();
    assert!(st.balanced() && st.lost == 0 && st.cut > 0, "{st:?}");
    let window = 10_000 * MS..20_000 * MS;
    // Heartbeat pairs: every target to every monitor but itself.
    let mut sent_in_window = [[0usize; 5]; 5];
    for e in sim.trace() {
        if let TraceEvent::Delivered { from, to, sent, at } = *e {
            let crosses = in_b(from) != in_b(to);
            let touches = window.contains(&sent.0) || window.contains(&at.0);
            assert!(!(crosses && touches), "{from}->{to} sent {sent} at {at}");
            if window.contains(&sent.0) {
                sent_in_window[from as usize][to as usize] += 1;
            }
        }
    }
    for (from, to) in [(2, 0), (3, 1), (4, 0)] {
        assert_eq!(sent_in_window[from][to], 100, "{from}->{to} is not cut");
    }
    for (from, to) in [(2, 1), (3, 0), (4, 1)] {
        assert_eq!(sent_in_window[from][to], 0, "{from}->{to} crosses b");
    }
    // Outside the window every heartbeat crossing b arrives: of the 300
    // sent, only the 100 sent inside it and those arriving inside it are
    // cut (and one is still in flight at the end on the 150 ms link).
    let total = |from: u32, to: u32| delays(&sc, from, to).len();
    assert_eq!(total(2, 1), 300 - 100, "40 ms: 9.9 s arrives before 10 s");
    assert_eq!(
        total(4, 1),
        300 - 100 - 1 - 1,
        "150 ms: 9.9 s arrives inside"
    );
    assert_eq!(total(2, 0), 300);
}

/// The error a scenario text gets, as rendered.
fn error_of(text: &str) -> String {
    match Scenario::parse(Path::new("v.toml"), text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const HEAD: &str = "duration = \"1h\"\n\
[heartbeat]\n\
interval = \"100ms\"\n\
[nodes]\n\
monitors = [\"m\"]\n\
targets = [\"t1\", \"t2\"]\n\
[[detectors]]\n\
kind = \"fixed\"\n\
timeout = \"1s\"\n\
[network]\n\
latency = { dist = \"constant\", value = \"1ms\" }\n";
// Lines 1-11 above; what a test appends starts on line 12.

const REGIONS: &str = "[[network.region_links]]\n\
from = \"x\"\n\
to = \"y\"\n\
latency = { dist = \"constant\", value = \"30ms\" }\n\
[[regions]]\n\
name = \"x\"\n\
nodes = [\"m\", \"t1\"]\n\
[[regions]]\n\
name = \"y\"\n\
nodes = [\"t2\"]\n";
// Lines 12-21.

fn starts(e: &str, prefix: &str) {
    assert!(e.starts_with(prefix), "{e}\ndoes not start with\n{prefix}");
}

#[test]
fn the_region_example_is_valid() {
    let sc = Scenario::parse(Path::new("v.toml"), &format!("{HEAD}{REGIONS}")).unwrap();
    assert_eq!(sc.regions.len(), 2);
    assert_eq!(sc.links.len(), 6);
}

#[test]
fn an_unknown_region_is_named_with_its_line_and_column() {
    let e = error_of(&format!("{HEAD}{REGIONS}").replacen("to = \"y\"", "to = \"z\"", 1));
    starts(
        &e,
        "v.toml:14:6: `network.region_links.to`: unknown region \"z\"; regions are \"x\", \"y\"",
    );
    let e = error_of(&format!(
        "{HEAD}{REGIONS}[[partitions]]\nstart = \"1m\"\nend = \"2m\"\nregion = \"eu\"\n"
    ));
    starts(
        &e,
        "v.toml:25:10: `partitions.region`: unknown region \"eu\"",
    );
    let e = error_of(&format!(
        "{HEAD}[[partitions]]\nstart = \"1m\"\nend = \"2m\"\nregion = \"eu\"\n"
    ));
    starts(
        &e,
        "v.toml:15:10: `partitions.region`: unknown region \"eu\"; no [[regions]] are declared",
    );
}

#[test]
fn a_node_in_two_regions_is_refused_where_it_is_listed_the_second_time() {
    let e = error_of(&format!("{HEAD}{REGIONS}").replace("[\"t2\"]", "[\"t2\", \"t1\"]"));
    starts(
        &e,
        "v.toml:21:16: `regions.nodes`: node \"t1\" is already in region \"x\"",
    );
    let e = error_of(&format!("{HEAD}{REGIONS}").replace("[\"t2\"]", "[\"t2\", \"t2\"]"));
    starts(
        &e,
        "v.toml:21:16: `regions.nodes`: node \"t2\" is already in region \"y\"",
    );
}

#[test]
fn a_node_in_no_region_is_refused_where_it_is_declared() {
    let text = format!("{HEAD}{REGIONS}").replace("[\"m\", \"t1\"]", "[\"m\"]");
    let e = error_of(&text);
    starts(&e, "v.toml:6:12: node \"t1\" is in no region");
}

#[test]
fn a_missing_inter_region_entry_is_refused_at_the_region() {
    let text = format!("{HEAD}{REGIONS}[[regions]]\nname = \"z\"\nnodes = [\"t3\"]\n")
        .replace("[\"t1\", \"t2\"]", "[\"t1\", \"t2\", \"t3\"]");
    let e = error_of(&text);
    starts(
        &e,
        "v.toml:23:8: `network.region_links`: no entry from region \"x\" to region \"z\"",
    );
    // One direction only, by request: the other is missing.
    let e = error_of(&format!("{HEAD}{REGIONS}").replace(
        "value = \"30ms\" }",
        "value = \"30ms\" }\nsymmetric = false",
    ));
    starts(
        &e,
        "v.toml:21:8: `network.region_links`: no entry from region \"y\" to region \"x\"",
    );
    // A star around m needs no entry between regions no link joins.
    let star = format!("{HEAD}{REGIONS}[[regions]]\nname = \"z\"\nnodes = [\"t3\"]\n[[network.region_links]]\nfrom = \"x\"\nto = \"z\"\nlatency = {{ dist = \"constant\", value = \"9ms\" }}\n")
        .replace("[\"t1\", \"t2\"]", "[\"t1\", \"t2\", \"t3\"]")
        .replace("[network]\n", "[network]\ntopology = \"star\"\n");
    let sc = Scenario::parse(Path::new("v.toml"), &star).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.links.len(), 6);
}

#[test]
fn topology_errors_point_at_the_field() {
    let topo = |t: &str| HEAD.replace("[network]\n", &format!("[network]\n{t}\n"));
    starts(
        &error_of(&topo("topology = \"pair\"")),
        "v.toml:11:12: topology = \"pair\" needs exactly two nodes; this scenario has 3",
    );
    starts(
        &error_of(&topo("topology = \"tree\"")),
        "v.toml:11:12: `network.topology`: unknown topology \"tree\"",
    );
    starts(
        &error_of(&topo("hub = \"m\"")),
        "v.toml:11:7: `network.hub` applies only to topology = \"star\", not \"mesh\"",
    );
    starts(
        &error_of(&topo("topology = \"star\"\nhub = \"x\"")),
        "v.toml:12:7: `network.hub`: unknown node \"x\"",
    );
    let two_monitors = topo("topology = \"star\"").replace("[\"m\"]", "[\"m\", \"m2\"]");
    starts(
        &error_of(&two_monitors),
        "v.toml:11:12: topology = \"star\" needs a hub: set `network.hub`",
    );
    let leaf_link = format!(
        "{}[[network.links]]\nfrom = \"t1\"\nto = \"t2\"\nloss = 0.1\n",
        topo("topology = \"star\"")
    );
    assert!(
        error_of(&leaf_link).contains(
            "topology = \"star\" has no link \"t1\" -> \"t2\"; [[network.links]] changes"
        ),
        "{}",
        error_of(&leaf_link)
    );
    let spike = format!(
        "{}[[network.spikes]]\nstart = \"1m\"\nend = \"2m\"\nadd = \"1ms\"\nlinks = [[\"t1\", \"t2\"]]\n",
        topo("topology = \"star\"")
    );
    starts(
        &error_of(&spike),
        "v.toml:17:10: `network.spikes.links`: the topology has no such link",
    );
}

#[test]
fn partition_groups_and_region_are_exclusive() {
    let e = error_of(&format!(
        "{HEAD}{REGIONS}[[partitions]]\nstart = \"1m\"\nend = \"2m\"\nregion = \"x\"\na = [\"m\"]\nb = [\"t1\"]\n"
    ));
    starts(
        &e,
        "v.toml:25:10: `partitions.region` takes the place of `a` and `b`",
    );
    let e = error_of(&format!(
        "{HEAD}[[partitions]]\nstart = \"1m\"\nend = \"2m\"\na = [\"m\"]\n"
    ));
    assert!(e.contains("give `a` and `b`"), "{e}");
}

#[test]
fn same_seed_twice_gives_identical_results_on_routed_lossy_regions() {
    let text = "duration = \"10m\"\nseeds = 2\n[heartbeat]\ninterval = \"100ms\"\n\
        [nodes]\nmonitors = [\"m\"]\ntargets = [\"t1\", \"t2\", \"t3\", \"t4\"]\n\
        [network]\ntopology = \"ring\"\n\
        latency = { dist = \"lognormal\", median = \"1ms\", sigma = 0.5 }\nloss = 0.01\n\
        [[network.region_links]]\nfrom = \"x\"\nto = \"y\"\n\
        latency = { dist = \"lognormal\", median = \"40ms\", sigma = 0.1 }\n\
        loss_model = { kind = \"gilbert-elliott\", p_good_to_bad = 0.01, p_bad_to_good = 0.3 }\n\
        [[regions]]\nname = \"x\"\nnodes = [\"m\", \"t1\", \"t4\"]\n\
        [[regions]]\nname = \"y\"\nnodes = [\"t2\", \"t3\"]\n\
        [[partitions]]\nstart = \"2m\"\nend = \"3m\"\nregion = \"y\"\n\
        [[faults]]\nkind = \"crash-loop\"\nnode = \"t3\"\nevery = \"1m\"\ndown = \"10s\"\njitter = \"30s\"\n\
        [[detectors]]\nkind = \"chen\"\nalpha = [\"50ms\", \"200ms\"]\n";
    let sc = super::scenario(text);
    let a = format!("{:?}", run_seed(&sc, 4));
    let b = format!("{:?}", run_seed(&super::scenario(text), 4));
    assert_eq!(a, b);
    let c = format!("{:?}", run_seed(&sc, 5));
    assert_ne!(a, c, "a different seed draws differently");
    // t3 is two hops from m through t4 (m, t1, t2, t3, t4 around the
    // ring), and it still gets detected.
    assert_eq!(build_network(&sc, 4).path(3, 0), Some(vec![3, 4, 0]));
    let r = run_seed(&sc, 4);
    assert!(r.qos[0].iter().all(|q| !q.detections.is_empty()));
}

/// The ```toml blocks of docs/scenarios.md that contain `needle`.
fn doc_blocks(needle: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenarios.md");
    let text = std::fs::read_to_string(path).unwrap();
    text.split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .filter(|b| b.contains(needle))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_documented_topology_and_region_examples_validate() {
    let head = "duration = \"1h\"\n[heartbeat]\ninterval = \"1s\"\n\
                [[detectors]]\nkind = \"fixed\"\ntimeout = \"3s\"\n";
    let topologies = doc_blocks("topology = \"");
    assert_eq!(topologies.len(), 2, "the ring and the star");
    for block in &topologies {
        let sc = super::scenario(&format!("{head}{block}"));
        assert_ne!(sc.topology, Topology::Mesh);
        if sc.topology == Topology::Ring {
            let net = build_network(&sc, 1);
            assert_eq!(
                net.path(3, 0),
                Some(vec![3, 2, 1, 0]),
                "as the comment says"
            );
            assert_eq!(net.path(4, 0), Some(vec![4, 5, 6, 0]));
        }
    }
    // The [[regions]], [[network.region_links]] and region isolation
    // examples together, with the third region they refer to.
    let pick = |needle: &str| {
        let b = doc_blocks(needle);
        assert_eq!(b.len(), 1, "{needle}");
        b[0].clone()
    };
    let text = format!(
        "{head}[nodes]\nmonitors = [\"m-us\"]\ntargets = [\"t-us\", \"t-eu\", \"t-ap\"]\n\
         [network]\nlatency = {{ dist = \"constant\", value = \"100us\" }}\n\
         [[network.region_links]]\nfrom = \"eu-west\"\nto = \"ap-southeast\"\n\
         latency = {{ dist = \"constant\", value = \"137ms\" }}\n\
         {}{}{}[[regions]]\nname = \"ap-southeast\"\nnodes = [\"t-ap\"]\n",
        pick("name = \"eu-west\""),
        pick("[[network.region_links]]             # both directions"),
        pick("region = \"eu-west\""),
    );
    let sc = super::scenario(&text);
    let model = |f: u32, t: u32| {
        let l = sc.links.iter().find(|l| (l.0, l.1) == (f, t)).unwrap();
        l.2.latency.clone()
    };
    // Node order: m-us, t-us, t-eu, t-ap.
    assert!(matches!(model(3, 0), Latency::LogNormal { median, .. } if median == 110e6));
    assert!(matches!(model(0, 3), Latency::LogNormal { median, .. } if median == 100e6));
    assert!(matches!(model(2, 0), Latency::LogNormal { median, .. } if median == 45e6));
    assert_eq!(sc.partitions[0].a, vec![2]);
}

#[test]
fn the_bundled_topology_scenarios_run_byte_identically_twice() {
    let run = |dir: &str, jobs: &str| -> Vec<u8> {
        let out = std::env::temp_dir().join(format!("fdsim-topo-{dir}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_fdsim"))
            .args([
                "run",
                "scenarios/cross-az.toml",
                "scenarios/three-region-wan.toml",
                "scenarios/asymmetric-partition.toml",
                "--seeds",
                "2",
                "--jobs",
                jobs,
                "--out",
                out.to_str().unwrap(),
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut bytes = o.stdout;
        for name in ["cross-az", "three-region-wan", "asymmetric-partition"] {
            for file in ["runs.csv", "curve.csv", "summary.txt", "report.md"] {
                bytes.extend(std::fs::read(out.join(name).join(file)).unwrap());
            }
        }
        std::fs::remove_dir_all(&out).unwrap();
        bytes
    };
    let a = run("a", "1");
    assert!(a == run("b", "2"));
    assert!(String::from_utf8_lossy(&a).contains("region az-c isolated from the others"));
}
