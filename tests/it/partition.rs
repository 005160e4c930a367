//! Partition or crash: the `[downing]` schema and its errors, downing
//! decisions on small clusters checked against hand-computed outcomes,
//! and determinism across `--jobs`.

use fdsim::metrics::decisions::{DecisionRun, Truth, Verdict};
use fdsim::run::downing::run_downing;
use fdsim::scenario::Scenario;
use fdsim::sim::Nanos;
use std::path::{Path, PathBuf};
use std::process::Command;

const S: u64 = 1_000_000_000;

/// Five members on a LAN watched all-to-all by phi (Akka's defaults);
/// `faults` and `strategies` are TOML fragments.
fn five(faults: &str, downing: &str) -> String {
    format!(
        "duration = \"10m\"\nseeds = 1\n[nodes]\nn = 5\n[network]\n\
         latency = {{ dist = \"constant\", value = \"1ms\" }}\n{faults}\n\
         [[protocols]]\nkind = \"k-monitor\"\nname = \"obs\"\npreset = \"akka\"\nk = 4\n\
         threshold = 8\n{downing}"
    )
}

fn error_of(text: &str) -> String {
    match Scenario::parse(Path::new("d.toml"), text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn runs(text: &str) -> Vec<Vec<DecisionRun>> {
    let sc = crate::scenario(text);
    run_downing(&sc, sc.seeds[0])
}

const CRASH_M4: &str =
    "[[faults]]\nkind = \"crash\"\nnode = \"m4\"\nat = \"2m\"\nrestart_after = \"3m\"\n";
const SPLIT_3_2: &str = "[[partitions]]\nstart = \"2m\"\nend = \"5m\"\n\
     a = [\"m0\", \"m1\", \"m2\"]\nb = [\"m3\", \"m4\"]\n";

#[test]
fn a_crash_is_downed_by_keep_majority_detection_plus_stable_after_later() {
    let text = five(
        CRASH_M4,
        "[downing]\nobservers = \"obs\"\n[[downing.strategies]]\nstrategy = \"keep-majority\"\n\
         stable_after = [\"5s\", \"20s\"]\n",
    );
    let r = runs(&text);
    let [five_s, twenty_s] = [&r[0][0], &r[0][1]];
    let (e, o) = &five_s.events[0];
    assert_eq!((e.truth, e.nodes.as_slice()), (Truth::Crash, &[4][..]));
    assert_eq!(o.verdict(), Verdict::Downed);
    // Phi at 8 with a 1 s heartbeat and Akka's 3 s acceptable pause
    // crosses 4-5 s after the last heartbeat; stable-after adds exactly
    // its length, the same for every observer on a constant-delay LAN.
    let t5 = o.time_to_down.expect("downed");
    assert!(t5 > Nanos(8 * S) && t5 < Nanos(11 * S), "{t5}");
    let t20 = twenty_s.events[0].1.time_to_down.expect("downed");
    assert_eq!(t20.0 - t5.0, 15 * S);
    assert_eq!(o.wrongful, 0);
    assert_eq!(o.live_downed, 0);
}

#[test]
fn keep_majority_on_a_three_two_partition_downs_the_two_and_no_one_else() {
    let text = five(
        SPLIT_3_2,
        "[downing]\nobservers = \"obs\"\n[[downing.strategies]]\nstrategy = \"keep-majority\"\n\
         stable_after = \"5s\"\n",
    );
    let run = &runs(&text)[0][0];
    let (e, o) = &run.events[0];
    assert_eq!(e.truth, Truth::Partition);
    assert_eq!(o.verdict(), Verdict::Downed);
    assert_eq!(o.live_downed, 2);
    assert_eq!(o.wrongful, 0, "the two could not reach a majority");
    assert_eq!(o.split_brain, Nanos::ZERO);
    assert_eq!(o.outage, Nanos::ZERO);
}

#[test]
fn down_after_a_delay_on_a_partition_is_a_split_brain_for_the_whole_cut() {
    let text = five(
        SPLIT_3_2,
        "[downing]\nobservers = \"obs\"\n[[downing.strategies]]\nstrategy = \"down-after\"\n\
         delay = \"5s\"\n",
    );
    let run = &runs(&text)[0][0];
    let (_, o) = &run.events[0];
    assert_eq!(o.verdict(), Verdict::SplitBrain);
    // Both sides remove the other about 10 s into the 3-minute cut and
    // serve apart until it heals.
    assert!(
        o.split_brain > Nanos(165 * S) && o.split_brain < Nanos(172 * S),
        "{}",
        o.split_brain
    );
    // The two serving outside the larger group, for that long, less the
    // second or so in which only one of them had been removed (each
    // subject's detection waits for its own heartbeat phase).
    let member_s = o.split_member_time.as_secs_f64();
    let both = 2.0 * o.split_brain.as_secs_f64();
    assert!(
        member_s <= both && member_s > both - 2.0,
        "{member_s} vs {both}"
    );
    // The three, able to reach a majority, were removed by the two; at
    // the heal the two hear that the three removed them and shut down,
    // by then able to reach everyone: five wrongful downings.
    assert_eq!(o.wrongful, 5);
    assert_eq!(o.live_downed, 5);
}

#[test]
fn static_quorum_of_three_on_a_two_two_split_is_a_total_outage() {
    let text = "duration = \"10m\"\nseeds = 1\n[nodes]\nn = 4\n[network]\n\
         latency = { dist = \"constant\", value = \"1ms\" }\n\
         [[partitions]]\nstart = \"2m\"\nend = \"5m\"\na = [\"m0\", \"m1\"]\nb = [\"m2\", \"m3\"]\n\
         [[protocols]]\nkind = \"k-monitor\"\nname = \"obs\"\npreset = \"akka\"\nk = 3\n\
         threshold = 8\n[downing]\nobservers = \"obs\"\n[[downing.strategies]]\n\
         strategy = \"static-quorum\"\nquorum = 3\nstable_after = \"5s\"\n\
         [[downing.strategies]]\nstrategy = \"keep-majority\"\nstable_after = \"5s\"\n";
    let r = runs(text);
    let (_, quorum) = &r[0][0].events[0];
    assert_eq!(quorum.verdict(), Verdict::Outage);
    assert_eq!(quorum.live_downed, 4);
    // keep-majority keeps the half with the lowest address.
    let (_, majority) = &r[1][0].events[0];
    assert_eq!(majority.verdict(), Verdict::Downed);
    assert_eq!(majority.live_downed, 2);
}

#[test]
fn a_partition_healed_before_detection_plus_patience_is_kept() {
    let blip = "[[partitions]]\nstart = \"2m\"\nend = \"2m6s\"\na = [\"m0\", \"m1\", \"m2\"]\n\
                b = [\"m3\", \"m4\"]\n";
    let text = five(
        blip,
        "[downing]\nobservers = \"obs\"\n[[downing.strategies]]\nstrategy = \"keep-majority\"\n\
         stable_after = \"5s\"\n",
    );
    let (_, o) = &runs(&text)[0][0].events[0];
    assert_eq!(o.verdict(), Verdict::Kept);
    assert!(!o.any_downing);
}

#[test]
fn downing_errors_name_the_field_and_its_position() {
    let dn = |s: &str| five("", &format!("[downing]\nobservers = \"obs\"\n{s}"));
    let e = error_of(&five(
        "",
        "[downing]\nobservers = \"nope\"\n[[downing.strategies]]\nstrategy = \"down-all\"\n",
    ));
    assert!(
        e.contains("no [[protocols]] entry is named \"nope\""),
        "{e}"
    );
    assert!(e.contains("d.toml:"), "{e}");
    let e = error_of(&dn(
        "[[downing.strategies]]\nstrategy = \"lease-majority\"\n",
    ));
    assert!(e.contains("needs `lease`"), "{e}");
    let e = error_of(&dn(
        "[[downing.strategies]]\nstrategy = \"static-quorum\"\n",
    ));
    assert!(e.contains("needs `quorum`"), "{e}");
    let e = error_of(&dn(
        "[[downing.strategies]]\nstrategy = \"keep-majority\"\ndelay = \"5s\"\n",
    ));
    assert!(
        e.contains("`delay` does not apply to strategy \"keep-majority\""),
        "{e}"
    );
    let e = error_of(&dn(
        "[[downing.strategies]]\nstrategy = \"keep-minority\"\n",
    ));
    assert!(e.contains("unknown strategy \"keep-minority\""), "{e}");
    let e = error_of(&dn(
        "rapid = { k = 10, h = 3, l = 4 }\n[[downing.strategies]]\nstrategy = \"down-all\"\n",
    ));
    assert!(e.contains("1 <= l <= h <= k"), "{e}");
    // Members joining or leaving on purpose are outside the ground truth.
    let e = error_of(&five(
        "[[faults]]\nkind = \"leave\"\nnode = \"m4\"\nat = \"2m\"\n",
        "[downing]\nobservers = \"obs\"\n[[downing.strategies]]\nstrategy = \"down-all\"\n",
    ));
    assert!(
        e.contains("cannot be combined with [downing]") && e.contains("d.toml:"),
        "{e}"
    );
    // Observers that do not watch every pair.
    let partial = five("", "").replace("k = 4", "k = 2")
        + "[downing]\nobservers = \"obs\"\n[[downing.strategies]]\nstrategy = \"down-all\"\n";
    let e = error_of(&partial);
    assert!(e.contains("has k = 2") && e.contains("k = 4"), "{e}");
}

fn run_to(name: &str, jobs: &str) -> Vec<u8> {
    let out: PathBuf =
        std::env::temp_dir().join(format!("fdsim-partition-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = Command::new(env!("CARGO_BIN_EXE_fdsim"))
        .args([
            "run",
            "scenarios/two-regions-and-a-witness.toml",
            "scenarios/asymmetric-and-partial-partitions.toml",
            "--out",
            out.to_str().unwrap(),
            "--jobs",
            jobs,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut bytes = Vec::new();
    for name in [
        "two-regions-and-a-witness",
        "asymmetric-and-partial-partitions",
    ] {
        for file in ["decisions.csv", "report.md"] {
            bytes.extend(std::fs::read(out.join(name).join(file)).unwrap());
        }
        bytes.extend(std::fs::read(out.join(name).join("decisions.svg")).unwrap());
    }
    std::fs::remove_dir_all(&out).unwrap();
    bytes
}

#[test]
fn decisions_are_byte_identical_across_jobs() {
    let one = run_to("a", "1");
    assert!(one.len() > 1000);
    assert_eq!(one, run_to("b", "2"));
}
