//! Detector presets (`preset = "..."` in `[[detectors]]`): every preset
//! validates and builds, keys in the entry override it, errors point at
//! the offending text, and `fdsim detectors --presets` lists them.

use fdsim::detector::presets::{self, presets};
use fdsim::detector::Env;
use fdsim::scenario::Scenario;
use fdsim::sim::Nanos;
use std::path::Path;
use std::process::Command;

const HEAD: &str = r#"
duration = "1h"
[heartbeat]
interval = "1s"
[network]
latency = { dist = "constant", value = "1ms" }
"#;

fn with(detectors: &str) -> Result<Scenario, String> {
    Scenario::parse(Path::new("p.toml"), &format!("{HEAD}{detectors}")).map_err(|e| e.to_string())
}

#[test]
fn every_preset_validates_with_its_kind_and_values_and_builds() {
    for p in presets() {
        let sc = with(&format!("[[detectors]]\npreset = \"{}\"\n", p.name))
            .unwrap_or_else(|e| panic!("{}: {e}", p.name));
        let cfg = &sc.detectors[0];
        assert_eq!(cfg.label, p.name);
        assert_eq!(cfg.kind.name, p.kind);
        assert_eq!(cfg.values, vec![p.value(cfg.kind.swept.name).unwrap()]);
        for (name, v) in cfg.params.iter() {
            assert_eq!(Some(v), p.value(name), "{}.{name}", p.name);
        }
        let env = Env {
            interval: Nanos::from_secs(1),
        };
        let threshold = if cfg.kind.threshold_dependent {
            cfg.values[0]
        } else {
            f64::NAN
        };
        let det = (cfg.kind.build)(&cfg.params, threshold, &env);
        assert_eq!(det.suspicion(Nanos::ZERO), f64::INFINITY, "{}", p.name);
    }
}

#[test]
fn a_preset_scores_like_the_same_detector_written_out() {
    // `preset = "akka"` is phi-akka with Akka's values written by hand.
    let by_preset = with("[[detectors]]\npreset = \"akka\"\nthreshold = [4, 8]\n").unwrap();
    let by_hand = with(
        "[[detectors]]\nkind = \"phi-akka\"\nthreshold = [4, 8]\nmax_sample_size = 1000\n\
         min_std_deviation = \"100ms\"\nacceptable_heartbeat_pause = \"3s\"\n\
         first_heartbeat_estimate = \"1s\"\n",
    )
    .unwrap();
    assert_eq!(by_preset.detectors[0].params, by_hand.detectors[0].params);
    let a = fdsim::run::run_seed(&by_preset, 1);
    let b = fdsim::run::run_seed(&by_hand, 1);
    assert_eq!(a.qos, b.qos);
}

#[test]
fn keys_in_the_entry_override_the_preset() {
    let sc = with(
        "[[detectors]]\npreset = \"cassandra\"\nthreshold = 10\nwindow = 50\n\
         [[detectors]]\nname = \"k8s-new\"\npreset = \"kubernetes\"\n\
         timeout = [\"40s\", \"50s\"]\n",
    )
    .unwrap();
    let cass = &sc.detectors[0];
    assert_eq!(cass.values, vec![10.0]);
    assert_eq!(cass.params.get("window"), 50.0);
    // Not overridden: the preset's, which is also the kind's default here.
    assert_eq!(cass.params.get("initial_value"), 2e9);
    let k8s = &sc.detectors[1];
    assert_eq!(k8s.label, "k8s-new");
    assert_eq!(k8s.values, vec![40e9, 50e9]);
    // The preset's value, not the kind's default, where they differ.
    let hz = with("[[detectors]]\npreset = \"hazelcast\"\n").unwrap();
    assert_eq!(
        hz.detectors[0].params.get("acceptable_heartbeat_pause"),
        60e9
    );
    assert_eq!(hz.detectors[0].values, vec![10.0]);
    // Writing the preset's own kind is allowed.
    let sc = with("[[detectors]]\npreset = \"etcd\"\nkind = \"fixed\"\n").unwrap();
    assert_eq!(sc.detectors[0].values, vec![1e9]);
}

#[test]
fn preset_errors_say_what_is_wrong_where() {
    // HEAD is 6 lines (it starts with a newline); the entry starts on 7.
    let e = with("[[detectors]]\npreset = \"cassandar\"\n").unwrap_err();
    let known = presets::names().join(", ");
    assert!(
        e.starts_with(&format!(
            "p.toml:8:10: `detectors.preset`: unknown preset \"cassandar\"; known: {known}"
        )),
        "{e}"
    );
    assert!(
        known.starts_with("akka, akka-cross-dc, cassandra"),
        "{known}"
    );
    let e = with("[[detectors]]\npreset = 8\n").unwrap_err();
    assert!(
        e.starts_with("p.toml:8:10: `detectors.preset` must be a preset's name"),
        "{e}"
    );
    let e = with("[[detectors]]\npreset = \"cassandra\"\nkind = \"fixed\"\n").unwrap_err();
    assert!(
        e.starts_with("p.toml:9:8: preset \"cassandra\" is a \"phi-exp\" detector, not \"fixed\""),
        "{e}"
    );
    let e = with("[[detectors]]\npreset = \"kafka\"\nalpha = \"1s\"\n").unwrap_err();
    assert!(
        e.starts_with("p.toml:9:1: unknown parameter `alpha` for detector \"fixed\""),
        "{e}"
    );
    let e = with("[[detectors]]\npreset = \"rabbitmq-aten\"\nthreshold = 2\n").unwrap_err();
    assert!(
        e.starts_with("p.toml:9:13: `threshold` must be in (0, 1], got 2"),
        "{e}"
    );
    let e =
        with("[[detectors]]\npreset = \"kafka\"\n[[detectors]]\npreset = \"kafka\"\n").unwrap_err();
    assert!(e.contains("two detectors are labelled \"kafka\""), "{e}");
    let e = with("[[detectors]]\nname = \"x\"\n").unwrap_err();
    assert!(
        e.contains("every entry needs `kind` (a detector) or `preset`"),
        "{e}"
    );
}

fn fdsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fdsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("fdsim runs")
}

#[test]
fn fdsim_detectors_lists_the_presets_and_details_one() {
    let o = fdsim(&["detectors", "--presets"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for p in presets() {
        assert!(
            text.contains(&format!("  {} ({}): ", p.name, p.kind)),
            "{text}"
        );
        assert!(text.contains(p.source), "{}", p.name);
    }
    assert!(text.contains("kafka (fixed): timeout = \"45s\"\n      heartbeat 3s; source: "));
    assert!(
        text.contains("comparable one"),
        "the heartbeat warning: {text}"
    );
    // The membership presets, usable in [[protocols]], with their source.
    for (name, _) in fdsim::scenario::SWIM_PRESETS {
        assert!(
            text.contains(&format!("  {name}: memberlist ")),
            "{name}: {text}"
        );
    }
    assert!(text.contains("(hashicorp/memberlist config.go)"));
    let o = fdsim(&["detectors", "akka-cross-dc"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("timeout = \"13s\""), "{text}");
    assert!(text.contains("10 s + 3 s = 13 s"), "{text}");
    assert!(text.contains("fdsim detectors fixed"), "{text}");
    // The catalogue of kinds points at the presets.
    let o = fdsim(&["detectors"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("fdsim detectors --presets"));
    // An unknown name lists kinds and presets; a name with --presets is a
    // usage error.
    let o = fdsim(&["detectors", "cassandar"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown detector \"cassandar\"") && err.contains("presets: akka"));
    assert_eq!(
        fdsim(&["detectors", "--presets", "kafka"]).status.code(),
        Some(2)
    );
}

/// The ```toml blocks of a document that contain `needle`.
fn toml_blocks(doc: &str, needle: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(doc);
    let text = std::fs::read_to_string(path).unwrap();
    text.split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .filter(|b| b.contains(needle))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_documented_preset_and_clock_examples_validate() {
    let mut checked = 0;
    for doc in ["docs/scenarios.md", "docs/detectors.md"] {
        for block in toml_blocks(doc, "preset = ") {
            let head = if block.contains("[heartbeat]") {
                HEAD.replace("[heartbeat]\ninterval = \"1s\"\n", "")
            } else {
                HEAD.replace("\"1s\"", "\"100ms\"")
            };
            Scenario::parse(Path::new(doc), &format!("{head}{block}"))
                .unwrap_or_else(|e| panic!("{doc}: {e}\n{block}"));
            checked += 1;
        }
    }
    for block in toml_blocks("docs/scenarios.md", "[[clocks]]") {
        let text = format!(
            "{HEAD}[nodes]\nmonitors = [\"monitor\", \"m2\"]\ntargets = [\"target\"]\n\
             [[detectors]]\nkind = \"fixed\"\ntimeout = \"3s\"\n{block}"
        );
        Scenario::parse(Path::new("docs/scenarios.md"), &text)
            .unwrap_or_else(|e| panic!("{e}\n{block}"));
        checked += 1;
    }
    assert!(checked >= 3, "{checked}");
}

/// The rendered warnings of scenario text.
fn warnings_of(text: &str) -> Vec<String> {
    let sc = Scenario::parse(Path::new("p.toml"), text).unwrap_or_else(|e| panic!("{e}"));
    sc.warnings.iter().map(|w| w.to_string()).collect()
}

#[test]
fn a_preset_used_with_another_heartbeat_interval_warns_naming_both() {
    // Every preset at its own interval is silent.
    for p in presets() {
        let head = HEAD.replace("\"1s\"", &format!("\"{}\"", p.heartbeat));
        let text = format!("{head}[[detectors]]\npreset = \"{}\"\n", p.name);
        assert_eq!(warnings_of(&text), Vec::<String>::new(), "{}", p.name);
    }
    let fast = HEAD.replace("\"1s\"", "\"100ms\"");
    let w = warnings_of(&format!("{fast}[[detectors]]\npreset = \"akka\"\n"));
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with(
            "p.toml:8:10: preset \"akka\" is tuned for a heartbeat every 1s, but \
             `[heartbeat] interval` is 100ms"
        ),
        "{}",
        w[0]
    );
    // A k-monitor protocol running a preset's detector at another interval.
    let cluster = "duration = \"1h\"\n[nodes]\nn = 4\n[network]\n\
                   latency = { dist = \"constant\", value = \"1ms\" }\n\
                   [[protocols]]\nkind = \"k-monitor\"\npreset = \"cassandra\"\nk = 2\n";
    assert_eq!(warnings_of(cluster), Vec::<String>::new());
    let w = warnings_of(&format!("{cluster}interval = \"250ms\"\n"));
    assert!(
        w.len() == 1
            && w[0].starts_with(
                "p.toml:8:10: preset \"cassandra\" is tuned for a heartbeat every 1s, but this \
                 entry's `interval` is 250ms"
            ),
        "{w:?}"
    );
}

#[test]
fn validate_and_run_print_the_preset_warning_and_still_succeed() {
    let dir = std::env::temp_dir().join(format!("fdsim-preset-warn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fast-akka.toml");
    let text = HEAD
        .replace("\"1s\"", "\"100ms\"")
        .replace("\"1h\"", "\"2m\"");
    std::fs::write(
        &file,
        format!("seeds = 1\n{text}[[detectors]]\npreset = \"akka\"\n"),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_fdsim");
    let out = dir.join("out");
    for args in [
        vec!["validate", file.to_str().unwrap()],
        vec![
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    ] {
        let o = Command::new(bin).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            err.contains("warning: ")
                && err.contains(
                    "fast-akka.toml:9:10: preset \"akka\" is tuned for a heartbeat every 1s, but \
                 `[heartbeat] interval` is 100ms"
                ),
            "{args:?}: {err}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
