//! Message loss on a link: independent, or bursty after Gilbert and
//! Elliott.

use crate::sim::rng::Stream;
use crate::sim::time::Nanos;
use std::fmt;

/// How a link loses messages.
#[derive(Clone, Debug, PartialEq)]
pub enum Loss {
    /// Each message is lost with this probability, independently.
    Independent(f64),
    /// A two-state Markov chain decides the loss probability.
    GilbertElliott(GilbertElliott),
}

/// The packet-level Gilbert–Elliott model: a link is in a *good* or a
/// *bad* state; the state steps once per message that enters the link, and
/// the message is then lost with the loss probability of the new state.
///
/// With π_B = p_gb / (p_gb + p_bg) the stationary probability of the bad
/// state, the long-run loss rate is π_B·`loss_bad` + (1 − π_B)·`loss_good`,
/// and a stay in the bad state lasts 1/p_bg messages on average
/// (geometrically distributed). With `loss_good` = 0 and `loss_bad` = 1
/// (Gilbert's original model) a run of consecutive losses is exactly a
/// stay in the bad state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GilbertElliott {
    /// Probability of moving from good to bad at a message, p_gb.
    pub p_good_to_bad: f64,
    /// Probability of moving from bad to good at a message, p_bg; must be
    /// positive, or a bad state would last forever.
    pub p_bad_to_good: f64,
    /// Loss probability in the good state.
    pub loss_good: f64,
    /// Loss probability in the bad state.
    pub loss_bad: f64,
}

impl GilbertElliott {
    /// π_B, the long-run fraction of messages that find the link bad.
    pub fn stationary_bad(&self) -> f64 {
        let total = self.p_good_to_bad + self.p_bad_to_good;
        if total > 0.0 {
            self.p_good_to_bad / total
        } else {
            0.0
        }
    }

    /// The long-run loss rate, π_B·`loss_bad` + π_G·`loss_good`.
    pub fn stationary_loss(&self) -> f64 {
        let bad = self.stationary_bad();
        bad * self.loss_bad + (1.0 - bad) * self.loss_good
    }

    /// Mean length of a stay in the bad state, in messages: 1/p_bg.
    pub fn mean_burst(&self) -> f64 {
        1.0 / self.p_bad_to_good
    }
}

impl Loss {
    /// No loss at all.
    pub const NONE: Loss = Loss::Independent(0.0);

    /// The long-run fraction of messages lost.
    pub fn mean(&self) -> f64 {
        match self {
            Loss::Independent(p) => *p,
            Loss::GilbertElliott(ge) => ge.stationary_loss(),
        }
    }

    /// The state a new link starts in (`true` = bad): drawn from the
    /// stationary distribution, one draw, for a Gilbert–Elliott link (so
    /// the loss process is stationary from the first message); no draw and
    /// `false` for independent loss.
    pub(crate) fn initial_state(&self, rng: &mut Stream) -> bool {
        match self {
            Loss::Independent(_) => false,
            Loss::GilbertElliott(ge) => rng.bernoulli(ge.stationary_bad()),
        }
    }

    /// Decides whether one message is lost, stepping the chain first.
    /// Draws: independent, one (none if the probability is 0 or 1);
    /// Gilbert–Elliott, one for the step and one for the loss (again none
    /// for a probability of 0 or 1).
    #[inline]
    pub(crate) fn lose(&self, bad: &mut bool, rng: &mut Stream) -> bool {
        match self {
            Loss::Independent(p) => rng.bernoulli(*p),
            Loss::GilbertElliott(ge) => {
                let flip = if *bad {
                    ge.p_bad_to_good
                } else {
                    ge.p_good_to_bad
                };
                if rng.bernoulli(flip) {
                    *bad = !*bad;
                }
                rng.bernoulli(if *bad { ge.loss_bad } else { ge.loss_good })
            }
        }
    }
}

/// The bad-state periods of one link as its messages saw them, recorded
/// for attributing false suspicions to loss bursts. A period runs from the
/// send time of the first message that found the link bad to just after
/// the last message of the same stay, `[first, last + 1 ns)`: exactly the
/// send times of the messages sent into the burst. Recording costs one
/// comparison per message and one entry per burst; a link with
/// independent loss is never bad and records nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BadPeriods {
    closed: Vec<(Nanos, Nanos)>,
    /// The stay in progress: send times of its first and last message.
    open: Option<(Nanos, Nanos)>,
}

impl BadPeriods {
    /// Notes the state a message sent at `now` found the link in.
    pub(crate) fn note(&mut self, bad: bool, now: Nanos) {
        match (&mut self.open, bad) {
            (Some((_, last)), true) => *last = now,
            (None, true) => self.open = Some((now, now)),
            (Some((first, last)), false) => {
                self.closed.push((*first, *last + Nanos(1)));
                self.open = None;
            }
            (None, false) => {}
        }
    }

    /// Takes the finished periods noted so far, in time order, keeping
    /// only the one in progress (a streaming consumer's way to keep this
    /// from growing with the run).
    pub fn take_closed(&mut self) -> Vec<(Nanos, Nanos)> {
        std::mem::take(&mut self.closed)
    }

    /// The period in progress, as far as it has gone.
    pub fn in_progress(&self) -> Option<(Nanos, Nanos)> {
        self.open.map(|(first, last)| (first, last + Nanos(1)))
    }

    /// The periods so far, in time order, the one in progress included.
    pub fn periods(&self) -> impl Iterator<Item = (Nanos, Nanos)> + '_ {
        let open = self.open.map(|(first, last)| (first, last + Nanos(1)));
        self.closed.iter().copied().chain(open)
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loss::Independent(p) => write!(f, "{p}"),
            Loss::GilbertElliott(ge) => write!(
                f,
                "{:.4} in bursts (Gilbert–Elliott: good→bad {}, bad→good {}, loss {} good / {} bad; mean burst {:.2} messages)",
                ge.stationary_loss(),
                ge.p_good_to_bad,
                ge.p_bad_to_good,
                ge.loss_good,
                ge.loss_bad,
                ge.mean_burst()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stationary_figures_follow_from_the_transition_probabilities() {
        let ge = GilbertElliott {
            p_good_to_bad: 0.01,
            p_bad_to_good: 0.19,
            loss_good: 0.0,
            loss_bad: 1.0,
        };
        assert!((ge.stationary_bad() - 0.05).abs() < 1e-15);
        assert!((ge.stationary_loss() - 0.05).abs() < 1e-15);
        assert!((ge.mean_burst() - 1.0 / 0.19).abs() < 1e-12);
        let mixed = GilbertElliott {
            loss_good: 0.01,
            loss_bad: 0.5,
            ..ge
        };
        assert!((mixed.stationary_loss() - (0.05 * 0.5 + 0.95 * 0.01)).abs() < 1e-15);
    }

    #[test]
    fn bad_periods_cover_the_send_times_of_the_messages_that_found_the_link_bad() {
        let mut p = BadPeriods::default();
        for (t, bad) in [(0, false), (10, true), (20, true), (30, false), (40, true)] {
            p.note(bad, Nanos(t));
        }
        let got: Vec<_> = p.periods().collect();
        assert_eq!(got, vec![(Nanos(10), Nanos(21)), (Nanos(40), Nanos(41))]);
    }

    #[test]
    fn a_link_that_never_turns_bad_loses_at_the_good_rate_only() {
        let ge = Loss::GilbertElliott(GilbertElliott {
            p_good_to_bad: 0.0,
            p_bad_to_good: 1.0,
            loss_good: 0.0,
            loss_bad: 1.0,
        });
        let mut rng = Stream::new(1, "ge");
        let mut bad = ge.initial_state(&mut rng);
        assert!(!bad);
        assert!((0..10_000).all(|_| !ge.lose(&mut bad, &mut rng)));
    }
}
