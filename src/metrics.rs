//! Scoring: Chen, Toueg and Aguilera's QoS metrics, computed exactly from
//! the arrival stream and the ground truth, and their aggregation; and the
//! cluster metrics of membership protocols.

pub mod attribution;
pub mod cluster;
pub mod curve;
pub mod decisions;
pub mod interval;
pub mod pooled;
pub mod qos;
pub mod radix;
pub mod summary;
pub mod survival;

pub use attribution::{Cause, FaultWindows, LiveWindows, MistakeCauses, Windows};
pub use qos::{
    score, score_detector, score_detector_attributed, DetectorScorer, PairSetting, RunQos,
    ScoreInput,
};
pub use summary::{percentile, Summary};
pub use survival::KaplanMeier;
