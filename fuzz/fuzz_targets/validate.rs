//! Scenario validation on arbitrary bytes: it must never panic, every
//! rejection must say where (line and column) when the text has a line
//! to point at, and an accepted scenario must have a resource estimate
//! (`fdsim::cost`), which must not panic either.

#![no_main]

use fdsim::scenario::{Scenario, ScenarioError};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // Scenario files are read as UTF-8; bytes that are not are shown to
    // the validator as the replacement character, as a lossy read would.
    let text = String::from_utf8_lossy(data);
    match Scenario::parse(Path::new("fuzz.toml"), &text) {
        Ok(sc) => {
            let cost = fdsim::cost::ScenarioCost::of(&sc);
            assert!(cost.events() >= 0.0 && cost.peak_bytes(1) > 0.0);
        }
        Err(ScenarioError::Io { .. }) => {}
        Err(ScenarioError::Invalid(d)) => {
            if text.lines().any(|l| !l.trim().is_empty() && !l.trim().starts_with('#')) {
                assert!(
                    d.line.is_some() && d.column.is_some(),
                    "no position for {:?}",
                    d.message
                );
            }
        }
    }
});
