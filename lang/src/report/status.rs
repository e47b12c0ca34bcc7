//! The closed sets of words a report states: how a risk is treated and
//! whether an exception is in force. Each serialises, and prints, as the
//! word `aims-report/1` has always used.

use std::fmt;

use serde::Serialize;

/// How a risk's entry is treated by the controls named in `treated_by`.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Treatment {
    /// The risk names no treating control.
    None,
    /// Every treating control passes (or is waived) for the entity.
    Effective,
    /// A treating control fails for the entity.
    NotEffective,
}

impl Treatment {
    /// The treatment of an entry: `treated` when the risk names treating
    /// controls, `effective` when they hold for the entity.
    pub fn of(treated: bool, effective: bool) -> Treatment {
        match (treated, effective) {
            (false, _) => Treatment::None,
            (true, true) => Treatment::Effective,
            (true, false) => Treatment::NotEffective,
        }
    }

    /// The word the report uses: `none`, `effective`, `not_effective`.
    pub fn as_str(self) -> &'static str {
        match self {
            Treatment::None => "none",
            Treatment::Effective => "effective",
            Treatment::NotEffective => "not_effective",
        }
    }
}

impl fmt::Display for Treatment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an exception waives its rule on the evaluation date.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionStatus {
    /// In force: its `until` date has not passed.
    Active,
    /// Its `until` date has passed: it waives nothing.
    Expired,
}

impl ExceptionStatus {
    /// The word the report uses: `active` or `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionStatus::Active => "active",
            ExceptionStatus::Expired => "expired",
        }
    }
}

impl fmt::Display for ExceptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value as JSON.
    fn json<T: Serialize>(value: &T) -> String {
        serde_json::to_string(value).unwrap_or_default()
    }

    #[test]
    fn statuses_serialise_as_the_words_of_the_report() {
        assert_eq!(json(&Treatment::of(false, true)), "\"none\"");
        assert_eq!(json(&Treatment::of(true, true)), "\"effective\"");
        assert_eq!(json(&Treatment::of(true, false)), "\"not_effective\"");
        assert_eq!(json(&ExceptionStatus::Active), "\"active\"");
        assert_eq!(json(&ExceptionStatus::Expired), "\"expired\"");
        for t in [Treatment::None, Treatment::Effective, Treatment::NotEffective] {
            assert_eq!(json(&t), format!("\"{t}\""));
        }
    }
}
