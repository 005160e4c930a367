//! Heartbeat traces: recorded arrival streams, read back in place of the
//! network model (`[replay]` in a scenario) and written by `fdsim record`.
//!
//! A trace is a CSV file (format in `docs/traces.md`): one row per
//! heartbeat arrival, and optionally one per crash or restart of a target
//! (the ground truth). Columns are found by name in the header line;
//! lines starting with `#` are comments. Times are milliseconds with up to
//! nanosecond precision, read exactly.

use crate::detector::Arrival;
use crate::fault::Outage;
use crate::protocol::heartbeat::Logged;
use crate::sim::agent::NodeId;
use crate::sim::clock::Clock;
use crate::sim::time::Nanos;
use serde::Serialize;

/// Every column a trace may have, in the order `fdsim record` writes them.
pub const COLUMNS: [&str; 7] = [
    "time_ms",
    "event",
    "monitor",
    "target",
    "seq",
    "sent_ms",
    "incarnation",
];

/// A trace read from a file, checked against a scenario's nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    /// The file as the scenario names it.
    pub file: String,
    /// The arrivals of each monitored pair `(monitor, target)` that has
    /// any, in arrival order; pairs sorted.
    pub pairs: Vec<(NodeId, NodeId, Vec<Logged>)>,
    /// The ground truth from crash and restart rows, sorted by node then
    /// time; `None` when the file has no such rows.
    pub outages: Option<Vec<Outage>>,
    /// Whether the file gives send times (`sent_ms`).
    pub has_sent: bool,
}

impl Replay {
    /// The arrivals `monitor` logged from `target` (empty if none).
    pub fn arrivals(&self, monitor: NodeId, target: NodeId) -> &[Logged] {
        self.pairs
            .binary_search_by_key(&(monitor, target), |(m, t, _)| (*m, *t))
            .map_or(&[], |i| self.pairs[i].2.as_slice())
    }

    /// Number of heartbeat arrivals in the trace.
    pub fn len(&self) -> usize {
        self.pairs.iter().map(|p| p.2.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a trace is checked against.
pub struct Context<'a> {
    pub names: &'a [String],
    pub monitors: &'a [NodeId],
    pub targets: &'a [NodeId],
    /// One clock per node: a monitor's arrival times are its clock's
    /// readings, mapped to true time with it.
    pub clocks: &'a [Clock],
    /// The end of the run: every row must come before it.
    pub duration: Nanos,
}

/// A problem in a trace: the 1-based line and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    pub line: usize,
    pub message: String,
}

type R<T> = Result<T, TraceError>;

fn fail<T>(line: usize, message: impl Into<String>) -> R<T> {
    Err(TraceError {
        line,
        message: message.into(),
    })
}

/// Column positions found in the header.
#[derive(Default)]
struct Header {
    time: usize,
    event: Option<usize>,
    monitor: Option<usize>,
    target: Option<usize>,
    seq: Option<usize>,
    sent: Option<usize>,
    incarnation: Option<usize>,
}

fn header(line: usize, names: &csv::StringRecord) -> R<Header> {
    let mut slots: [Option<usize>; 7] = [None; 7];
    for (i, name) in names.iter().enumerate() {
        let Some(k) = COLUMNS.iter().position(|c| *c == name) else {
            return fail(
                line,
                format!(
                    "unknown column `{name}`; a trace has the columns {} (only time_ms is required)",
                    COLUMNS.join(", ")
                ),
            );
        };
        if slots[k].replace(i).is_some() {
            return fail(line, format!("column `{name}` appears twice"));
        }
    }
    let Some(time) = slots[0] else {
        return fail(
            line,
            format!(
                "the header has no `time_ms` column (found: {}); the first line that is not a \
                 comment names the columns",
                names.iter().collect::<Vec<_>>().join(", ")
            ),
        );
    };
    Ok(Header {
        time,
        event: slots[1],
        monitor: slots[2],
        target: slots[3],
        seq: slots[4],
        sent: slots[5],
        incarnation: slots[6],
    })
}

/// Milliseconds written as a decimal (`12`, `12.5`, `0.000001`), exactly
/// to the nanosecond; other number forms (`1e3`) through a float.
pub fn parse_ms(text: &str) -> Option<Nanos> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !int.is_empty() && digits(int) && digits(frac) {
        let whole: u64 = int.parse().ok()?;
        let mut ns: u64 = 0;
        for (i, b) in frac
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(6)
            .enumerate()
        {
            ns += u64::from(b - b'0') * 10u64.pow(5 - i as u32);
        }
        let round_up = frac.as_bytes().get(6).is_some_and(|b| *b >= b'5');
        return whole
            .checked_mul(1_000_000)?
            .checked_add(ns + u64::from(round_up))
            .map(Nanos);
    }
    let x: f64 = text.parse().ok()?;
    let ns = (x * 1e6).round();
    (x.is_finite() && x >= 0.0 && ns < u64::MAX as f64 / 2.0).then_some(Nanos(ns as u64))
}

/// Formats a time as exact milliseconds (`1234.5`, `7`), the inverse of
/// [`parse_ms`].
pub fn format_ms(t: Nanos) -> String {
    let (ms, ns) = (t.0 / 1_000_000, t.0 % 1_000_000);
    if ns == 0 {
        return ms.to_string();
    }
    let frac = format!("{ns:06}");
    format!("{ms}.{}", frac.trim_end_matches('0'))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Heartbeat,
    Crash,
    Restart,
}

/// One data row, parsed.
struct Row {
    line: usize,
    at: Nanos,
    kind: Kind,
    monitor: Option<NodeId>,
    target: Option<NodeId>,
    seq: Option<u64>,
    sent: Option<Nanos>,
    incarnation: Option<u32>,
}

/// Reads a trace from `text`. Every problem names the line.
pub fn read(file: &str, text: &str, cx: &Context<'_>) -> R<Replay> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let head_line = first_data_line(text);
    let names = reader
        .headers()
        .map_err(|e| csv_error(head_line, &e))?
        .clone();
    if names.is_empty() || names.iter().all(str::is_empty) {
        return fail(
            head_line,
            "the trace is empty; it needs a header line naming its columns (at least `time_ms`)",
        );
    }
    let head = header(head_line, &names)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(head_line, &e))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        rows.push(row(&head, &record, line, cx)?);
    }
    build(file, head.sent.is_some(), rows, cx)
}

/// The line of the header: the first that is neither blank nor a comment.
fn first_data_line(text: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#')
        })
        .map_or(1, |i| i + 1)
}

fn csv_error(fallback: usize, e: &csv::Error) -> TraceError {
    let line = e.position().map_or(fallback, |p| p.line() as usize);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 text".to_string(),
        _ => e.to_string(),
    };
    TraceError { line, message }
}

fn row(head: &Header, rec: &csv::StringRecord, line: usize, cx: &Context<'_>) -> R<Row> {
    let cell = |i: Option<usize>| i.and_then(|i| rec.get(i)).filter(|s| !s.is_empty());
    let time_text = cell(Some(head.time)).unwrap_or("");
    let Some(at) = parse_ms(time_text) else {
        return fail(
            line,
            format!("time_ms \"{time_text}\" is not a time in milliseconds (a number >= 0)"),
        );
    };
    let kind = match cell(head.event) {
        None | Some("heartbeat") => Kind::Heartbeat,
        Some("crash") => Kind::Crash,
        Some("restart") => Kind::Restart,
        Some(other) => {
            return fail(
                line,
                format!("unknown event \"{other}\"; expected heartbeat, crash or restart"),
            )
        }
    };
    let node = |col: &str, i: Option<usize>, allowed: &[NodeId]| -> R<Option<NodeId>> {
        let Some(name) = cell(i) else {
            return Ok(None);
        };
        match cx.names.iter().position(|n| n == name) {
            Some(id) if allowed.contains(&(id as NodeId)) => Ok(Some(id as NodeId)),
            Some(_) => fail(
                line,
                format!("{col} \"{name}\" is not one of the scenario's {col}s"),
            ),
            None => fail(
                line,
                format!(
                    "unknown {col} \"{name}\"; the scenario's nodes are {}",
                    cx.names.join(", ")
                ),
            ),
        }
    };
    let number = |col: &str, i: Option<usize>| -> R<Option<u64>> {
        match cell(i) {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .or_else(|_| fail(line, format!("{col} \"{s}\" is not a whole number >= 0"))),
        }
    };
    let sent = match cell(head.sent) {
        None => None,
        Some(s) => match parse_ms(s) {
            Some(t) => Some(t),
            None => {
                return fail(
                    line,
                    format!("sent_ms \"{s}\" is not a time in milliseconds (a number >= 0)"),
                )
            }
        },
    };
    let incarnation = match number("incarnation", head.incarnation)? {
        Some(i) if i > u64::from(u32::MAX) => {
            return fail(line, format!("incarnation {i} is too large"))
        }
        i => i.map(|i| i as u32),
    };
    let monitor = node("monitor", head.monitor, cx.monitors)?;
    // Arrival times are the monitor's clock readings; the run ends at a
    // true time.
    let only_monitor = match cx.monitors {
        [m] => Some(*m),
        _ => None,
    };
    let true_at = match (kind, monitor.or(only_monitor)) {
        (Kind::Heartbeat, Some(m)) => cx.clocks[m as usize].true_time(at),
        _ => at,
    };
    if true_at >= cx.duration {
        return fail(
            line,
            format!(
                "time_ms {time_text} is at or after the end of the run ({}); raise the \
                 scenario's `duration` or cut the trace",
                cx.duration
            ),
        );
    }
    Ok(Row {
        line,
        at,
        kind,
        monitor,
        target: node("target", head.target, cx.targets)?,
        seq: number("seq", head.seq)?,
        sent,
        incarnation,
    })
}

/// The only monitored pair, when the scenario has exactly one.
fn only_pair(cx: &Context<'_>) -> Option<(NodeId, NodeId)> {
    let mut pairs = cx.monitors.iter().flat_map(|&m| {
        cx.targets
            .iter()
            .filter(move |&&t| t != m)
            .map(move |&t| (m, t))
    });
    let first = pairs.next()?;
    pairs.next().is_none().then_some(first)
}

fn build(file: &str, has_sent: bool, rows: Vec<Row>, cx: &Context<'_>) -> R<Replay> {
    let single = only_pair(cx);
    let only_target = match cx.targets {
        [t] => Some(*t),
        _ => None,
    };
    // Ground truth first: per target, crash and restart rows alternate,
    // starting with a crash, in time order.
    let mut outages: Vec<Outage> = Vec::new();
    let mut open: Vec<Option<(usize, Nanos)>> = vec![None; cx.names.len()];
    let mut restarts: Vec<Vec<Nanos>> = vec![Vec::new(); cx.names.len()];
    let mut truth_rows = false;
    for r in rows.iter().filter(|r| r.kind != Kind::Heartbeat) {
        truth_rows = true;
        let Some(t) = r.target.or(only_target) else {
            return fail(
                r.line,
                "a crash or restart row needs `target` when the scenario has several targets",
            );
        };
        let last = outages
            .iter()
            .rev()
            .find(|o| o.node == t)
            .map(|o| o.restart.unwrap_or(o.crash));
        let since = open[t as usize].map(|(_, c)| c).or(last);
        if let Some(prev) = since.filter(|&p| r.at <= p) {
            return fail(
                r.line,
                format!(
                    "{} of \"{}\" at {} ms is not after its previous crash or restart ({} ms); \
                     sort the rows by time",
                    if r.kind == Kind::Crash {
                        "crash"
                    } else {
                        "restart"
                    },
                    cx.names[t as usize],
                    format_ms(r.at),
                    format_ms(prev)
                ),
            );
        }
        match (r.kind, open[t as usize]) {
            (Kind::Crash, None) => open[t as usize] = Some((r.line, r.at)),
            (Kind::Restart, Some((_, crash))) => {
                outages.push(Outage {
                    node: t,
                    crash,
                    restart: Some(r.at),
                });
                restarts[t as usize].push(r.at);
                open[t as usize] = None;
            }
            (Kind::Crash, Some((l, _))) => {
                return fail(
                    r.line,
                    format!(
                        "\"{}\" crashes again without a restart after its crash on line {l}",
                        cx.names[t as usize]
                    ),
                )
            }
            _ => {
                return fail(
                    r.line,
                    format!(
                        "\"{}\" restarts without having crashed; a restart row follows a crash row",
                        cx.names[t as usize]
                    ),
                )
            }
        }
    }
    for (node, slot) in open.iter().enumerate() {
        if let Some((_, crash)) = slot {
            outages.push(Outage {
                node: node as NodeId,
                crash: *crash,
                restart: None,
            });
        }
    }
    outages.sort();
    // Then the heartbeats, per pair in arrival order.
    let mut pairs: std::collections::BTreeMap<(NodeId, NodeId), (Vec<Logged>, usize)> =
        std::collections::BTreeMap::new();
    // Next sequence number per (pair, incarnation), when `seq` is absent.
    let mut counters: std::collections::BTreeMap<(NodeId, NodeId, u32), u64> =
        std::collections::BTreeMap::new();
    for r in rows.iter().filter(|r| r.kind == Kind::Heartbeat) {
        let (m, t) = match (r.monitor, r.target) {
            (Some(m), Some(t)) if m != t => (m, t),
            (Some(_), Some(_)) => return fail(r.line, "monitor and target are the same node"),
            (m, t) => {
                let missing = if m.is_none() { "monitor" } else { "target" };
                let pick = single.or_else(|| {
                    let pairs: Vec<(NodeId, NodeId)> = cx
                        .monitors
                        .iter()
                        .flat_map(|&mm| cx.targets.iter().map(move |&tt| (mm, tt)))
                        .filter(|&(mm, tt)| {
                            mm != tt && m.is_none_or(|x| x == mm) && t.is_none_or(|x| x == tt)
                        })
                        .collect();
                    match pairs.as_slice() {
                        [one] => Some(*one),
                        _ => None,
                    }
                });
                match pick {
                    Some(p) => p,
                    None => {
                        return fail(
                            r.line,
                            format!(
                                "the {missing} of this heartbeat is not given and the scenario \
                                 has several; add a `{missing}` column"
                            ),
                        )
                    }
                }
            }
        };
        let incarnation = r
            .incarnation
            .unwrap_or_else(|| restarts[t as usize].iter().filter(|&&x| x <= r.at).count() as u32);
        let seq = match r.seq {
            Some(s) => s,
            None => {
                let c = counters.entry((m, t, incarnation)).or_insert(0);
                *c += 1;
                *c - 1
            }
        };
        let (log, prev_line) = pairs.entry((m, t)).or_insert((Vec::new(), 0));
        if let Some(prev) = log.last().filter(|p| r.at < p.arrival.at) {
            return fail(
                r.line,
                format!(
                    "heartbeat at {} ms arrives before the previous one of \"{}\" -> \"{}\" \
                     ({} ms, line {prev_line}); sort the rows by time",
                    format_ms(r.at),
                    cx.names[t as usize],
                    cx.names[m as usize],
                    format_ms(prev.arrival.at)
                ),
            );
        }
        if has_sent && r.sent.is_none() {
            return fail(
                r.line,
                "sent_ms is empty; give every heartbeat its send time",
            );
        }
        *prev_line = r.line;
        log.push(Logged {
            arrival: Arrival {
                at: r.at,
                seq,
                sent: r.sent.unwrap_or(Nanos::ZERO),
                incarnation,
            },
            true_at: cx.clocks[m as usize].true_time(r.at),
        });
    }
    Ok(Replay {
        file: file.to_string(),
        pairs: pairs
            .into_iter()
            .map(|((m, t), (log, _))| (m, t, log))
            .collect(),
        outages: truth_rows.then_some(outages),
        has_sent,
    })
}

/// One row of a trace as `fdsim record` writes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceRow {
    pub time_ms: String,
    pub event: &'static str,
    pub monitor: String,
    pub target: String,
    pub seq: Option<u64>,
    pub sent_ms: Option<String>,
    pub incarnation: Option<u32>,
}

/// The rows of a trace: crash and restart rows of each target (true
/// time), and each monitored pair's arrivals (monitor's clock), in time
/// order, ground truth first at equal times.
pub fn rows(
    names: &[String],
    outages: &[Outage],
    pairs: &[(NodeId, NodeId, &[Logged])],
) -> Vec<TraceRow> {
    let mut out: Vec<(Nanos, u8, TraceRow)> = Vec::new();
    let truth = |at: Nanos, event, node: NodeId| TraceRow {
        time_ms: format_ms(at),
        event,
        monitor: String::new(),
        target: names[node as usize].clone(),
        seq: None,
        sent_ms: None,
        incarnation: None,
    };
    for o in outages {
        out.push((o.crash, 0, truth(o.crash, "crash", o.node)));
        if let Some(r) = o.restart {
            out.push((r, 0, truth(r, "restart", o.node)));
        }
    }
    for &(m, t, log) in pairs {
        for l in log {
            out.push((
                l.arrival.at,
                1,
                TraceRow {
                    time_ms: format_ms(l.arrival.at),
                    event: "heartbeat",
                    monitor: names[m as usize].clone(),
                    target: names[t as usize].clone(),
                    seq: Some(l.arrival.seq),
                    sent_ms: Some(format_ms(l.arrival.sent)),
                    incarnation: Some(l.arrival.incarnation),
                },
            ));
        }
    }
    // Stable: one pair's arrivals keep their order at equal times.
    out.sort_by_key(|(at, rank, _)| (*at, *rank));
    out.into_iter().map(|(_, _, r)| r).collect()
}

/// The trace of one seed of `sc`, as CSV text: a comment line naming the
/// scenario and seed, the header, then [`rows`] for every monitored pair.
/// Replaying it in a scenario with the same nodes, clocks, heartbeat
/// interval, duration, warm-up and detectors scores exactly as `sc` does.
pub fn record(sc: &crate::scenario::Scenario, seed: u64) -> std::io::Result<Vec<u8>> {
    if let Some(sw) = &sc.sweep {
        return Err(std::io::Error::other(crate::trace::swept_refusal(sc, sw)));
    }
    let crate::run::Heartbeats { log, outages, .. } = crate::run::heartbeats(sc, seed, sc.duration);
    let mut pairs: Vec<(NodeId, NodeId, &[Logged])> = Vec::new();
    for &m in &sc.monitors {
        for &t in sc.targets.iter().filter(|&&t| t != m) {
            pairs.push((m, t, log.arrivals(m, t)));
        }
    }
    let mut out = format!(
        "# heartbeat trace recorded by fdsim {} from scenario \"{}\", seed {seed}; format: docs/traces.md\n",
        env!("CARGO_PKG_VERSION"),
        sc.name
    )
    .into_bytes();
    let body = crate::report::to_csv(&rows(&sc.nodes, &outages, &pairs))?;
    out.extend_from_slice(&body);
    if body.is_empty() {
        out.extend_from_slice(COLUMNS.join(",").as_bytes());
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_read_and_written_exactly_to_the_nanosecond() {
        for (text, ns) in [
            ("0", 0),
            ("12", 12_000_000),
            ("12.5", 12_500_000),
            ("0.000001", 1),
            ("86400000.000001", 86_400_000_000_001),
            ("1.0000004", 1_000_000),
            ("1.0000005", 1_000_001),
            ("1e3", 1_000_000_000),
        ] {
            assert_eq!(parse_ms(text), Some(Nanos(ns)), "{text}");
        }
        for bad in ["", "-1", "1,5", "12ms", ".", "abc", "inf"] {
            assert_eq!(parse_ms(bad), None, "{bad}");
        }
        for ns in [0, 1, 999_999, 1_000_000, 123_456_789_012] {
            assert_eq!(parse_ms(&format_ms(Nanos(ns))), Some(Nanos(ns)));
        }
        assert_eq!(format_ms(Nanos(12_500_000)), "12.5");
    }
}
