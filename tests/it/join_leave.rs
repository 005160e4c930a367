//! SWIM join and leave: a member that joins through a seed is Alive in
//! every view, a member that leaves is Left in every view, both within
//! bounds derived from the protocol's gossip and push-pull; neither is
//! scored as a crash, a detection or a mistake; the faults validate with
//! precise errors; and runs are byte-identical across `--jobs`.

use fdsim::metrics::cluster::{score_cluster, ClusterInput, ClusterQos};
use fdsim::protocol::membership::{MembershipEvent, Verdict};
use fdsim::protocol::swim::{SwimAgent, SwimConfig};
use fdsim::run::cluster::{build_cluster_sim, roster, true_time_events};
use fdsim::scenario::{ProtocolSettings, Scenario};
use fdsim::sim::{Nanos, NodeId};
use std::path::Path;

const TWO_S: Nanos = Nanos::from_secs(2);

/// 32 members on a LAN with memberlist's LAN defaults; m31 is not in the
/// cluster at the start and joins at 30 s through m0; m5 leaves at 60 s
/// (stopping 1 s later) and joins again at 120 s.
const CLUSTER: &str = r#"
duration = "3m"
seeds = 1
[nodes]
n = 32
[network]
latency = { dist = "lognormal", median = "500us", sigma = 0.5 }
loss = 0.001
[[faults]]
kind = "join"
node = "m31"
at = "30s"
via = "m0"
[[faults]]
kind = "leave"
node = "m5"
at = "60s"
rejoin_after = "60s"
[[protocols]]
kind = "swim"
"#;

const JOINER: NodeId = 31;
const JOIN: Nanos = Nanos::from_secs(30);
const LEAVER: NodeId = 5;
const LEAVE: Nanos = Nanos::from_secs(60);
const REJOIN: Nanos = Nanos::from_secs(120);

/// One run of `sc` at `seed`: every member's opinion log (true times) and
/// every probe started (observer, local time = true time, target).
struct Run {
    events: Vec<MembershipEvent>,
    probes: Vec<(NodeId, Nanos, NodeId)>,
    qos: ClusterQos,
}

fn run(sc: &Scenario, seed: u64) -> Run {
    let ProtocolSettings::Swim(settings) = sc.protocols[0].settings[0] else {
        panic!("not swim")
    };
    let cfg = SwimConfig {
        record_probes: true,
        ..settings.agent_config()
    };
    let n = sc.nodes.len();
    let r = std::sync::Arc::new(roster(sc));
    let (mut sim, outages, absences) =
        build_cluster_sim(sc, seed, |id| SwimAgent::with_roster(cfg, id, n, r.clone()));
    sim.run_until(sc.duration);
    let agents = sim.into_agents();
    let mut probes = Vec::new();
    for (o, a) in agents.iter().enumerate() {
        probes.extend(a.probes().iter().map(|&(t, m)| (o as NodeId, t, m)));
    }
    let events = true_time_events(agents, &sc.clocks);
    let qos = score_cluster(ClusterInput {
        members: n,
        events: &events,
        outages: &outages,
        absences: &absences,
        warmup: Nanos::ZERO,
        end: sc.duration,
    });
    Run {
        events,
        probes,
        qos,
    }
}

/// The opinion `observer` holds of `subject` just after `t`.
fn held(events: &[MembershipEvent], observer: NodeId, subject: NodeId, t: Nanos) -> Verdict {
    events
        .iter()
        .rfind(|e| e.observer == observer && e.subject == subject && e.at <= t)
        .map_or(Verdict::Alive, |e| e.verdict)
}

/// When `observer` last changed its opinion of `subject` to `v` within
/// `[from, to)`, if it holds `v` at `to`.
fn settled(
    events: &[MembershipEvent],
    (observer, subject): (NodeId, NodeId),
    v: Verdict,
    (from, to): (Nanos, Nanos),
) -> Option<Nanos> {
    let last = events
        .iter()
        .rfind(|e| e.observer == observer && e.subject == subject && e.at >= from && e.at < to)?;
    (last.verdict == v).then_some(last.at)
}

/// The nearest-rank median.
fn median(v: &mut [Nanos]) -> Nanos {
    v.sort();
    v[(v.len() - 1) / 2]
}

/// The joiner is unknown to everyone until it joins, then Alive in every
/// live member's view. The bound: the seed takes the joiner in one
/// network round trip after the join (or one period later per lost
/// exchange, since the joiner asks again every period), and gossips its
/// alive to `gossip_nodes` = 3 random members every `gossip_interval` =
/// 200 ms, as does every member that hears it, each at most
/// 4 · ⌈log10(33)⌉ = 8 times. Push gossip with fan-out f reaches all n
/// members in about log_(1+f) n + (ln n) / f rounds (Pittel 1987): 2.5 +
/// 1.2 = 3.7 rounds, 0.74 s at n = 32, plus the piggybacks on probes. A
/// member the epidemic misses (each is missed with probability about
/// e^−8 in a run) still learns of the joiner at its next push-pull, within
/// `push_pull_interval` = 30 s. So: the median over seeds within 1 s (five
/// gossip rounds; measured: 0.38 s, the slowest of 24 seeds 0.83 s), every
/// seed within 30 s + 2 s. The joiner itself knows
/// every member once the seed's answer comes: within two periods, even
/// with one exchange lost.
#[test]
fn a_joiner_is_alive_in_every_live_view_within_the_gossip_and_push_pull_bound() {
    let sc = super::scenario(CLUSTER);
    let n = sc.nodes.len() as NodeId;
    let mut spans = Vec::new();
    for seed in 1..=24 {
        let r = run(&sc, seed);
        // Before the join nobody holds it anything but Left, nobody
        // probes it, and it holds no opinion.
        for e in r.events.iter().filter(|e| e.at < JOIN) {
            assert!(e.subject != JOINER || e.verdict == Verdict::Left, "{e:?}");
            assert!(e.observer != JOINER, "{e:?}");
        }
        assert!(!r.probes.iter().any(|p| p.2 == JOINER && p.1 < JOIN));
        // Every member present holds it Alive in the end; the latest to
        // settle gives the time to all Alive.
        let mut last = JOIN;
        for o in (0..n).filter(|&o| o != JOINER) {
            let at = settled(&r.events, (o, JOINER), Verdict::Alive, (JOIN, LEAVE))
                .unwrap_or_else(|| panic!("seed {seed}: m{o} never took m31 in"));
            last = last.max(at);
        }
        let span = last - JOIN;
        assert!(span <= Nanos::from_secs(32), "seed {seed}: {span}");
        // The scorer agrees (first join: m31; the second is m5's rejoin).
        assert_eq!(r.qos.joins, 2, "seed {seed}");
        assert!(
            r.qos.join_all_alive.contains(&span),
            "seed {seed}: {span} {:?}",
            r.qos
        );
        // The joiner's own view is complete within two periods.
        for m in (0..n).filter(|&m| m != JOINER) {
            let at = settled(&r.events, (JOINER, m), Verdict::Alive, (JOIN, LEAVE));
            let at = at.unwrap_or_else(|| panic!("seed {seed}: m31 never learned of m{m}"));
            assert!(
                at - JOIN <= TWO_S,
                "seed {seed}: m31 learned of m{m} at {at}"
            );
        }
        spans.push(span);
    }
    let mid = median(&mut spans);
    eprintln!(
        "join to all Alive: median {mid}, max {} over {} seeds",
        spans.last().unwrap(),
        spans.len()
    );
    assert!(mid <= Nanos::from_secs(1), "median {mid}");
}

/// The leaver is Left in every live member's view, is not probed once an
/// observer holds it Left, and is neither a crash, a detection nor a
/// mistake. The bound, as for a join: the leaver itself gossips its leave
/// to 3 members per 200 ms round (8 times) while it lingers for 1 s, every
/// member that hears it passes it on, and a member the epidemic misses
/// gets the Left record at its next push-pull, within 30 s. A member
/// that missed it suspects the stopped leaver at worst 2n − 1 = 63
/// periods later and, with nobody confirming, would wait the maximum
/// suspicion timeout 6 · 4 · log10(32) s = 36 s before declaring it Dead:
/// the push-pull comes first. So: median within 1 s (measured: 0.42 s,
/// the slowest of 24 seeds 0.63 s), every seed within 32 s, and every
/// member holds it Left (none Dead) when it rejoins.
#[test]
fn a_leaver_is_left_everywhere_within_the_bound_and_never_scored_as_a_failure() {
    let sc = super::scenario(CLUSTER);
    let n = sc.nodes.len() as NodeId;
    let mut spans = Vec::new();
    for seed in 1..=24 {
        let r = run(&sc, seed);
        let mut last = LEAVE;
        for o in (0..n).filter(|&o| o != LEAVER) {
            let at = settled(&r.events, (o, LEAVER), Verdict::Left, (LEAVE, REJOIN))
                .unwrap_or_else(|| {
                    panic!(
                        "seed {seed}: m{o} holds m5 {:?} at the rejoin",
                        held(&r.events, o, LEAVER, REJOIN - Nanos(1))
                    )
                });
            last = last.max(at);
            // Not probed while held Left.
            let probed = r
                .probes
                .iter()
                .find(|p| p.0 == o && p.2 == LEAVER && p.1 > at && p.1 < REJOIN);
            assert!(
                probed.is_none(),
                "seed {seed}: m{o} probed m5 at {probed:?}"
            );
        }
        let span = last - LEAVE;
        assert!(span <= Nanos::from_secs(32), "seed {seed}: {span}");
        let q = &r.qos;
        assert_eq!((q.leaves, q.leave_not_all_left), (1, 0), "seed {seed}");
        assert_eq!(q.leave_all_left, vec![span], "seed {seed}");
        assert_eq!(q.crashes, 0, "seed {seed}: a leave is no crash");
        assert!(q.first_suspicion.is_empty() && q.first_dead.is_empty());
        assert_eq!(
            q.false_dead, 0,
            "seed {seed}: holding a leaver Left is no mistake"
        );
        // After its rejoin, everyone takes it back in.
        assert_eq!(q.join_not_all_alive, 0, "seed {seed}");
        spans.push(span);
    }
    let mid = median(&mut spans);
    eprintln!(
        "leave to all Left: median {mid}, max {} over {} seeds",
        spans.last().unwrap(),
        spans.len()
    );
    assert!(mid <= Nanos::from_secs(1), "median {mid}");
}

/// The scorer on a hand-made log: a leaver held Dead by one observer that
/// missed its leave, and a joiner that one observer has not heard of yet,
/// are neither detections nor mistakes; all Left and all Alive are
/// measured from the announcement and the join.
#[test]
fn the_scorer_counts_no_failure_for_a_leave_or_a_join() {
    use fdsim::fault::Absence;
    use Verdict::*;
    let ev = |at: u64, observer: NodeId, subject: NodeId, verdict| MembershipEvent {
        at: Nanos::from_secs(at),
        observer,
        subject,
        verdict,
    };
    // Members 0..4; member 3 absent until 20 s; member 2 leaves at 40 s
    // (stops at 41 s) for good.
    let events = [
        ev(0, 0, 3, Left),
        ev(0, 1, 3, Left),
        ev(0, 2, 3, Left),
        ev(20, 3, 0, Left), // the joiner knows nobody yet...
        ev(20, 3, 1, Left),
        ev(20, 3, 2, Left),
        ev(21, 0, 3, Alive), // ...the seed takes it in
        ev(21, 3, 0, Alive),
        ev(21, 3, 1, Alive),
        ev(21, 3, 2, Alive),
        ev(23, 1, 3, Alive),
        ev(25, 2, 3, Alive), // all Alive 5 s after the join
        ev(41, 0, 2, Left),
        ev(42, 3, 2, Left),
        ev(50, 1, 2, Suspect), // missed the leave: suspects, then
        ev(58, 1, 2, Dead),    // declares it Dead; never all Left
    ];
    let absences = [
        Absence {
            node: 3,
            leave: None,
            stop: Nanos::ZERO,
            join: Some(Nanos::from_secs(20)),
        },
        Absence {
            node: 2,
            leave: Some(Nanos::from_secs(40)),
            stop: Nanos::from_secs(41),
            join: None,
        },
    ];
    let q = score_cluster(ClusterInput {
        members: 4,
        events: &events,
        outages: &[],
        absences: &absences,
        warmup: Nanos::ZERO,
        end: Nanos::from_secs(60),
    });
    assert_eq!(q.crashes, 0);
    assert!(q.first_suspicion.is_empty() && q.first_dead.is_empty());
    assert_eq!((q.false_dead, q.false_suspicions), (0, 0));
    assert_eq!(
        (q.joins, q.join_all_alive.clone()),
        (1, vec![Nanos::from_secs(5)])
    );
    assert_eq!((q.leaves, q.leave_not_all_left), (1, 1));
    assert!(q.leave_all_left.is_empty());
    // Up time: 3 members on [0, 20), 4 on [20, 40), 3 on [40, 60).
    assert_eq!(q.member_up_time, Nanos::from_secs(60 + 80 + 60).into());
}

fn error_of(text: &str) -> String {
    match Scenario::parse(Path::new("j.toml"), text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const HEAD: &str = r#"duration = "10m"
[nodes]
n = 8
[network]
latency = { dist = "constant", value = "1ms" }
[[protocols]]
kind = "swim"
"#;

fn with_faults(faults: &str) -> String {
    format!("{HEAD}{faults}")
}

#[test]
fn join_and_leave_faults_are_refused_with_precise_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "[[faults]]\nkind = \"join\"\nnode = \"m9\"\nat = \"1m\"\n",
            "j.toml:10:8: `faults.node`: unknown node \"m9\"",
        ),
        (
            "[[faults]]\nkind = \"join\"\nnode = \"m3\"\nat = \"1m\"\nvia = \"m3\"\n",
            "j.toml:12:7: `faults.via` names the joining member \"m3\" itself",
        ),
        (
            "[[faults]]\nkind = \"join\"\nnode = \"m3\"\nat = \"1m\"\nvia = \"m4\"\n\
             [[faults]]\nkind = \"join\"\nnode = \"m4\"\nat = \"2m\"\n",
            "j.toml:12:7: `faults.via`: \"m4\" joins later itself",
        ),
        (
            "[[faults]]\nkind = \"join\"\nnode = \"m3\"\nat = \"0s\"\n",
            "j.toml:11:6: `faults.at` must be after the start for kind = \"join\"",
        ),
        (
            "[[faults]]\nkind = \"leave\"\nnode = \"m3\"\nat = \"20m\"\n",
            "j.toml:11:6: `faults.at` (20m) is not before the end of the run (10m)",
        ),
        (
            "[[faults]]\nkind = \"leave\"\nnode = \"m3\"\n",
            "j.toml:8:1: `faults`: kind = \"leave\" needs `at` (a duration)",
        ),
        (
            "[[faults]]\nkind = \"leave\"\nnode = \"m3\"\nat = \"1m\"\nlinger = \"5s\"\n\
             rejoin_after = \"5s\"\n",
            "j.toml:13:16: `faults.rejoin_after` (5s) must be longer than `faults.linger` (5s)",
        ),
        (
            "[[faults]]\nkind = \"leave\"\nnode = \"m3\"\nat = \"1m\"\nvia = \"m0\"\n",
            "j.toml:12:7: `faults.via` does not apply to kind = \"leave\", which takes at, \
             linger, rejoin_after",
        ),
        (
            "[[faults]]\nkind = \"crash\"\nnode = \"m3\"\nat = \"30s\"\n\
             [[faults]]\nkind = \"join\"\nnode = \"m3\"\nat = \"1m\"\n",
            "j.toml:12:1: this fault (kind = \"join\", out of the cluster from 0s to 1m) can \
             overlap an earlier fault on node \"m3\", the [[faults]] entry on line 8 \
             (kind = \"crash\", down from 30s to the end); a node cannot crash, leave or join \
             while it is down or out of the cluster",
        ),
        (
            "[[faults]]\nkind = \"leave\"\nnode = \"m3\"\nat = \"1m\"\nrejoin_after = \"1m\"\n\
             [[faults]]\nkind = \"crash\"\nnode = \"m3\"\nat = \"90s\"\nrestart_after = \"1m\"\n",
            "this fault (kind = \"crash\", down from 1m30s to 2m30s) can overlap an earlier \
             fault on node \"m3\", the [[faults]] entry on line 8 (kind = \"leave\", out of the \
             cluster from 1m to 2m)",
        ),
    ];
    for (faults, want) in cases {
        let e = error_of(&with_faults(faults));
        assert!(e.contains(want), "want {want}\n got {e}");
    }
    // Pairwise detectors have no members to join or leave.
    let e = error_of(
        "duration = \"1h\"\n[heartbeat]\ninterval = \"100ms\"\n[network]\n\
         latency = { dist = \"constant\", value = \"1ms\" }\n[[detectors]]\nkind = \"fixed\"\n\
         timeout = \"200ms\"\n[[faults]]\nkind = \"leave\"\nnode = \"target\"\nat = \"1m\"\n",
    );
    assert!(
        e.contains("kind = \"leave\" is a change of membership: it needs a [[protocols]] entry"),
        "{e}"
    );
    // And a leave after a join, a rejoin, and a crash after it are fine.
    super::scenario(&with_faults(
        "[[faults]]\nkind = \"join\"\nnode = \"m3\"\nat = \"1m\"\n\
         [[faults]]\nkind = \"leave\"\nnode = \"m3\"\nat = \"2m\"\nrejoin_after = \"30s\"\n\
         [[faults]]\nkind = \"crash\"\nnode = \"m3\"\nat = \"4m\"\n",
    ));
}

/// The cluster report of a scenario with joins and leaves is the same
/// bytes with one job or two.
#[test]
fn a_scenario_with_joins_and_leaves_is_byte_identical_across_jobs() {
    let dir = std::env::temp_dir().join(format!("fdsim-joinleave-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jl.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"jl\"\nseeds = 3\n{}",
            &CLUSTER[1..].replace("seeds = 1\n", "")
        ),
    )
    .unwrap();
    let run = |jobs: &str| {
        let out = dir.join(format!("out{jobs}"));
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_fdsim"))
            .args(["run", file.to_str().unwrap(), "--jobs", jobs, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let csv = std::fs::read(out.join("jl").join("clusters.csv")).unwrap();
        let summary = std::fs::read(out.join("jl").join("summary.txt")).unwrap();
        (csv, summary)
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    let text = String::from_utf8(one.0).unwrap();
    assert!(text.contains(",joins,"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_documented_join_and_leave_examples_validate() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenarios.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let mut checked = 0;
    for block in doc
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
    {
        if !(block.contains("kind = \"join\"") || block.contains("kind = \"leave\"")) {
            continue;
        }
        let text = format!(
            "duration = \"1h\"\n[nodes]\nn = 32\n[network]\n\
             latency = {{ dist = \"constant\", value = \"1ms\" }}\n[[protocols]]\nkind = \"swim\"\n{block}"
        );
        Scenario::parse(Path::new("docs/scenarios.md"), &text)
            .unwrap_or_else(|e| panic!("{e}\n{block}"));
        checked += 1;
    }
    assert_eq!(checked, 2);
}
