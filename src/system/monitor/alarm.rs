//! Threshold crossings that are reported once when raised and once when cleared,
//! not on every sample.

/// A change worth one log line.
#[derive(Debug, PartialEq)]
pub enum Change {
    Raised(f64),
    Cleared(f64),
}

/// Remembers whether one resource is above its threshold.
#[derive(Debug)]
pub struct Alarm {
    pub name: &'static str,
    pub threshold: f64,
    raised: bool,
}

impl Alarm {
    pub fn new(name: &'static str, threshold: f64) -> Self {
        Self {
            name,
            threshold,
            raised: false,
        }
    }

    /// Feeds one reading; an unknown value (`None`) changes nothing.
    pub fn update(&mut self, value: Option<f64>) -> Option<Change> {
        let value = value?;
        let above = value >= self.threshold;
        if above == self.raised {
            return None;
        }
        self.raised = above;
        Some(if above {
            Change::Raised(value)
        } else {
            Change::Cleared(value)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_each_crossing_once() {
        let mut a = Alarm::new("disk", 90.0);
        assert_eq!(a.update(Some(50.0)), None);
        assert_eq!(a.update(Some(95.0)), Some(Change::Raised(95.0)));
        assert_eq!(a.update(Some(97.0)), None, "still high: no second warning");
        assert_eq!(a.update(None), None, "a missing reading keeps the state");
        assert!(a.raised);
        assert_eq!(a.update(Some(80.0)), Some(Change::Cleared(80.0)));
        assert_eq!(a.update(Some(70.0)), None);
    }
}
