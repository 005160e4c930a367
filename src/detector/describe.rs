//! Text for `fdsim detectors`: the catalogue of detector kinds and the
//! detail page of one.

use super::presets::{presets, Preset};
use super::registry::{kinds, DetectorKind, ParamSpec, ParamUnit};
use std::fmt::Write;

fn default_text(p: &ParamSpec) -> String {
    match p.default {
        Some(v) => p.unit.format(v),
        None => "required".into(),
    }
}

fn unit_text(u: ParamUnit) -> &'static str {
    match u {
        ParamUnit::Duration => "duration",
        ParamUnit::Number => "number",
        ParamUnit::Count => "count",
    }
}

/// One line per kind: name, swept parameter, summary.
pub fn catalogue() -> String {
    let width = kinds().iter().map(|k| k.name.len()).max().unwrap_or(0);
    let swidth = kinds()
        .iter()
        .map(|k| k.swept.name.len())
        .max()
        .unwrap_or(0)
        + 2;
    let mut s = String::from(
        "Detectors (kind = \"...\" in [[detectors]]; the swept parameter in brackets):\n\n",
    );
    for k in kinds() {
        let swept = format!("[{}]", k.swept.name);
        let _ = writeln!(s, "  {:<width$}  {swept:<swidth$}  {}", k.name, k.summary);
    }
    s.push_str("\nDetails, parameters and sources: fdsim detectors NAME\n");
    s.push_str("Real systems' defaults (preset = \"...\"): fdsim detectors --presets\n");
    s
}

/// A value as a scenario file writes it: durations quoted.
fn toml_value(p: &ParamSpec, v: f64) -> String {
    match p.unit {
        ParamUnit::Duration => format!("\"{}\"", p.unit.format(v)),
        _ => p.unit.format(v),
    }
}

/// `name = value` for every value of a preset, in the kind's order.
fn preset_values(p: &Preset, kind: &DetectorKind) -> Vec<String> {
    p.values
        .iter()
        .map(|&(name, v)| match kind.param(name) {
            Some(spec) => format!("{name} = {}", toml_value(spec, v)),
            None => format!("{name} = {v}"),
        })
        .collect()
}

/// Every preset: its kind, values, the real system's heartbeat and source.
pub fn preset_catalogue() -> String {
    let mut s = String::from(
        "Presets (preset = \"...\" in [[detectors]]): real systems' failure-detection defaults.\n\
         Keys written in the entry override the preset's values; the swept parameter may be\n\
         given to sweep around the preset's value.\n\n",
    );
    for p in presets() {
        let Some(kind) = p.detector_kind() else {
            continue;
        };
        let _ = writeln!(
            s,
            "  {} ({}): {}\n      heartbeat {}; source: {}",
            p.name,
            kind.name,
            preset_values(p, kind).join(", "),
            p.heartbeat,
            p.source
        );
    }
    s.push_str(
        "\nEach preset's values suit its system's heartbeat interval, shown above. The scenario's\n\
         [heartbeat] interval still drives the simulation: give it a comparable one, or a\n\
         timeout meant for 1 s heartbeats is judged on 100 ms ones.\n\
         Derivations and caveats: fdsim detectors PRESET\n",
    );
    s.push_str(
        "\nMembership protocol presets (preset = \"...\" in [[protocols]] with kind = \"swim\"):\n",
    );
    for (name, _) in crate::scenario::SWIM_PRESETS {
        let source = crate::protocol::swim::PRESETS
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, source)| source);
        let _ = writeln!(s, "  {name}: {source}");
    }
    s.push_str("Fields and Lifeguard switches: docs/scenarios.md (protocols), docs/swim.md\n");
    s
}

/// The detail page of one preset.
pub fn preset_detail(p: &Preset) -> String {
    let Some(kind) = p.detector_kind() else {
        return format!(
            "{}: preset for detector \"{}\", which this build lacks\n",
            p.name, p.kind
        );
    };
    let mut s = format!(
        "{}: preset, a {} detector ({})\n\nsource: {}\n\nvalues (a key written in the entry overrides the preset's):\n",
        p.name, kind.name, kind.summary, p.source
    );
    for (i, line) in preset_values(p, kind).iter().enumerate() {
        let swept = if i == 0 {
            "   (swept: give a list or a range to sweep around it)"
        } else {
            ""
        };
        let _ = writeln!(s, "  {line}{swept}");
    }
    let _ = write!(
        s,
        "\nheartbeat interval of the real system: {} (informational: the scenario's [heartbeat]\n\
         interval drives the simulation, and these values only make sense with a comparable one)\n\
         \nnote: {}\n\nexample:\n  [[detectors]]\n  preset = \"{}\"\n",
        p.heartbeat, p.note, p.name
    );
    if let Some(sweep) = preset_sweep(p, kind) {
        let _ = writeln!(
            s,
            "\n  [[detectors]]\n  name = \"{}-sweep\"\n  preset = \"{}\"\n  {} = {sweep}",
            p.name, p.name, kind.swept.name
        );
    }
    let _ = write!(
        s,
        "\nthe {} detector: fdsim detectors {}\n",
        kind.name, kind.name
    );
    s
}

/// Half, the preset's value and double, kept within the swept range.
fn preset_sweep(p: &Preset, kind: &DetectorKind) -> Option<String> {
    let spec = &kind.swept;
    let v = p.value(spec.name)?;
    let mut values = vec![v / 2.0, v];
    if v * 2.0 <= spec.max {
        values.push(v * 2.0);
    } else if v < spec.max {
        values.push(spec.max);
    }
    let values: Vec<f64> = values
        .into_iter()
        .filter(|&x| spec.check(x).is_ok())
        .collect();
    let shown: Vec<String> = values.iter().map(|&x| toml_value(spec, x)).collect();
    (values.len() > 1).then(|| format!("[{}]", shown.join(", ")))
}

/// The detail page of one kind.
pub fn detail(k: &DetectorKind) -> String {
    let mut s = format!("{}: {}\n\nsource: {}\n\n", k.name, k.summary, k.source);
    let _ = writeln!(
        s,
        "swept parameter (one value, a list, or {{ from, to, steps, spacing }}):\n  {} ({}, {}, default {}): {}",
        k.swept.name,
        unit_text(k.swept.unit),
        k.swept.range_text(),
        default_text(&k.swept),
        k.swept.doc
    );
    if k.threshold_dependent {
        s.push_str(
            "  (its state depends on this value; the scorer shares one instance among values until \
             an arrival splits them, all on the same arrivals)\n",
        );
    }
    if !k.params.is_empty() {
        s.push_str("\nother parameters:\n");
        for p in k.params {
            let _ = writeln!(
                s,
                "  {} ({}, {}, default {}): {}",
                p.name,
                unit_text(p.unit),
                p.range_text(),
                default_text(p),
                p.doc
            );
        }
    }
    let _ = write!(
        s,
        "\nexample:\n  [[detectors]]\n  kind = \"{}\"\n  {} = ",
        k.name, k.swept.name
    );
    s.push_str(&example_sweep(k));
    s.push('\n');
    s
}

/// A sweep around the default that the parameter's range accepts.
fn example_sweep(k: &DetectorKind) -> String {
    let spec = &k.swept;
    match (spec.unit, spec.default) {
        (ParamUnit::Duration, _) => "[\"150ms\", \"250ms\", \"500ms\"]".into(),
        (_, Some(d)) => {
            let hi = (d * 2.0).min(spec.max);
            let lo = (d / 2.0).max(spec.min).min(hi / 2.0);
            format!(
                "{{ from = {}, to = {}, steps = 8 }}",
                super::registry::number_text(lo),
                super::registry::number_text(hi)
            )
        }
        (_, None) => "[1, 2, 4]".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_lists_every_kind_and_detail_every_parameter() {
        let c = catalogue();
        for k in kinds() {
            assert!(c.contains(k.name), "{}", k.name);
            let d = detail(k);
            for p in std::iter::once(&k.swept).chain(k.params) {
                assert!(
                    d.contains(p.name) && d.contains(p.doc),
                    "{}.{}",
                    k.name,
                    p.name
                );
            }
            assert!(d.contains(k.source));
            // The example must validate.
            let example = d.split("example:\n").nth(1).unwrap();
            let text = format!(
                "duration = \"1h\"\n[heartbeat]\ninterval = \"100ms\"\n[network]\n\
                 latency = {{ dist = \"constant\", value = \"1ms\" }}\n{}",
                example.replace("\n  ", "\n")
            );
            crate::scenario::Scenario::parse(std::path::Path::new("x.toml"), &text)
                .unwrap_or_else(|e| panic!("{}: {e}\n{text}", k.name));
        }
    }

    #[test]
    fn preset_pages_list_every_value_and_their_examples_validate() {
        let c = preset_catalogue();
        for p in presets() {
            assert!(c.contains(&format!("  {} ({})", p.name, p.kind)), "{c}");
            assert!(c.contains(p.source), "{}", p.name);
            let d = preset_detail(p);
            assert!(d.contains(p.note) && d.contains(p.source), "{d}");
            for (name, _) in p.values {
                assert!(
                    d.contains(&format!("  {name} = ")),
                    "{}.{name}\n{d}",
                    p.name
                );
            }
            let example = d.split("example:\n").nth(1).unwrap();
            let example = example.split("\nthe ").next().unwrap();
            let text = format!(
                "duration = \"1h\"\n[heartbeat]\ninterval = \"100ms\"\n[network]\n\
                 latency = {{ dist = \"constant\", value = \"1ms\" }}\n{}",
                example.replace("\n  ", "\n")
            );
            let sc = crate::scenario::Scenario::parse(std::path::Path::new("x.toml"), &text)
                .unwrap_or_else(|e| panic!("{}: {e}\n{text}", p.name));
            assert_eq!(
                sc.detectors.len(),
                2,
                "{}: the example sweeps too\n{text}",
                p.name
            );
            assert_eq!(sc.detectors[1].values.len(), 3, "{}", p.name);
        }
    }
}
