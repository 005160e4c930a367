//! Semantic checks that have no fixture file of their own.

use fdsim::scenario::Scenario;
use std::path::Path;

fn error_of(text: &str) -> String {
    match Scenario::parse(Path::new("v.toml"), text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const BODY: &str = r#"
duration = "1h"
[heartbeat]
interval = "100ms"
[network]
latency = { dist = "constant", value = "1ms" }
[[detectors]]
kind = "fixed"
timeout = "200ms"
"#;

#[test]
fn a_name_that_would_escape_the_output_folder_is_rejected() {
    let e = error_of(&format!("name = \"..\"\n{BODY}"));
    assert!(e.starts_with("v.toml:1:8: `name` may hold only"), "{e}");
}

#[test]
fn a_scenario_without_a_monitored_pair_is_rejected() {
    let e = error_of(&format!(
        "{BODY}\n[nodes]\nmonitors = [\"m\"]\ntargets = [\"m\"]\n"
    ));
    assert!(
        e.contains("no target is watched by a different node"),
        "{e}"
    );
}

#[test]
fn seed_overrides_that_would_overflow_are_refused() {
    let mut sc = Scenario::parse(Path::new("v.toml"), BODY).unwrap();
    let before = sc.seeds.clone();
    assert!(sc.override_seeds(Some(2), Some(u64::MAX)).is_err());
    assert_eq!(sc.seeds, before, "a refused override changes nothing");
    sc.override_seeds(Some(1), Some(u64::MAX)).unwrap();
    assert_eq!(sc.seeds, vec![u64::MAX]);
}

#[test]
fn unknown_detector_kind_lists_the_known_ones() {
    let e = error_of(&BODY.replace("kind = \"fixed\"", "kind = \"fixd\""));
    assert!(
        e.contains("unknown detector \"fixd\"; known: fixed, chen-nfds"),
        "{e}"
    );
}

#[test]
fn unknown_detector_parameter_lists_the_accepted_ones() {
    let e = error_of(&BODY.replace("timeout = \"200ms\"", "timeout = \"200ms\"\nwindow = 5"));
    assert!(
        e.contains("unknown parameter `window` for detector \"fixed\"; it takes: timeout"),
        "{e}"
    );
}

#[test]
fn overlapping_faults_on_one_node_are_rejected() {
    let faults =
        "\n[[faults]]\nkind = \"crash\"\nnode = \"target\"\nat = \"10m\"\nrestart_after = \"5m\"\n\
                  [[faults]]\nkind = \"crash\"\nnode = \"target\"\nat = \"12m\"\n";
    let e = error_of(&format!("{BODY}{faults}"));
    assert!(e.contains("can overlap an earlier fault"), "{e}");
}
