//! The `fdsim` command line: parses arguments, calls the library, maps
//! errors to exit codes (0 success, 1 failure while running or writing,
//! 2 bad input: usage or scenario errors).

use clap::{Parser, Subcommand};
use fdsim::cost;
use fdsim::report;
use fdsim::run;
use fdsim::scenario::{self, Scenario, ScenarioError};
use fdsim::shard::{self, ShardSpec};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Set once standard output turns out to be a closed pipe: from then on
/// nothing more is printed, but the command still finishes its work
/// (`fdsim run scenarios/ | head` still writes every report).
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes `bytes` to standard output. A closed pipe (`fdsim ... | head`)
/// is not a failure: the rest of the output is dropped quietly. Other
/// write errors are returned.
fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        other => other,
    }
}

/// Writes text to standard output through [`write_stdout`]; a write error
/// other than a closed pipe exits with 1.
fn out(text: &str) {
    if let Err(e) = write_stdout(text.as_bytes()) {
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(i32::from(EXIT_FAILURE));
    }
}

/// `print!` through [`out`].
macro_rules! outp {
    ($($arg:tt)*) => { out(&format!($($arg)*)) };
}

/// `println!` through [`out`].
macro_rules! outln {
    ($($arg:tt)*) => { out(&format!("{}\n", format!($($arg)*))) };
}

const EXIT_FAILURE: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "fdsim",
    version,
    about = "Deterministic simulator for heartbeat failure detectors",
    long_about = "fdsim simulates heartbeats over a modelled network with crashes, and scores \
failure detectors on detection time and false positives (Chen, Toueg and Aguilera's QoS \
metrics). Same scenario and seed give byte-identical output.",
    after_help = "Exit codes: 0 success, 1 failure while running or writing output, 2 bad input \
(usage or scenario errors).\n\nStart with:  fdsim run scenarios/"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios and write per-seed metrics and summary tables.
    #[command(
        after_help = "Examples:\n  fdsim run scenarios/                      every bundled scenario\n  \
fdsim run scenarios/lan-pair.toml --seeds 3\n  fdsim run scenarios/wan-pair.toml --seed 7 --seeds 1   reproduce one run\n\n\
For each scenario NAME it writes under OUT/NAME/: curve.csv (one row per detector x value, \
pooled over seeds, with 95 % intervals), runs.csv and metrics.csv (one row per detector x value \
x seed), tradeoff.svg (detection time against mistakes per hour), report.md, report.html (the \
same page for a browser) and summary.txt (the table printed here), and for scenarios with \
[[protocols]] clusters.csv (one row per protocol x value); and OUT/index.md and OUT/index.html \
listing every scenario folder under OUT. The report is replaced whole, atomically.\n\n\
With --shard K/N it runs only shard K's simulations and writes them to OUT as partial results; \
`fdsim merge` of all N folders writes the report an unsharded run writes, byte for byte \
(docs/scale-out.md)."
    )]
    Run {
        /// Scenario files, or directories whose *.toml files are all run.
        #[arg(required = true, value_name = "FILE_OR_DIR")]
        paths: Vec<PathBuf>,
        /// Output directory (with --shard: the shard's partial results).
        #[arg(long, default_value = "report", value_name = "DIR")]
        out: PathBuf,
        /// Number of seeds per scenario, overriding the file's `seeds`.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
        seeds: Option<u64>,
        /// First seed (seeds are S, S+1, ...), overriding the file's.
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// Worker threads; results are identical for every value.
        #[arg(long, value_name = "N", default_value_t = default_jobs(),
              value_parser = clap::value_parser!(u64).range(1..=1024))]
        jobs: u64,
        /// Refuse a scenario whose estimated peak memory exceeds this
        /// (512MiB, 8GiB; default: half of this machine's memory).
        #[arg(long, value_name = "SIZE", value_parser = size_arg)]
        max_memory: Option<f64>,
        /// Refuse a scenario whose estimated engine events, over all its
        /// simulations, exceed this (default: 1e11, a few hours of CPU).
        #[arg(long, value_name = "N", value_parser = events_arg)]
        max_events: Option<f64>,
        /// Run only shard K of N (1 <= K <= N) and write its partial results to --out,
        /// for `fdsim merge`; units are dealt to shards by estimated cost.
        #[arg(long, value_name = "K/N", value_parser = shard_arg)]
        shard: Option<ShardSpec>,
        /// Plot size: screen (960 px wide, titled) or paper (7 in wide,
        /// untitled, for a two-column paper).
        #[arg(long, value_name = "SIZE", value_enum, default_value_t = report::PlotSize::Screen)]
        plot_size: report::PlotSize,
    },
    /// Find each detector's best setting within a mistake or detection-time budget.
    #[command(
        after_help = "Examples:\n  fdsim tune scenarios/lan-pair.toml --max-mistakes-per-hour 0.1\n  \
fdsim tune scenarios/lan-pair.toml --max-detection-ms 250\n  \
fdsim tune scenarios/lan-pair.toml --max-mistakes-per-hour 0.1 --certify\n  \
fdsim tune scenarios/wan-pair.toml --max-mistakes-per-hour 0.01 --detector fixed --json\n\n\
With --max-mistakes-per-hour X it finds the lowest mean detection time whose 95 % upper bound on \
mistakes per hour is at most X; with --max-detection-ms X, the fewest mistakes per hour whose \
mean detection time is at most X ms (ties go to the faster setting). It scores the scenario's \
declared sweep, then refines between the best value and the nearest one on the other side of \
the budget. --max-messages-per-second M refuses heartbeats costing more than M messages per \
monitored pair per second. If nothing meets the budget it says why: too many mistakes, too slow, \
or too little simulated up time to certify so small a rate (zero mistakes in T hours only bounds \
the rate by 3.69/T).\n\n\
--certify then confirms the answer on fresh seeds (after the scenario's), in batches of as many \
seeds as the scenario has, until the rate is certified within X or shown above it at 95 %, with \
at most --max-batches looks. Each look tests at 5 %/K one-sided (K = --max-batches, a Bonferroni \
split), so looking after every batch and stopping at the first answer keeps the overall error at \
most 5 %, which repeated naive 95 % tests do not. A value shown above the budget gives way to the \
next larger one the search found, from the same allowance. The seeds used are printed. Why not \
an SPRT: docs/tuning.md.\n\n\
tune runs on one machine: each refinement step depends on the results of the one before, so it \
cannot be sharded. To spread a sweep over machines, declare the values in the scenario and use \
`fdsim run --shard K/N` and `fdsim merge` (docs/scale-out.md)."
    )]
    Tune {
        /// The scenario file.
        #[arg(value_name = "FILE")]
        path: PathBuf,
        /// Budget: mistakes per hour of up time, met with 95 % confidence (fastest setting within it).
        #[arg(
            long,
            value_name = "X",
            required_unless_present = "max_detection_ms",
            conflicts_with = "max_detection_ms"
        )]
        max_mistakes_per_hour: Option<f64>,
        /// Deadline: mean detection time in ms (fewest mistakes per hour within it).
        #[arg(long, value_name = "X")]
        max_detection_ms: Option<f64>,
        /// Heartbeat messages per monitored pair per second, at most.
        #[arg(long, value_name = "M")]
        max_messages_per_second: Option<f64>,
        /// Confirm the answer on fresh seeds, batch by batch, with a sequential test at 95 %.
        #[arg(long, requires = "max_mistakes_per_hour")]
        certify: bool,
        /// With --certify: the most batches (looks) allowed.
        #[arg(long, value_name = "K", default_value_t = 10, requires = "certify",
              value_parser = clap::value_parser!(u64).range(1..=1000))]
        max_batches: u64,
        /// Tune only this detector (its `name`, or its kind).
        #[arg(long, value_name = "NAME")]
        detector: Option<String>,
        /// Print the result as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Refused: tune runs on one machine (see below).
        #[arg(long, hide = true, value_name = "K/N")]
        shard: Option<String>,
        /// Number of seeds, overriding the file's `seeds`.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
        seeds: Option<u64>,
        /// First seed, overriding the file's.
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// Worker threads; results are identical for every value.
        #[arg(long, value_name = "N", default_value_t = default_jobs(),
              value_parser = clap::value_parser!(u64).range(1..=1024))]
        jobs: u64,
        /// Refuse a scenario whose estimated peak memory exceeds this
        /// (512MiB, 8GiB; default: half of this machine's memory).
        #[arg(long, value_name = "SIZE", value_parser = size_arg)]
        max_memory: Option<f64>,
        /// Refuse a scenario whose estimated engine events, over all its
        /// simulations, exceed this (default: 1e11, a few hours of CPU).
        #[arg(long, value_name = "N", value_parser = events_arg)]
        max_events: Option<f64>,
    },
    /// Write the event timeline of one seed for one detector, as CSV.
    #[command(
        after_help = "Examples:\n  fdsim trace scenarios/lossy-pair.toml --from 5m --to 5m2s\n  \
fdsim trace scenarios/cloud-detectors.toml --detector phi --value 8 --seed 3 --from 10m --to 10m5s\n  \
fdsim trace scenarios/wan-pair.toml --value 300ms --from 0 --to 1h --samples-per-interval 0 --out wan.csv\n\n\
One row per event in [FROM, TO) of true time: crashes and restarts of the target, heartbeat \
arrivals (seq, suspicion just before and after), suspect and trust transitions for each swept \
value (or each --value), and suspicion samples between arrivals. The transitions are exactly \
those `fdsim run` scores. Columns: docs/output.md. Durations as in scenario files (90s, 1h30m)."
    )]
    Trace {
        /// The scenario file.
        #[arg(value_name = "FILE")]
        path: PathBuf,
        /// The seed to simulate (default: the scenario's first seed).
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// The detector (its `name`, or its kind); needed if the scenario has several.
        #[arg(long, value_name = "NAME")]
        detector: Option<String>,
        /// Trace only this value of the swept parameter (repeatable), written as in a scenario file.
        #[arg(long = "value", value_name = "V")]
        values: Vec<String>,
        /// Start of the window (true time from the start of the run).
        #[arg(long, value_name = "T", value_parser = duration_arg)]
        from: fdsim::sim::Nanos,
        /// End of the window (exclusive), at most the scenario's duration.
        #[arg(long, value_name = "T", value_parser = duration_arg)]
        to: fdsim::sim::Nanos,
        /// Suspicion samples per heartbeat interval between arrivals (0: none).
        #[arg(long, value_name = "N", default_value_t = 20,
              value_parser = clap::value_parser!(u32).range(0..=1000))]
        samples_per_interval: u32,
        /// Write the CSV to this file (atomically) instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Refuse a scenario whose estimated peak memory exceeds this
        /// (512MiB, 8GiB; default: half of this machine's memory).
        #[arg(long, value_name = "SIZE", value_parser = size_arg)]
        max_memory: Option<f64>,
        /// Refuse a scenario whose estimated engine events exceed this
        /// (default: 1e11, a few hours of CPU).
        #[arg(long, value_name = "N", value_parser = events_arg)]
        max_events: Option<f64>,
    },
    /// Write the heartbeat arrivals of one seed as a trace that [replay] reads back.
    #[command(
        after_help = "Examples:\n  fdsim record scenarios/data/replay-source.toml --out scenarios/data/replay-trace.csv\n  \
fdsim record scenarios/lossy-pair.toml --seed 3 > lossy.csv\n\n\
One row per heartbeat arrival (time on the monitor's clock, monitor, target, sequence number, \
send time on the sender's clock, incarnation) and one per crash and restart of a target, in time \
order; times in milliseconds, exact to the nanosecond. A scenario with `[replay] file = ...` and \
the same nodes, clocks, heartbeat interval, duration, warm-up and detectors scores it exactly as \
`fdsim run` scores the recorded seed. Format: docs/traces.md."
    )]
    Record {
        /// The scenario file.
        #[arg(value_name = "FILE")]
        path: PathBuf,
        /// The seed to record (default: the scenario's first seed).
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// Write the trace to this file (atomically) instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Refuse a scenario whose estimated peak memory exceeds this
        /// (512MiB, 8GiB; default: half of this machine's memory).
        #[arg(long, value_name = "SIZE", value_parser = size_arg)]
        max_memory: Option<f64>,
        /// Refuse a scenario whose estimated engine events exceed this
        /// (default: 1e11, a few hours of CPU).
        #[arg(long, value_name = "N", value_parser = events_arg)]
        max_events: Option<f64>,
    },
    /// List the detectors, or show one with its parameters, defaults and source.
    #[command(
        after_help = "Examples:\n  fdsim detectors\n  fdsim detectors phi-akka\n  \
fdsim detectors --presets          real systems' defaults, for preset = \"...\" in [[detectors]]\n  \
fdsim detectors cassandra          one preset: values, source and how they were derived"
    )]
    Detectors {
        /// A detector kind, or a preset, to show in detail.
        #[arg(value_name = "NAME")]
        name: Option<String>,
        /// List the presets (real systems' defaults) instead of the kinds.
        #[arg(long, conflicts_with = "name")]
        presets: bool,
    },
    /// Record the statistics that `fdsim check` compares against.
    #[command(
        after_help = "Examples:\n  fdsim baseline scenarios/ --out baselines/\n\n\
Writes OUT/NAME.json per scenario: per detector x value, mean and p99 detection time, mistakes \
per hour and 1 - P_A with their 95 % intervals and standard errors, the seeds, the fdsim version \
and a fingerprint of the scenario file. Commit it; `fdsim check` reruns the same seeds.\n\n\
With --shard K/N it writes shard K's partial results to OUT instead; `fdsim merge` of all N \
folders with --out DIR writes the baselines."
    )]
    Baseline {
        /// Scenario files or directories.
        #[arg(required = true, value_name = "FILE_OR_DIR")]
        paths: Vec<PathBuf>,
        /// Directory for the baseline files (with --shard: the shard's partial results).
        #[arg(long, default_value = "baselines", value_name = "DIR")]
        out: PathBuf,
        /// Number of seeds, overriding the file's `seeds`.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
        seeds: Option<u64>,
        /// First seed, overriding the file's.
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// Worker threads; results are identical for every value.
        #[arg(long, value_name = "N", default_value_t = default_jobs(),
              value_parser = clap::value_parser!(u64).range(1..=1024))]
        jobs: u64,
        /// Refuse a scenario whose estimated peak memory exceeds this
        /// (512MiB, 8GiB; default: half of this machine's memory).
        #[arg(long, value_name = "SIZE", value_parser = size_arg)]
        max_memory: Option<f64>,
        /// Refuse a scenario whose estimated engine events, over all its
        /// simulations, exceed this (default: 1e11, a few hours of CPU).
        #[arg(long, value_name = "N", value_parser = events_arg)]
        max_events: Option<f64>,
        /// Run only shard K of N (1 <= K <= N) and write its partial results to --out,
        /// for `fdsim merge`; units are dealt to shards by estimated cost.
        #[arg(long, value_name = "K/N", value_parser = shard_arg)]
        shard: Option<ShardSpec>,
    },
    /// Rerun scenarios and fail if a detector's accuracy regressed.
    #[command(
        after_help = "Examples:\n  fdsim check scenarios/ --baseline baselines/\n  \
fdsim check scenarios/lan-pair.toml --baseline baselines/ --junit check.xml \\\n      \
--tolerance mistakes_per_hour=0.2,0.01\n\n\
A metric regresses only when its change exceeds the tolerance (the larger of REL x baseline and \
ABS) AND is significant at 95 % given both runs' sampling error. Metrics and default tolerances \
(REL,ABS): detection_ms_mean 0.05,1  detection_ms_p99 0.1,5  mistakes_per_hour 0.1,0.001  \
unavailability 0.1,1e-6  undetected 0,0. Budgets written in [[detectors]] entries \
(max_mistakes_per_hour, max_detection_ms_mean, max_detection_ms_p99) are gated too.\n\n\
With --shard K/N --out DIR it writes shard K's partial results to DIR and exits 0; \
`fdsim merge` of all N folders then prints the verdict and exits as check does.\n\n\
Exit codes: 0 every metric held or improved and every budget is met, 1 something regressed, \
went missing or is over budget, 2 bad input (no baseline, invalid scenario or tolerance)."
    )]
    Check {
        /// Scenario files or directories.
        #[arg(required = true, value_name = "FILE_OR_DIR")]
        paths: Vec<PathBuf>,
        /// Directory holding NAME.json baselines from `fdsim baseline`.
        #[arg(long, value_name = "DIR")]
        baseline: Option<PathBuf>,
        /// Also write the verdict as JUnit XML for CI systems.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Per-metric tolerance METRIC=REL,ABS; repeatable.
        #[arg(long, value_name = "METRIC=REL,ABS")]
        tolerance: Vec<String>,
        /// Worker threads; results are identical for every value.
        #[arg(long, value_name = "N", default_value_t = default_jobs(),
              value_parser = clap::value_parser!(u64).range(1..=1024))]
        jobs: u64,
        /// Refuse a scenario whose estimated peak memory exceeds this
        /// (512MiB, 8GiB; default: half of this machine's memory).
        #[arg(long, value_name = "SIZE", value_parser = size_arg)]
        max_memory: Option<f64>,
        /// Refuse a scenario whose estimated engine events, over all its
        /// simulations, exceed this (default: 1e11, a few hours of CPU).
        #[arg(long, value_name = "N", value_parser = events_arg)]
        max_events: Option<f64>,
        /// Run only shard K of N (1 <= K <= N) and write its partial results to --out,
        /// for `fdsim merge`; units are dealt to shards by estimated cost.
        #[arg(long, value_name = "K/N", value_parser = shard_arg)]
        shard: Option<ShardSpec>,
        /// With --shard: the folder for the shard's partial results.
        #[arg(long, value_name = "DIR", requires = "shard")]
        out: Option<PathBuf>,
    },
    /// Merge the partial results of `--shard K/N` runs into the full output.
    #[command(
        after_help = "Examples:\n  fdsim run scenarios/ --shard 1/2 --out part-1\n  \
fdsim run scenarios/ --shard 2/2 --out part-2\n  fdsim merge part-1 part-2 --out report\n\n\
It finishes the command the shards ran: for `run`, the report (byte for byte what an unsharded \
run writes, with the same table on standard output); for `baseline`, the baseline files; for \
`check`, the verdict and its exit code (--junit FILE as for check). Run it where the scenario \
files are at the paths the shards were given. It refuses shards of different runs, versions or \
inputs, a damaged or unfinished shard folder, a unit given twice and a missing unit, naming the \
shard that should have produced it. Launchers for Slurm, Kubernetes and GitHub Actions: \
deploy/, docs/scale-out.md."
    )]
    Merge {
        /// The shards' partial result folders (every shard once).
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Where the report (shards of run) or the baselines (shards of baseline) go.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Shards of check: also write the verdict as JUnit XML.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Shards of run: the plot size, as `run --plot-size` (give the
        /// same to get the report an unsharded run writes).
        #[arg(long, value_name = "SIZE", value_enum, default_value_t = report::PlotSize::Screen)]
        plot_size: report::PlotSize,
    },
    /// Check scenario files without running them.
    #[command(
        after_help = "Examples:\n  fdsim validate scenarios/\n  fdsim validate my-network.toml\n  \
fdsim validate scenarios/ --shards 8 --seeds 1000   how 8 machines would share the run\n\n\
Every problem is reported as FILE:LINE:COLUMN: what is wrong, with the text underlined. \
Exit code 2 if any file is invalid."
    )]
    Validate {
        /// Scenario files or directories.
        #[arg(required = true, value_name = "FILE_OR_DIR")]
        paths: Vec<PathBuf>,
        /// Also show how `--shard K/N` would deal the run to N shards, by estimated cost.
        #[arg(long, value_name = "N",
              value_parser = clap::value_parser!(u32).range(1..=shard::MAX_SHARDS as i64))]
        shards: Option<u32>,
        /// With --shards: seeds per scenario, as `run --seeds` would override them.
        #[arg(long, value_name = "N", requires = "shards",
              value_parser = clap::value_parser!(u64).range(1..=100_000))]
        seeds: Option<u64>,
        /// With --shards: the first seed, as `run --seed` would override it.
        #[arg(long, value_name = "S", requires = "shards")]
        seed: Option<u64>,
    },
}

/// Progress on stderr: a bar when stderr is a terminal and the work has
/// already taken more than a second; for a shard whose stderr is not a
/// terminal (a batch job's log), a line every few seconds
/// ([`PROGRESS_LINE_SECS`], or `FDSIM_PROGRESS_SECS`). The wall clock here
/// decides only what to print; nothing simulated reads it.
struct Progress {
    label: String,
    enabled: bool,
    /// Seconds between progress lines, when lines are printed instead of
    /// a bar.
    lines: Option<f64>,
    start: std::time::Instant,
    bar: std::sync::OnceLock<indicatif::ProgressBar>,
    /// When the last line was printed (seconds since `start`).
    last_line: std::sync::Mutex<f64>,
}

/// Seconds between a shard's progress lines in a batch log.
const PROGRESS_LINE_SECS: f64 = 5.0;

impl Progress {
    fn new(label: &str) -> Progress {
        Progress {
            label: label.to_string(),
            enabled: std::io::stderr().is_terminal(),
            lines: None,
            start: std::time::Instant::now(),
            bar: std::sync::OnceLock::new(),
            last_line: std::sync::Mutex::new(0.0),
        }
    }

    /// A bar on a terminal, else a line every few seconds.
    fn for_shard(label: &str) -> Progress {
        let mut p = Progress::new(label);
        if !p.enabled {
            let every = std::env::var("FDSIM_PROGRESS_SECS")
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
                .unwrap_or(PROGRESS_LINE_SECS);
            p.lines = Some(every);
        }
        p
    }

    fn update(&self, done: usize, total: usize) {
        if let Some(every) = self.lines {
            return self.line(every, done, total);
        }
        if !self.enabled || (self.bar.get().is_none() && self.start.elapsed().as_secs_f64() < 1.0) {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let bar = indicatif::ProgressBar::new(total as u64).with_elapsed(self.start.elapsed());
            let style = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} simulations, {elapsed} elapsed, ~{eta} left",
            )
            .map(|s| s.progress_chars("=> "));
            if let Ok(style) = style {
                bar.set_style(style);
            }
            bar.set_message(self.label.clone());
            bar
        });
        bar.set_position(done as u64);
    }

    /// Prints a progress line if `every` seconds passed since the last.
    fn line(&self, every: f64, done: usize, total: usize) {
        let now = self.start.elapsed().as_secs_f64();
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        if now - *last < every {
            return;
        }
        *last = now;
        let left = if done == 0 {
            String::new()
        } else {
            let rest = now / done as f64 * (total - done) as f64;
            format!(", ~{} left", clock_time(rest))
        };
        eprintln!(
            "progress: {}: {done}/{total} simulations ({:.0} %), {} elapsed{left}",
            self.label,
            100.0 * done as f64 / total.max(1) as f64,
            clock_time(now)
        );
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

/// Seconds as `1h02m03s`, `2m03s` or `3s`.
fn clock_time(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m{sec:02}s"),
        (h, m, sec) => format!("{h}h{m:02}m{sec:02}s"),
    }
}

/// `--shard K/N`.
fn shard_arg(text: &str) -> Result<ShardSpec, String> {
    ShardSpec::parse(text)
}

fn default_jobs() -> u64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            paths,
            out,
            seeds,
            seed,
            jobs,
            max_memory,
            max_events,
            shard,
            plot_size,
        } => cmd_run(
            &paths,
            &out,
            (seeds, seed),
            jobs as usize,
            limits(max_memory, max_events),
            shard,
            report::ReportOptions { plot_size },
        ),
        Command::Validate {
            paths,
            shards,
            seeds,
            seed,
        } => cmd_validate(&paths, shards.map(|n| (n, (seeds, seed)))),
        Command::Record {
            path,
            seed,
            out,
            max_memory,
            max_events,
        } => cmd_record(&path, seed, out.as_deref(), limits(max_memory, max_events)),
        Command::Detectors { name, presets } => cmd_detectors(name.as_deref(), presets),
        Command::Trace {
            path,
            seed,
            detector,
            values,
            from,
            to,
            samples_per_interval,
            out,
            max_memory,
            max_events,
        } => cmd_trace(
            &path,
            (seed, detector, &values),
            (from, to),
            samples_per_interval,
            (out.as_deref(), limits(max_memory, max_events)),
        ),
        Command::Baseline {
            paths,
            out,
            seeds,
            seed,
            jobs,
            max_memory,
            max_events,
            shard,
        } => cmd_baseline(
            &paths,
            &out,
            (seeds, seed),
            jobs as usize,
            limits(max_memory, max_events),
            shard,
        ),
        Command::Check {
            paths,
            baseline,
            junit,
            tolerance,
            jobs,
            max_memory,
            max_events,
            shard,
            out,
        } => cmd_check(
            &paths,
            (baseline.as_deref(), junit.as_deref()),
            &tolerance,
            jobs as usize,
            limits(max_memory, max_events),
            (shard, out.as_deref()),
        ),
        Command::Merge {
            dirs,
            out,
            junit,
            plot_size,
        } => cmd_merge(
            &dirs,
            out.as_deref(),
            junit.as_deref(),
            report::ReportOptions { plot_size },
        ),
        Command::Tune { shard: Some(_), .. } => {
            eprintln!(
                "error: tune runs on one machine: each refinement step depends on the results of \
                 the one before, so it cannot be sharded; to spread a sweep over machines, \
                 declare its values in the scenario and use fdsim run --shard K/N, then fdsim \
                 merge (docs/scale-out.md)"
            );
            ExitCode::from(EXIT_BAD_INPUT)
        }
        Command::Tune {
            path,
            max_mistakes_per_hour,
            max_detection_ms,
            max_messages_per_second,
            certify,
            max_batches,
            detector,
            json,
            seeds,
            seed,
            jobs,
            max_memory,
            max_events,
            shard: None,
        } => cmd_tune(
            &path,
            TuneArgs {
                max_mistakes_per_hour,
                max_detection_ms,
                max_messages_per_second,
                certify_batches: certify.then_some(max_batches as usize),
            },
            (detector.as_deref(), json),
            (seeds, seed),
            jobs as usize,
            limits(max_memory, max_events),
        ),
    }
}

/// Loads every scenario, reporting every invalid file (not just the first).
fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>, ExitCode> {
    let files = match scenario::collect_files(paths) {
        Ok(f) if f.is_empty() => {
            let given: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            eprintln!(
                "error: no scenario files (*.toml) found in {}",
                given.join(", ")
            );
            return Err(ExitCode::from(EXIT_BAD_INPUT));
        }
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let mut loaded = Vec::new();
    let mut failed = false;
    for f in &files {
        match Scenario::load(f) {
            Ok(sc) => {
                print_warnings(&sc);
                loaded.push(sc)
            }
            Err(e) => {
                failed = true;
                print_scenario_error(&e);
            }
        }
    }
    if failed {
        return Err(ExitCode::from(EXIT_BAD_INPUT));
    }
    let mut names: Vec<&str> = loaded.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        eprintln!(
            "error: two scenarios are named \"{}\"; their outputs would collide (set `name`)",
            w[0]
        );
        return Err(ExitCode::from(EXIT_BAD_INPUT));
    }
    Ok(loaded)
}

fn print_scenario_error(e: &ScenarioError) {
    eprintln!("error: {e}");
}

/// Prints what validation accepted but doubts, on stderr; the exit code
/// does not change.
fn print_warnings(sc: &Scenario) {
    for w in &sc.warnings {
        eprintln!("warning: {w}");
    }
}

/// Loads the one scenario of `tune`, `trace` or `record`, printing its
/// warnings, or its error and the exit code for bad input.
fn load_one(path: &Path) -> Result<Scenario, ExitCode> {
    match Scenario::load(path) {
        Ok(sc) => {
            print_warnings(&sc);
            Ok(sc)
        }
        Err(e) => {
            print_scenario_error(&e);
            Err(ExitCode::from(EXIT_BAD_INPUT))
        }
    }
}

/// A memory size argument (`512MiB`, `8GiB`).
fn size_arg(text: &str) -> Result<f64, String> {
    cost::parse_bytes(text)
}

/// An event count argument (`1e11`, `5000000`).
fn events_arg(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 1.0 => Ok(v),
        _ => Err(format!(
            "\"{text}\" is not an event count; write it as 5000000 or 1e11"
        )),
    }
}

/// The resource limits of a command: the flags given, else the defaults.
fn limits(max_memory: Option<f64>, max_events: Option<f64>) -> cost::Limits {
    let d = cost::Limits::defaults();
    cost::Limits {
        max_memory: max_memory.unwrap_or(d.max_memory),
        max_events: max_events.unwrap_or(d.max_events),
    }
}

/// Refuses, before any simulation, every scenario whose estimated cost
/// with `jobs` simulations at once exceeds `limits` (see [`cost::check`]).
fn guard(scenarios: &[Scenario], jobs: usize, limits: cost::Limits) -> Result<(), ExitCode> {
    let mut refused = false;
    for sc in scenarios {
        if let Err(r) = cost::check(sc, jobs, limits) {
            eprintln!("error: {r}");
            refused = true;
        }
    }
    if refused {
        Err(ExitCode::from(EXIT_BAD_INPUT))
    } else {
        Ok(())
    }
}

/// The guard of `trace` and `record`, which simulate one seed (`trace` up
/// to `until`): the estimate of that simulation against `limits`.
fn guard_one_seed(
    sc: &Scenario,
    until: Option<fdsim::sim::Nanos>,
    limits: cost::Limits,
) -> Result<(), ExitCode> {
    let mut one = sc.clone();
    one.seeds.truncate(1);
    if let Some(t) = until {
        one.duration = one.duration.min(t);
    }
    guard(std::slice::from_ref(&one), 1, limits)
}

/// `--seeds` and `--seed`: how many seeds, and the first.
type Seeding = (Option<u64>, Option<u64>);

fn cmd_validate(paths: &[PathBuf], plan: Option<(u32, Seeding)>) -> ExitCode {
    match load_all(paths) {
        Ok(mut scenarios) => {
            if let Some((_, (seeds, seed))) = plan {
                for sc in &mut scenarios {
                    if let Err(e) = sc.override_seeds(seeds, seed) {
                        eprintln!("error: {e}");
                        return ExitCode::from(EXIT_BAD_INPUT);
                    }
                }
            }
            for sc in &scenarios {
                let values: usize = sc.series().iter().map(|s| s.values.len()).sum();
                let protocols = if sc.protocols.is_empty() {
                    String::new()
                } else {
                    format!(", {} protocols", sc.protocols.len())
                };
                let est = cost::ScenarioCost::of(sc);
                let jobs = default_jobs() as usize;
                outln!(
                    "ok: {} ({}): {} nodes, {} detectors{protocols}, {} parameter values, {} seeds; \
                     estimate {} events, peak {}, {} CPU",
                    sc.path.display(),
                    sc.name,
                    sc.nodes.len(),
                    sc.detectors.len(),
                    values,
                    sc.seeds.len(),
                    cost::count(est.events()),
                    cost::bytes(est.peak_bytes(jobs)),
                    cost::seconds(est.cpu_seconds())
                );
                if let Err(r) = cost::check(sc, jobs, cost::Limits::defaults()) {
                    eprintln!("warning: fdsim run would refuse it: {r}");
                }
            }
            if let Some((count, _)) = plan {
                outp!("{}", shard::Plan::new(&scenarios, count).render(&scenarios));
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

/// Loads the scenarios of `run` or `baseline` with their seeds overridden.
fn load_seeded(
    paths: &[PathBuf],
    (seeds, seed): (Option<u64>, Option<u64>),
) -> Result<Vec<Scenario>, ExitCode> {
    let mut scenarios = load_all(paths)?;
    for sc in &mut scenarios {
        if let Err(e) = sc.override_seeds(seeds, seed) {
            eprintln!("error: {e}");
            return Err(ExitCode::from(EXIT_BAD_INPUT));
        }
    }
    Ok(scenarios)
}

fn cmd_run(
    paths: &[PathBuf],
    out: &Path,
    seeding: (Option<u64>, Option<u64>),
    jobs: usize,
    limits: cost::Limits,
    shard: Option<ShardSpec>,
    opts: report::ReportOptions,
) -> ExitCode {
    let scenarios = match load_seeded(paths, seeding) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Err(code) = guard(&scenarios, jobs, limits) {
        return code;
    }
    // The report pools seeds on rayon's global pool: `--jobs` threads too
    // (an error would mean it was built already, with its default size).
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build_global();
    if let Err(e) = prepare_out(out) {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    if let Some(spec) = shard {
        return run_shard(&scenarios, spec, out, (shard::Command::Run, None), jobs);
    }
    // The lock first: a second run on the same folder fails here, before
    // simulating, rather than after.
    let tx = match report::Transaction::begin(out) {
        Ok(tx) => tx,
        Err(e) => {
            eprintln!(
                "error: cannot write the report under {}: {e}",
                out.display()
            );
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match simulate(scenarios, jobs) {
        Ok(results) => finish_run(tx, out, results, opts),
        Err(code) => code,
    }
}

/// Prints the tables and writes the report of a run (or of a merge of
/// its shards) through `tx`, the report's transaction.
fn finish_run(
    tx: report::Transaction,
    out: &Path,
    results: Vec<run::ScenarioResult>,
    opts: report::ReportOptions,
) -> ExitCode {
    let count = results.len();
    match report::write_all_in(tx, results, opts) {
        Ok(tables) => {
            for table in tables {
                outln!("{table}");
            }
        }
        Err(e) => {
            eprintln!(
                "error: cannot write the report under {}: {e}",
                out.display()
            );
            return ExitCode::from(EXIT_FAILURE);
        }
    }
    eprintln!(
        "wrote {count} scenario report(s) under {}; open {}",
        out.display(),
        out.join("index.html").display()
    );
    ExitCode::SUCCESS
}

/// Runs shard `spec` of `scenarios` for `command` and writes its partial
/// results to `out` (checked writable already).
fn run_shard(
    scenarios: &[Scenario],
    spec: ShardSpec,
    out: &Path,
    (command, check): (shard::Command, Option<shard::CheckInputs>),
    jobs: usize,
) -> ExitCode {
    let plan = shard::Plan::new(scenarios, spec.count);
    let mine: Vec<run::Unit> = plan
        .of_shard(spec.index - 1)
        .into_iter()
        .map(|i| plan.units[i])
        .collect();
    let share = plan.loads()[spec.index as usize - 1] as f64 / plan.total_cost().max(1) as f64;
    eprintln!(
        "shard {spec}: {} of {} simulations, {:.1} % of the estimated cost",
        mine.len(),
        plan.units.len(),
        100.0 * share
    );
    let progress = Progress::for_shard(&format!("shard {spec}"));
    let on_done = |done: usize, total: usize| progress.update(done, total);
    let outcomes = run::execute(scenarios, &mine, jobs, &on_done);
    progress.finish();
    let outcomes = match outcomes {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: cannot start {jobs} worker threads: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let written = shard::Manifest::new(command, spec, scenarios, &mine, check)
        .and_then(|m| shard::write_partial(out, m, outcomes));
    if let Err(e) = written {
        eprintln!(
            "error: cannot write the partial results under {}: {e}",
            out.display()
        );
        return ExitCode::from(EXIT_FAILURE);
    }
    eprintln!(
        "wrote shard {spec} under {}; once all {} shards are done: fdsim merge DIR... {}",
        out.display(),
        spec.count,
        match command {
            shard::Command::Check => "(prints the verdict)",
            _ => "--out DIR",
        }
    );
    ExitCode::SUCCESS
}

fn cmd_merge(
    dirs: &[PathBuf],
    out: Option<&Path>,
    junit: Option<&Path>,
    opts: report::ReportOptions,
) -> ExitCode {
    let bad = |msg: String| {
        eprintln!("error: {msg}");
        ExitCode::from(EXIT_BAD_INPUT)
    };
    let mut parts = Vec::new();
    for d in dirs {
        match shard::read_partial(d) {
            Ok(p) => parts.push(p),
            Err(e) => return bad(e.to_string()),
        }
    }
    let head = match shard::agree(&parts) {
        Ok(m) => m.clone(),
        Err(e) => return bad(e.to_string()),
    };
    let command = head.command;
    match (command, out, junit) {
        (shard::Command::Check, Some(_), _) => {
            return bad(
                "these are shards of fdsim check, which writes no report: drop --out \
                 (--junit FILE writes the verdict as JUnit XML)"
                    .into(),
            )
        }
        (shard::Command::Run | shard::Command::Baseline, None, _) => {
            return bad(format!(
                "these are shards of fdsim {}: give --out DIR for the merged {}",
                command.name(),
                if command == shard::Command::Run {
                    "report"
                } else {
                    "baselines"
                }
            ))
        }
        (shard::Command::Run | shard::Command::Baseline, _, Some(_)) => {
            return bad(format!(
                "--junit is for shards of fdsim check; these are shards of fdsim {}",
                command.name()
            ))
        }
        _ => {}
    }
    let scenarios = match merge_scenarios(&head) {
        Ok(s) => s,
        Err(msg) => return bad(msg),
    };
    let plan = shard::Plan::new(&scenarios, head.shard.count);
    let outcomes = match shard::collect(parts, &scenarios, &plan) {
        Ok(o) => o,
        Err(e) => return bad(e.to_string()),
    };
    let results = run::assemble_all(scenarios, outcomes);
    match (command, out) {
        (shard::Command::Run, Some(out)) => {
            if let Err(e) = prepare_out(out) {
                return bad(e);
            }
            match report::Transaction::begin(out) {
                Ok(tx) => finish_run(tx, out, results, opts),
                Err(e) => {
                    eprintln!(
                        "error: cannot write the report under {}: {e}",
                        out.display()
                    );
                    ExitCode::from(EXIT_FAILURE)
                }
            }
        }
        (shard::Command::Baseline, Some(out)) => match prepare_out(out) {
            Ok(()) => finish_baseline(out, &results),
            Err(e) => bad(e),
        },
        _ => merge_check(&head, results, junit),
    }
}

/// The scenarios the shards of `head` ran, read again from their paths,
/// each checked to be what the shards simulated, with the shards' seeds.
fn merge_scenarios(head: &shard::Manifest) -> Result<Vec<Scenario>, String> {
    let mut scenarios = Vec::new();
    for entry in &head.scenarios {
        let mut sc = Scenario::load(Path::new(&entry.path)).map_err(|e| {
            format!(
                "the shards ran {}, which cannot be read here (run the merge where the shards' \
                 scenario paths lead): {e}",
                entry.path
            )
        })?;
        print_warnings(&sc);
        let hash =
            shard::scenario_hash(&sc).map_err(|e| format!("cannot read {}: {e}", entry.path))?;
        if sc.name != entry.name || hash != entry.sha256 {
            return Err(format!(
                "{} changed since the shards ran it (SHA-256 {hash} here, {} in the shards): the \
                 merged output would not describe it; restore the file or rerun the shards",
                entry.path, entry.sha256
            ));
        }
        sc.seeds = entry.seeds.clone();
        scenarios.push(sc);
    }
    Ok(scenarios)
}

/// Finishes a merge of `check` shards: the baselines and tolerances they
/// were given, the verdict and its exit code.
fn merge_check(
    head: &shard::Manifest,
    results: Vec<run::ScenarioResult>,
    junit: Option<&Path>,
) -> ExitCode {
    let inputs = head.check.clone().unwrap_or_default();
    let mut tol = fdsim::check::Tolerances::default();
    for t in &inputs.tolerances {
        if let Err(e) = tol.set_from_text(t) {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    }
    let mut baselines = Vec::new();
    for res in &results {
        let Some(dir) = &inputs.baseline_dir else {
            baselines.push(None);
            continue;
        };
        let sc = &res.scenario;
        let path = Path::new(dir).join(format!("{}.json", sc.name));
        let recorded = inputs.baselines.iter().find(|(n, _)| *n == sc.name);
        let now = std::fs::read(&path).map(|b| shard::sha256::hex(&b)).ok();
        if recorded.map(|(_, h)| h) != now.as_ref() {
            eprintln!(
                "error: {} is not the baseline the shards were checked against (changed or \
                 missing since); restore it or rerun the shards",
                path.display()
            );
            return ExitCode::from(EXIT_BAD_INPUT);
        }
        match load_baseline(Path::new(dir), sc) {
            Ok(b) => baselines.push(Some(b)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_BAD_INPUT);
            }
        }
    }
    finish_check(&results, &baselines, &tol, junit)
}

/// Makes sure the output folder `out` can be written, before any work: it
/// is created if missing, and must be a folder this process can create
/// files in.
fn prepare_out(out: &Path) -> Result<(), String> {
    let shown = out.display();
    if out.exists() && !out.is_dir() {
        return Err(format!(
            "--out {shown} is not a folder; give a folder for the report"
        ));
    }
    std::fs::create_dir_all(out)
        .map_err(|e| format!("cannot create the output folder {shown}: {}", lower(&e)))?;
    writable(out).map_err(|e| format!("cannot write in the output folder {shown}: {}", lower(&e)))
}

/// Whether this process may create files in the folder `dir`. On Linux it
/// asks the kernel (`access(W_OK)`, which also answers for read-only file
/// systems) and writes nothing, so a run killed at this instant leaves
/// nothing in the old report; elsewhere it creates and removes a probe
/// file.
#[cfg(target_os = "linux")]
fn writable(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: a valid NUL-terminated path; the call only reads it.
    if unsafe { libc::access(path.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".fdsim-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").and_then(|()| std::fs::remove_file(&probe))
}

/// An I/O error as a lowercase phrase, without the OS error number.
fn lower(e: &std::io::Error) -> String {
    let text = e.to_string().to_lowercase();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The budgets of `fdsim tune`, as given.
struct TuneArgs {
    max_mistakes_per_hour: Option<f64>,
    max_detection_ms: Option<f64>,
    max_messages_per_second: Option<f64>,
    certify_batches: Option<usize>,
}

impl TuneArgs {
    /// The tuner's options, or what is wrong with a budget.
    fn options(&self, jobs: usize) -> Result<fdsim::tune::TuneOptions, String> {
        use fdsim::tune::{Goal, TuneOptions};
        let positive = |flag: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(v)
            } else {
                Err(format!("--{flag} must be a positive number, got {v}"))
            }
        };
        let goal = match (self.max_mistakes_per_hour, self.max_detection_ms) {
            (Some(x), _) => Goal::FastestWithin {
                max_mistakes_per_hour: positive("max-mistakes-per-hour", x)?,
            },
            (None, Some(x)) => Goal::FewestMistakesWithin {
                max_detection_ms: positive("max-detection-ms", x)?,
            },
            (None, None) => return Err("give --max-mistakes-per-hour or --max-detection-ms".into()),
        };
        let mut opts = TuneOptions::for_goal(goal, jobs);
        if let Some(m) = self.max_messages_per_second {
            opts.max_messages_per_second = Some(positive("max-messages-per-second", m)?);
        }
        opts.certify_batches = self.certify_batches;
        Ok(opts)
    }
}

fn cmd_tune(
    path: &Path,
    args: TuneArgs,
    (detector, json): (Option<&str>, bool),
    (seeds, seed): (Option<u64>, Option<u64>),
    jobs: usize,
    limits: cost::Limits,
) -> ExitCode {
    let opts = match args.options(jobs) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let mut sc = match load_one(path) {
        Ok(sc) => sc,
        Err(code) => return code,
    };
    if let Err(e) = sc.override_seeds(seeds, seed) {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    if let Err(code) = guard(std::slice::from_ref(&sc), jobs, limits) {
        return code;
    }
    let results = match fdsim::tune::tune(&sc, detector, opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    if json {
        let mut doc = serde_json::json!({
            "scenario": sc.name,
            "goal": opts.goal,
            "confidence": 0.95,
            "seeds": sc.seeds,
            "detectors": results,
        });
        if let Some(b) = args.max_mistakes_per_hour {
            doc["budget_mistakes_per_hour"] = serde_json::json!(b);
        }
        if let Some(m) = opts.max_messages_per_second {
            doc["max_messages_per_second"] = serde_json::json!(m);
        }
        match serde_json::to_string_pretty(&doc) {
            Ok(text) => outln!("{text}"),
            Err(e) => {
                eprintln!("error: cannot encode the result: {e}");
                return ExitCode::from(EXIT_FAILURE);
            }
        }
    } else {
        outp!("{}", fdsim::tune::render(&sc, &opts, &results));
    }
    ExitCode::SUCCESS
}

/// A duration argument in scenario syntax (`90s`, `1h30m`).
fn duration_arg(text: &str) -> Result<fdsim::sim::Nanos, String> {
    fdsim::sim::parse_duration(text).map_err(|e| e.to_string())
}

fn cmd_trace(
    path: &Path,
    (seed, detector, values): (Option<u64>, Option<String>, &[String]),
    (from, to): (fdsim::sim::Nanos, fdsim::sim::Nanos),
    samples_per_interval: u32,
    (out, limits): (Option<&Path>, cost::Limits),
) -> ExitCode {
    use fdsim::trace;
    let sc = match load_one(path) {
        Ok(sc) => sc,
        Err(code) => return code,
    };
    if let Err(code) = guard_one_seed(&sc, Some(to), limits) {
        return code;
    }
    let rows = trace::find_detector(&sc, detector.as_deref())
        .and_then(|cfg| {
            let spec = &cfg.kind.swept;
            values.iter().map(|v| trace::parse_value(spec, v)).collect()
        })
        .and_then(|values| {
            let opts = trace::TraceOptions {
                seed: seed.unwrap_or(sc.seeds.first().copied().unwrap_or(1)),
                detector,
                values,
                from,
                to,
                samples_per_interval,
            };
            trace::trace(&sc, &opts)
        });
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let written = report::to_csv(&rows).and_then(|bytes| match out {
        Some(file) => report::write_atomic(file, &bytes),
        None => write_stdout(&bytes),
    });
    if let Err(e) = written {
        let to = out.map_or("standard output".into(), |f| f.display().to_string());
        eprintln!("error: cannot write the trace to {to}: {e}");
        return ExitCode::from(EXIT_FAILURE);
    }
    ExitCode::SUCCESS
}

fn cmd_record(
    path: &Path,
    seed: Option<u64>,
    out: Option<&Path>,
    limits: cost::Limits,
) -> ExitCode {
    let sc = match load_one(path) {
        Ok(sc) => sc,
        Err(code) => return code,
    };
    if let Err(code) = guard_one_seed(&sc, None, limits) {
        return code;
    }
    if let Err(r) = cost::check_record(&sc, limits) {
        eprintln!("error: {r}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let seed = seed.unwrap_or(sc.seeds.first().copied().unwrap_or(1));
    let written = fdsim::replay::record(&sc, seed).and_then(|bytes| match out {
        Some(file) => report::write_atomic(file, &bytes),
        None => write_stdout(&bytes),
    });
    if let Err(e) = written {
        let to = out.map_or("standard output".into(), |f| f.display().to_string());
        eprintln!("error: cannot write the trace to {to}: {e}");
        return ExitCode::from(EXIT_FAILURE);
    }
    ExitCode::SUCCESS
}

fn cmd_detectors(name: Option<&str>, presets: bool) -> ExitCode {
    use fdsim::detector::{describe, presets as preset, registry};
    match name {
        None if presets => outp!("{}", describe::preset_catalogue()),
        None => outp!("{}", describe::catalogue()),
        Some(n) => match (registry::find(n), preset::find(n)) {
            (Some(kind), _) => outp!("{}", describe::detail(kind)),
            (None, Some(p)) => outp!("{}", describe::preset_detail(p)),
            (None, None) => {
                let known: Vec<&str> = fdsim::detector::kinds().iter().map(|k| k.name).collect();
                eprintln!(
                    "error: unknown detector \"{n}\"; known: {}; presets: {}",
                    known.join(", "),
                    preset::names().join(", ")
                );
                return ExitCode::from(EXIT_BAD_INPUT);
            }
        },
    }
    ExitCode::SUCCESS
}

/// Runs scenarios for `baseline` and `check`, with a progress bar.
fn simulate(scenarios: Vec<Scenario>, jobs: usize) -> Result<Vec<run::ScenarioResult>, ExitCode> {
    let progress = Progress::new("simulating");
    let on_done = |done: usize, total: usize| progress.update(done, total);
    let results = run::run_all(scenarios, jobs, &on_done);
    progress.finish();
    results.map_err(|e| {
        eprintln!("error: cannot start {jobs} worker threads: {e}");
        ExitCode::from(EXIT_FAILURE)
    })
}

/// The text of a scenario file (already validated, so readable).
fn scenario_text(sc: &Scenario) -> String {
    std::fs::read_to_string(&sc.path).unwrap_or_default()
}

fn cmd_baseline(
    paths: &[PathBuf],
    out: &Path,
    seeding: (Option<u64>, Option<u64>),
    jobs: usize,
    limits: cost::Limits,
    shard: Option<ShardSpec>,
) -> ExitCode {
    let scenarios = match load_seeded(paths, seeding) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Err(code) = guard(&scenarios, jobs, limits) {
        return code;
    }
    if let Err(e) = prepare_out(out) {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    if let Some(spec) = shard {
        return run_shard(
            &scenarios,
            spec,
            out,
            (shard::Command::Baseline, None),
            jobs,
        );
    }
    match simulate(scenarios, jobs) {
        Ok(results) => finish_baseline(out, &results),
        Err(code) => code,
    }
}

/// Writes and announces the baseline of each result.
fn finish_baseline(out: &Path, results: &[run::ScenarioResult]) -> ExitCode {
    for res in results {
        let base = fdsim::check::Baseline::record(res, &scenario_text(&res.scenario));
        let path = out.join(format!("{}.json", res.scenario.name));
        let written = serde_json::to_string_pretty(&base)
            .map_err(std::io::Error::other)
            .and_then(|text| report::write_atomic(&path, format!("{text}\n").as_bytes()));
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(EXIT_FAILURE);
        }
        outln!(
            "recorded {}: {} detector x value points, {} seeds",
            path.display(),
            base.points.len(),
            base.seeds.len()
        );
    }
    ExitCode::SUCCESS
}

fn load_baseline(dir: &Path, sc: &Scenario) -> Result<fdsim::check::Baseline, String> {
    use fdsim::check::BaselineError;
    let path = dir.join(format!("{}.json", sc.name));
    fdsim::check::read_baseline(&path, sc).map_err(|e| match e {
        BaselineError::Missing(m) => format!(
            "{m}; record one with: fdsim baseline {} --out {}",
            sc.path.display(),
            dir.display()
        ),
        BaselineError::Invalid(m) => format!(
            "{m} (the file was left as it is; check it before replacing it with fdsim baseline)"
        ),
    })
}

fn cmd_check(
    paths: &[PathBuf],
    (baseline_dir, junit): (Option<&Path>, Option<&Path>),
    tolerance: &[String],
    jobs: usize,
    limits: cost::Limits,
    (shard, out): (Option<ShardSpec>, Option<&Path>),
) -> ExitCode {
    use fdsim::check;
    let mut tol = check::Tolerances::default();
    for t in tolerance {
        if let Err(e) = tol.set_from_text(t) {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    }
    let mut scenarios = match load_all(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut baselines = Vec::new();
    if let Some(dir) = baseline_dir {
        for sc in &mut scenarios {
            match load_baseline(dir, sc) {
                Ok(b) => {
                    if b.scenario_fingerprint != check::fingerprint(&scenario_text(sc)) {
                        eprintln!(
                            "note: {} changed since its baseline was recorded; comparing the points both share",
                            sc.path.display()
                        );
                    }
                    sc.seeds = b.seeds.clone();
                    baselines.push(Some(b));
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(EXIT_BAD_INPUT);
                }
            }
        }
    } else {
        if scenarios
            .iter()
            .all(|s| s.detectors.iter().all(|d| d.budget.is_empty()))
        {
            eprintln!("error: nothing to check: give --baseline DIR, or budgets (max_mistakes_per_hour, ...) in [[detectors]]");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
        baselines.resize(scenarios.len(), None);
    }
    if let Err(code) = guard(&scenarios, jobs, limits) {
        return code;
    }
    if let Some(spec) = shard {
        return check_shard(&scenarios, spec, (baseline_dir, tolerance), out, jobs);
    }
    let results = match simulate(scenarios, jobs) {
        Ok(r) => r,
        Err(code) => return code,
    };
    finish_check(&results, &baselines, &tol, junit)
}

/// Runs shard `spec` of a check, recording the baselines and tolerances it
/// was given so the merge checks against the same.
fn check_shard(
    scenarios: &[Scenario],
    spec: ShardSpec,
    (baseline_dir, tolerance): (Option<&Path>, &[String]),
    out: Option<&Path>,
    jobs: usize,
) -> ExitCode {
    let Some(out) = out else {
        eprintln!("error: --shard needs --out DIR for the shard's partial results");
        return ExitCode::from(EXIT_BAD_INPUT);
    };
    if let Err(e) = prepare_out(out) {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let mut inputs = shard::CheckInputs {
        baseline_dir: baseline_dir.map(|d| d.display().to_string()),
        baselines: Vec::new(),
        tolerances: tolerance.to_vec(),
    };
    if let Some(dir) = baseline_dir {
        for sc in scenarios {
            let path = dir.join(format!("{}.json", sc.name));
            match std::fs::read(&path) {
                Ok(b) => inputs
                    .baselines
                    .push((sc.name.clone(), shard::sha256::hex(&b))),
                Err(e) => {
                    eprintln!("error: cannot read {}: {}", path.display(), lower(&e));
                    return ExitCode::from(EXIT_BAD_INPUT);
                }
            }
        }
    }
    run_shard(
        scenarios,
        spec,
        out,
        (shard::Command::Check, Some(inputs)),
        jobs,
    )
}

/// Compares results with their baselines and budgets, prints the verdict,
/// writes the JUnit file if asked, and exits 1 if anything failed.
fn finish_check(
    results: &[run::ScenarioResult],
    baselines: &[Option<fdsim::check::Baseline>],
    tol: &fdsim::check::Tolerances,
    junit: Option<&Path>,
) -> ExitCode {
    use fdsim::check;
    let mut findings = Vec::new();
    for (res, base) in results.iter().zip(baselines) {
        let now = check::Baseline::record(res, &scenario_text(&res.scenario));
        if let Some(base) = base {
            findings.extend(check::compare(base, &now, tol));
        }
        findings.extend(check::check_budgets(&res.scenario, &now));
    }
    outp!("{}", check::render(&findings));
    if let Some(path) = junit {
        if let Err(e) = report::write_atomic(path, check::junit(&findings).as_bytes()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(EXIT_FAILURE);
        }
    }
    if findings.iter().any(|f| f.status.fails()) {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    }
}
