//! "Did you mean …?": the one way a diagnostic suggests the name (or key)
//! closest to one that was not found.
//!
//! The candidate is chosen by [`closest`] (edit distance, case ignored);
//! the help reads "did you mean `x`?" for names, and quotes fact keys the
//! way the user wrote them.

use super::{closest, Diagnostic, FileSpan, Fix};

/// How a suggestion is quoted in its help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quote {
    /// A name of the language, in backticks: "did you mean `x`?".
    Code,
    /// A fact's key as it appears in the facts: "did you mean "x"?".
    Text,
    /// A key as a text literal of the REPL, escaped: "did you mean "a\"b"?".
    Literal,
}

impl Quote {
    /// The help that suggests `candidate`.
    pub fn did_you_mean(self, candidate: &str) -> String {
        match self {
            Quote::Code => format!("did you mean `{candidate}`?"),
            Quote::Text => format!("did you mean \"{candidate}\"?"),
            Quote::Literal => format!("did you mean {candidate:?}?"),
        }
    }
}

/// The help that suggests the candidate closest to `name`, if one is close
/// enough.
pub fn did_you_mean<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>, quote: Quote) -> Option<String> {
    closest(name, candidates).map(|c| quote.did_you_mean(c))
}

impl Diagnostic {
    /// Suggests the candidate closest to `name` as the help, if one is
    /// close enough (the help is left as it was otherwise).
    pub fn suggest<'c>(
        mut self,
        name: &str,
        candidates: impl IntoIterator<Item = &'c str>,
        quote: Quote,
    ) -> Diagnostic {
        self.set_suggestion(name, candidates, quote);
        self
    }

    /// [`Diagnostic::suggest`], with `otherwise` as the help when no
    /// candidate is close enough.
    pub fn suggest_or<'c>(
        mut self,
        name: &str,
        candidates: impl IntoIterator<Item = &'c str>,
        quote: Quote,
        otherwise: impl Into<String>,
    ) -> Diagnostic {
        if self.set_suggestion(name, candidates, quote).is_none() {
            self.help = Some(otherwise.into());
        }
        self
    }

    /// Sets the help to the suggestion, if a candidate is close enough to
    /// `name`, and returns that candidate.
    pub fn set_suggestion<'c>(
        &mut self,
        name: &str,
        candidates: impl IntoIterator<Item = &'c str>,
        quote: Quote,
    ) -> Option<&'c str> {
        let candidate = closest(name, candidates)?;
        self.help = Some(quote.did_you_mean(candidate));
        Some(candidate)
    }

    /// [`Diagnostic::set_suggestion`] for a name in code, with a fix that
    /// replaces `at` by the candidate (an editor's quick fix).
    pub fn set_suggestion_with_fix<'c>(
        &mut self,
        name: &str,
        candidates: impl IntoIterator<Item = &'c str>,
        at: FileSpan,
    ) -> Option<&'c str> {
        let candidate = self.set_suggestion(name, candidates, Quote::Code)?;
        self.fix = Some(Fix { title: format!("replace with `{candidate}`"), at, replacement: candidate.to_string() });
        Some(candidate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;

    #[test]
    fn a_suggestion_is_quoted_as_asked() {
        let names = ["high", "low"];
        let d = Diagnostic::error(Code::UnknownName, "x").suggest("hihg", names, Quote::Code);
        assert_eq!(d.help.as_deref(), Some("did you mean `high`?"));
        let d = Diagnostic::error(Code::UnknownName, "x").suggest("hihg", names, Quote::Text);
        assert_eq!(d.help.as_deref(), Some("did you mean \"high\"?"));
        assert_eq!(Quote::Literal.did_you_mean("a\"b"), "did you mean \"a\\\"b\"?");
    }

    #[test]
    fn without_a_close_candidate_the_help_is_the_alternative_or_unset() {
        let names = ["high", "low"];
        assert_eq!(Diagnostic::error(Code::UnknownName, "x").suggest("zzz", names, Quote::Code).help, None);
        let d = Diagnostic::error(Code::UnknownName, "x").suggest_or(
            "zzz",
            names,
            Quote::Code,
            "the levels are: high, low",
        );
        assert_eq!(d.help.as_deref(), Some("the levels are: high, low"));
        assert_eq!(did_you_mean("hihg", names, Quote::Code).as_deref(), Some("did you mean `high`?"));
    }

    #[test]
    fn a_suggestion_in_code_comes_with_its_fix() {
        let mut d = Diagnostic::error(Code::UnknownName, "x");
        let at = FileSpan { file: crate::diag::FileId(0), span: Default::default() };
        assert_eq!(d.set_suggestion_with_fix("hihg", ["high"], at), Some("high"));
        assert_eq!(d.fix.map(|f| (f.title, f.replacement)), Some(("replace with `high`".into(), "high".into())));
    }
}
