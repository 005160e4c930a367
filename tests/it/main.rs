//! Integration tests of fdsim, one binary with a module per area.

mod attribution;
mod censoring;
mod check;
mod cli;
mod clocks;
mod cluster;
mod cost;
mod determinism;
mod exact;
mod faults;
mod fuzz;
mod html;
mod join_leave;
mod network;
mod partition;
mod presets;
mod props;
mod pull;
mod reference_scorer;
mod replay;
mod run_props;
mod scorer_props;
mod shard;
mod streaming;
mod sweep;
mod swim;
mod topology;
mod transaction;
mod tune;
mod validation;

use fdsim::scenario::Scenario;
use std::path::Path;

/// Parses scenario text, panicking with the rendered error if invalid.
pub fn scenario(text: &str) -> Scenario {
    Scenario::parse(Path::new("test.toml"), text).unwrap_or_else(|e| panic!("{e}"))
}
