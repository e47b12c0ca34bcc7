//! Whether a run of fact keys is in the order findings list them: found
//! while the keys are made (each key is then compared with the one before
//! it, both in cache), so that the first evaluation need not read every
//! key again to learn that the facts came in key order.

use std::cmp::Ordering;

use crate::eval::cmp_keys;

/// Whether a run of keys is strictly ascending as text and as numbers
/// (the two orders of [`cmp_keys`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ascending {
    /// Each key before the next as text.
    pub text: bool,
    /// Each key before the next as numbers (`Int` keys: 9 before 10).
    pub numeric: bool,
}

impl Default for Ascending {
    /// No key, or one: ascending either way.
    fn default() -> Ascending {
        Ascending { text: true, numeric: true }
    }
}

impl Ascending {
    /// The order of `keys`.
    pub fn of<K: AsRef<str>>(keys: &[K]) -> Ascending {
        keys.windows(2).fold(Ascending::default(), |run, pair| run.then(pair[0].as_ref(), pair[1].as_ref()))
    }

    /// The run extended by `next`, the key after `last`.
    pub fn then(self, last: &str, next: &str) -> Ascending {
        Ascending {
            text: self.text && last < next,
            numeric: self.numeric && cmp_keys(true, last, next) == Ordering::Less,
        }
    }

    /// Whether the run is ascending in the order `numeric` names.
    pub fn holds(self, numeric: bool) -> bool {
        if numeric {
            self.numeric
        } else {
            self.text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_ascending_when_every_neighbour_is() {
        assert_eq!(Ascending::of(&["a", "b", "c"]), Ascending { text: true, numeric: true });
        // "10" after "9" as numbers, not as text.
        assert_eq!(Ascending::of(&["8", "9", "10"]), Ascending { text: false, numeric: true });
        assert_eq!(Ascending::of(&["10", "9"]), Ascending { text: true, numeric: false });
        // A repeated key is not strictly ascending.
        assert_eq!(Ascending::of(&["a", "a"]), Ascending { text: false, numeric: false });
        assert_eq!(Ascending::of::<&str>(&[]), Ascending::default());
        // Extending a run keeps what broke it broken.
        let broken = Ascending::of(&["b", "a"]);
        assert!(!broken.then("a", "c").text);
        assert!(Ascending::of(&["8", "9", "10"]).holds(true) && !Ascending::of(&["8", "9", "10"]).holds(false));
    }
}
